"""Route-table entries and merging into the gateway's shared ConfigMap."""

import json
import os
from pathlib import Path
from typing import get_args

import jsonschema

import pytest
import yaml
from conftest import EXAMPLES
from k8s_schemas import validate

from platform_operator.config import OperatorConfig
from platform_operator.dryrun import render_documents
from platform_operator.models import AIServiceSpec, Task
from platform_operator.routes import (
    RouteConflict,
    dump_table,
    merge_route,
    parse_table,
    remove_route,
    route_entry,
    routes_configmap,
)


def entry(name, task, ns="ai-platform", **route):
    return route_entry(name, ns, AIServiceSpec.model_validate({"task": task, "image": "i", "route": route}))


SCHEMA = json.loads((Path(__file__).resolve().parents[3] / "tests" / "contracts" / "route-table.schema.json")
                    .read_text(encoding="utf-8"))


def valid_table(routes: list[dict]) -> None:
    """Validate routes against the gateway's route-table schema (generated from its model)."""
    jsonschema.validate({"routes": routes}, SCHEMA)


def test_every_task_renders_a_route_the_gateway_accepts():
    tasks = list(get_args(Task))
    assert tasks == SCHEMA["$defs"]["Route"]["properties"]["kind"]["enum"], "task list and route kinds differ"
    valid_table([entry("my-svc", task) for task in tasks])
    valid_table([entry("vlm", "statement-extraction", resource="bank-statements", scopes=["statements", "admin"],
                       protocol="v2", timeoutSeconds=900, maxUploadMB=75, maxConcurrency=2)])


def test_transcription_entry_has_the_tasks_defaults():
    e = entry("audio", "transcription")
    assert (e["resource"], e["path"], e["model"], e["protocol"], e["scopes"], e["timeout_s"], e["max_upload_mb"]) == \
        ("transcriptions", "/api/v1/transcriptions", "audio", "v1", ["transcriptions"], 300, 100)
    assert e["upstream"] == "http://audio-predictor.ai-platform.svc.cluster.local"


def test_a_drifted_entry_fails_the_contract():
    bad = {**entry("audio", "transcription"), "timeoutSeconds": 300}
    with pytest.raises(jsonschema.ValidationError):
        valid_table([bad])


@pytest.mark.parametrize("task,resource,model", [
    ("statement-extraction", "statements", "vlm"), ("document-qa", "documents", "document-qa"),
    ("translation", "translations", "translation"), ("custom", "my-svc", "my-svc")])
def test_task_defaults(task, resource, model):
    e = entry("my-svc", task)
    assert (e["kind"], e["resource"], e["path"], e["model"]) == (task, resource, f"/api/v1/{resource}", model)


def test_route_options_override_defaults():
    e = entry("vlm", "statement-extraction", resource="bank-statements", scopes=["statements", "admin"],
              protocol="v2", timeoutSeconds=900, maxUploadMB=75, maxConcurrency=2)
    assert (e["path"], e["scopes"], e["protocol"], e["timeout_s"], e["max_upload_mb"], e["max_concurrency"]) == \
        ("/api/v1/bank-statements", ["statements", "admin"], "v2", 900, 75, 2)


def test_merge_keeps_others_replaces_own_and_sorts():
    table = {"routes": []}
    for name, task in [("vlm", "statement-extraction"), ("audio", "transcription"), ("translation", "translation")]:
        table = merge_route(table, entry(name, task))
    assert [r["name"] for r in table["routes"]] == ["audio", "translation", "vlm"]
    updated = merge_route(table, entry("audio", "transcription", timeoutSeconds=30))
    assert [r["name"] for r in updated["routes"]] == ["audio", "translation", "vlm"]
    assert updated["routes"][0]["timeout_s"] == 30
    assert updated["routes"][1:] == table["routes"][1:]


def test_merge_keeps_unknown_top_level_keys_and_foreign_routes():
    table = {"version": 2, "routes": [{"name": "static", "path": "/api/v1/static", "upstream": "http://x"}]}
    merged = merge_route(table, entry("audio", "transcription"))
    assert merged["version"] == 2 and [r["name"] for r in merged["routes"]] == ["audio", "static"]


