"""Typed operations (operations.py): the spec dicts earlier gateways stored in `jobs.request` load
as the same operations and dump back to the same JSON, and a queued job written by an earlier
gateway straight into the database (SQLite and PostgreSQL) runs on this one and gives the same
result as the same request made today."""

from __future__ import annotations

import uuid

import pytest
from conftest import ADMIN_KEY, make_png, make_wav
from test_jobs import wait_job

from gateway.auth import hash_key
from gateway.db import Job, make_engine, make_sessionmaker, utcnow
from gateway.errors import ApiError
from gateway.operations import (DocqaIngest, Generic, OpenAITranscription, OpenAITranslation, Statement, Transcription,
                                Translation, TranslationDocument, dump_operation, load_operation, reformat)

# exactly as the routers of the previous gateway built them (`spec = {...}`), None values included
PREVIOUS_SPECS = [
    (Transcription, {"op": "transcription", "route": "audio", "format": "srt", "options": {
        "language": None, "task": "transcribe", "word_timestamps": None, "vad_filter": None, "beam_size": None,
        "initial_prompt": None, "temperature": None, "batched": None}}),
    (Transcription, {"op": "transcription", "route": "audio", "format": "verbose_json", "options": {
        "language": "de", "task": "translate", "word_timestamps": True, "vad_filter": False, "beam_size": 3,
        "initial_prompt": "Hallo", "temperature": 0.2, "batched": True}}),
    (OpenAITranscription, {"op": "openai_transcription", "route": "audio", "format": "json", "options": {
        "language": "en", "task": "transcribe", "initial_prompt": None, "temperature": None,
        "word_timestamps": True}}),
    (OpenAITranslation, {"op": "openai_translation", "route": "audio", "format": "text", "options": {
        "task": "translate", "initial_prompt": "x", "temperature": 0.0}}),
    (Statement, {"op": "statement", "route": "vlm", "format": "csv", "options": {
        "password": "s3cret", "locale": "de-DE", "date_order": "DMY"}}),
    (Translation, {"op": "translation", "route": "translation", "body": {
        "text": ["Hello", "World"], "target": "de", "glossary": {"GPU": "GPU"}}}),
    (TranslationDocument, {"op": "translation_document", "route": "translation", "format": "json", "options": {
        "source": "auto", "target": "fr", "glossary": ["Kubernetes"], "filename": "notes.md"}}),
    (DocqaIngest, {"op": "docqa_ingest", "route": "document-qa", "owner": "k_123", "filename": "a.pdf",
                   "content_type": "application/pdf"}),
    (Generic, {"op": "generic", "route": "echo", "body": {"a": 1, "nested": {"b": [1, None, "x"]}}}),
]


@pytest.mark.parametrize("cls,stored", PREVIOUS_SPECS, ids=[s["op"] for _, s in PREVIOUS_SPECS])
def test_previous_specs_load_as_typed_operations_and_dump_unchanged(cls, stored):
    op = load_operation(stored)
    assert type(op) is cls and op.route == stored["route"]
    assert dump_operation(op) == stored  # the same JSON shape: old and new rows are interchangeable
    assert load_operation(dump_operation(op)) == op


def test_upstream_options_leave_unset_ones_out():
    op = load_operation(PREVIOUS_SPECS[0][1])
    assert op.options.upstream() == {"task": "transcribe"}
    assert load_operation(PREVIOUS_SPECS[4][1]).options.upstream() == {
        "password": "s3cret", "locale": "de-DE", "date_order": "DMY"}


@pytest.mark.parametrize("stored,where", [
    ({"op": "transcode", "route": "audio"}, "transcode"),  # an op this gateway does not know
    ({"op": "statement", "options": {}}, "route"),
    ({"op": "statement", "route": "vlm", "format": "xlsx"}, "format"),
    ({"op": "transcription", "route": "audio", "options": {"speed": 2}}, "speed"),
    (None, "operation"),
])
def test_an_unreadable_stored_operation_is_a_clear_error(stored, where):
    with pytest.raises(ApiError) as err:
        load_operation(stored)
    assert err.value.code == "invalid_operation" and where in err.value.message


