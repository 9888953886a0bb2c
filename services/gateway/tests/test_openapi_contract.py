"""The OpenAPI document is the gateway's whole contract: committed (tests/contracts/
gateway-openapi.json, which the web UI's types are generated from), every route declares each
answer it gives, and what the running gateway sends validates against it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
from conftest import make_png, make_wav
from test_jobs import read_events, wait_job

from gateway import openapi
from gateway.app import create_app
from gateway.settings import Settings

CONTRACTS = Path(__file__).resolve().parents[3] / "tests" / "contracts"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi")))


@pytest.fixture(scope="module")
def document(app) -> dict:
    return app.openapi()


def validator(document: dict, name: str):
    """A validator of one component schema, its `$ref`s resolved inside the document."""
    assert name in document["components"]["schemas"], f"{name} is not in the OpenAPI document"
    return jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                               "components": document["components"]})


def test_committed_document_is_the_apps(app):
    committed = (CONTRACTS / "gateway-openapi.json").read_text(encoding="utf-8")
    assert committed == openapi.dump(app), (
        "tests/contracts/gateway-openapi.json is stale: run `make api-types` and commit it "
        "(with services/web-frontend/src/lib/api.gen.ts)")


def test_every_route_documents_its_answers(document):
    operations = [(f"{m.upper()} {path}", op) for path, ops in document["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 25
    for where, op in operations:
        ok = [c for c in op["responses"] if c.startswith("2")]
        assert ok, f"{where}: no success answer documented"
        for code in ok:
            content = op["responses"][code].get("content", {})
            if code == "204":
                assert not content, where
                continue
            assert content, f"{where} {code}: no media type documented"
            for media, entry in content.items():
                assert entry.get("schema") or media.startswith("image/"), f"{where} {code} {media}: no schema"
        for code, answer in op["responses"].items():
            if code[0] in "45":  # the error body is ErrorOut everywhere (errors.py), never FastAPI's
                assert answer["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorOut"}, f"{where} {code}"


def test_the_models_the_issue_names_are_in_the_document(document):
    for name in ("JobOut", "JobDetail", "JobAccepted", "JobList", "JobEventOut", "ServiceOut", "ServicesOut",
                 "StatementResult", "TranscriptionResult", "VerboseTranscription", "TranslationResult",
                 "AnswerOut", "LiveTokenOut", "HealthOut", "ErrorOut"):
        validator(document, name)  # asserts presence; refs resolve
    events = document["paths"]["/api/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    assert events["text/event-stream"]["schema"]["contentSchema"] == {"$ref": "#/components/schemas/JobEventOut"}
    statements = document["paths"]["/api/v1/statements"]["post"]["responses"]
    assert statements["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StatementResult"}
    assert "text/csv" in statements["200"]["content"]
    assert statements["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/JobAccepted"}


def test_the_running_gateway_answers_what_the_document_says(gateway_sqlite, document):
    """Jobs (accepted, listed, detailed, their events), services, me, health and a live token
    from the real gateway process validate against the document's schemas."""
    def check(name: str, doc) -> None:
        errors = [f"{e.instance_path}: {e.message}" for e in validator(document, name).iter_errors(doc)]
        assert not errors, f"{name}: {errors[:5]}"

    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("talk.wav", make_wav(0.2), "audio/wav")},
                   params={"async": "true"})
        assert r.status_code == 202, r.text
        check("JobAccepted", r.json())
        done = wait_job(c, r.json()["job"]["id"])
        assert done["state"] == "succeeded", done
        check("JobDetail", done)
        check("TranscriptionResult", done["result"])
        events = read_events(c, done["id"])
        assert [e["event"] for e in events][-1] == "succeeded"
        for e in events:
            check("JobEventOut", e["data"])
        r = c.post("/api/v1/statements", files={"file": ("s.png", make_png(), "image/png")})
        assert r.status_code == 200, r.text
        r = c.post("/api/v1/echo", json={"x": 1}, params={"async": "true"})
        assert r.status_code == 202, r.text
        check("JobDetail", wait_job(c, r.json()["job"]["id"]))
        listed = c.get("/api/v1/jobs").json()
        assert len(listed["jobs"]) >= 2
        check("JobList", listed)
        check("ServicesOut", c.get("/api/v1/services").json())
        check("MeOut", c.get("/api/v1/me").json())
        check("HealthOut", c.get("/api/v1/health").json())
        check("LiveTokenOut", c.post("/api/v1/live-tokens", json={"resource": "transcriptions"}).json())
        check("ErrorOut", c.get("/api/v1/jobs/nope").json())
        check("ErrorOut", c.get("/api/v1/jobs", params={"limit": 0}).json())
    with gateway_sqlite.client(key="not-a-key") as c:
        check("ErrorOut", c.get("/api/v1/me").json())


def test_job_json_is_unchanged_by_the_models(gateway_sqlite):
    """JobOut/JobDetail replaced hand-written dicts: same keys, same order, nulls kept in lists."""
    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", make_wav(0.2), "audio/wav")},
                   params={"async": "true"})
        job = r.json()["job"]
        assert list(job) == ["id", "kind", "route", "state", "created_at", "updated_at", "progress", "filename",
                             "attempts"]
        assert job["state"] == "queued" and job["filename"] == "a.wav" and job["created_at"].endswith("Z")
        done = wait_job(c, job["id"])
        assert list(done) == [*list(job), "result", "result_media_type"]
        assert done["result_media_type"] == "application/json"
        raw = c.get(f"/api/v1/jobs/{job['id']}/result").json()
        assert raw == done["result"]
        assert json.loads(c.get("/api/v1/jobs").text)["jobs"][0].keys() == job.keys()