def test_merge_is_idempotent_and_order_independent():
    a, b = entry("a-svc", "custom"), entry("b-svc", "custom")
    one = merge_route(merge_route({"routes": []}, a), b)
    two = merge_route(merge_route({"routes": []}, b), a)
    assert one == two == merge_route(one, a)
    assert dump_table(one) == dump_table(two)


def test_path_conflict_is_refused():
    table = merge_route({"routes": []}, entry("audio", "transcription"))
    with pytest.raises(RouteConflict, match="/api/v1/transcriptions"):
        merge_route(table, entry("audio-2", "transcription"))


def test_same_name_from_another_namespace_is_refused():
    table = merge_route({"routes": []}, entry("audio", "transcription"))
    with pytest.raises(RouteConflict, match="taken"):
        merge_route(table, entry("audio", "transcription", ns="team-b"))


def test_remove_drops_only_the_named_route():
    table = merge_route(merge_route({"routes": []}, entry("audio", "transcription")), entry("vlm", "custom"))
    assert [r["name"] for r in remove_route(table, "audio")["routes"]] == ["vlm"]
    assert remove_route(table, "missing") == table
    other_ns = "http://audio-predictor.team-b.svc.cluster.local"
    assert remove_route(table, "audio", other_ns) == table


def test_parse_handles_empty_and_rejects_garbage():
    assert parse_table(None) == {"routes": []} and parse_table("  ") == {"routes": []}
    assert parse_table('{"routes": [{"name": "a"}]}') == {"routes": [{"name": "a"}]}
    with pytest.raises(ValueError):
        parse_table('{"routes": 3}')


def test_configmap_is_valid_and_carries_the_table():
    config = OperatorConfig(namespace="platform", routes_configmap="routes", routes_key="r.json")
    table = merge_route({"routes": []}, entry("audio", "transcription"))
    cm = routes_configmap(config, table, resource_version="42")
    validate(cm)
    assert (cm["metadata"]["name"], cm["metadata"]["namespace"], cm["metadata"]["resourceVersion"]) == \
        ("routes", "platform", "42")
    assert json.loads(cm["data"]["r.json"]) == table
    assert "resourceVersion" not in routes_configmap(config, table)["metadata"]


# ---------------------------------------------------------------- the contract with the gateway

CONTRACT = Path(__file__).resolve().parents[3] / "tests" / "contracts" / "routes.sample.json"


def render_sample_table() -> str:
    """routes.json as the operator renders it for its examples (dry run, the real code path),
    with the audio example switched to OIP v2 so the sample holds v1 and v2 routes."""
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.yaml"))]
    for doc in docs:
        if doc["kind"] == "AIService" and doc["metadata"]["name"] == "audio":
            doc["spec"]["route"]["protocol"] = "v2"
    config = OperatorConfig(namespace="ai-platform")
    rendered = render_documents(docs, namespace="ai-platform", config=config)
    cms = [o for o in rendered.objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == config.routes_configmap]
    assert len(cms) == 1, rendered.notes
    return cms[0]["data"][config.routes_key]


def test_committed_route_sample_is_what_the_operator_renders():
    """tests/contracts/routes.sample.json is the gateway's test input (services/gateway/tests/
    test_routes_contract.py); it must stay what this code renders. Refresh it with
    AIP_UPDATE_CONTRACTS=1 and commit the change."""
    text = render_sample_table()
    table = json.loads(text)
    valid_table(table["routes"])
    assert {r["protocol"] for r in table["routes"]} == {"v1", "v2"}
    assert {r["name"] for r in table["routes"]} == {"audio", "document-qa", "translation", "vlm"}
    if os.environ.get("AIP_UPDATE_CONTRACTS") == "1":
        CONTRACT.parent.mkdir(parents=True, exist_ok=True)
        CONTRACT.write_text(text, encoding="utf-8")
    assert CONTRACT.exists(), f"{CONTRACT} is missing: run this test with AIP_UPDATE_CONTRACTS=1"
    assert CONTRACT.read_text(encoding="utf-8") == text, (
        f"{CONTRACT.name} is stale: run this test with AIP_UPDATE_CONTRACTS=1 and commit it")