def test_reformat_follows_the_operation():
    stmt = load_operation({"op": "statement", "route": "vlm", "format": "json", "options": {}})
    result = {"transactions": [{"date": "2024-01-02", "description": "=HYPERLINK(1)", "amount": "-1.00"}]}
    csv = reformat(stmt, result, "csv")
    assert csv.media_type.startswith("text/csv") and "'=HYPERLINK(1)" in csv.content
    assert reformat(stmt, result, "json") is None  # the stored format itself
    with pytest.raises(ApiError) as err:
        reformat(stmt, result, "srt")
    assert err.value.status == 422 and "json, csv" in err.value.message
    text_job = load_operation({"op": "transcription", "route": "audio", "format": "text"})
    with pytest.raises(ApiError) as err:
        reformat(text_job, "hello\n", "srt")
    assert err.value.status == 409 and err.value.code == "format_unavailable"


def _insert_previous_job(gateway, spec: dict, upload: bytes | None, filename: str | None) -> str:
    """A queued job row as the previous gateway wrote it (its `request` the spec dict)."""
    job_id = uuid.uuid4().hex
    upload_path = None
    if upload is not None:
        d = gateway.data_dir / "uploads" / job_id
        d.mkdir(mode=0o700, parents=True)
        (d / "upload.bin").write_bytes(upload)
        upload_path = str(d / "upload.bin")
    engine = make_engine(gateway.db_url)
    try:
        with make_sessionmaker(engine).begin() as s:
            now = utcnow()
            s.add(Job(id=job_id, key_id="env_" + hash_key(ADMIN_KEY)[:10], kind=spec.pop("_kind"),
                      route=spec["route"], state="queued", created_at=now, updated_at=now, progress=0.0,
                      filename=filename, upload_path=upload_path, request=spec, attempts=0, request_id="old-1"))
    finally:
        engine.dispose()
    return job_id


def test_jobs_stored_by_the_previous_gateway_run_with_todays_results(gateway):
    wav, png = make_wav(0.2), make_png()
    srt = {"_kind": "transcription", **PREVIOUS_SPECS[0][1]}
    csv = {"_kind": "statement-extraction", **PREVIOUS_SPECS[4][1],
           "options": {"password": None, "locale": None, "date_order": None}}
    echo = {"_kind": "custom", **PREVIOUS_SPECS[-1][1]}
    ids = [_insert_previous_job(gateway, srt, wav, "talk.wav"), _insert_previous_job(gateway, csv, png, "s.png"),
           _insert_previous_job(gateway, echo, None, None)]
    with gateway.client() as c:
        now_srt = c.post("/api/v1/transcriptions", files={"file": ("talk.wav", wav, "audio/wav")},
                         data={"response_format": "srt"})
        now_csv = c.post("/api/v1/statements", files={"file": ("s.png", png, "image/png")}, data={"format": "csv"})
        now_echo = c.post("/api/v1/echo", json=PREVIOUS_SPECS[-1][1]["body"])
        done = [wait_job(c, i) for i in ids]
        results = [c.get(f"/api/v1/jobs/{i}/result") for i in ids]
    assert [d["state"] for d in done] == ["succeeded"] * 3, done
    assert results[0].headers["content-type"].startswith("application/x-subrip")
    assert results[0].text == now_srt.text and now_srt.text.startswith("1\n00:00:00,000 --> ")
    assert results[1].headers["content-type"].startswith("text/csv") and results[1].content == now_csv.content
    assert results[2].json() == now_echo.json()
    assert not any((gateway.data_dir / "uploads" / i).exists() for i in ids)


def test_a_stored_operation_this_gateway_cannot_read_fails_the_job_clearly(gateway):
    job_id = _insert_previous_job(gateway, {"_kind": "custom", "op": "transcode", "route": "echo"}, None, None)
    with gateway.client() as c:
        job = wait_job(c, job_id)
        assert c.get("/api/v1/jobs").status_code == 200  # the gateway keeps serving
    assert job["state"] == "failed" and job["error"]["code"] == "invalid_operation"
    assert "transcode" in job["error"]["message"]
