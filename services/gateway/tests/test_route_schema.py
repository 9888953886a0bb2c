"""The route table's JSON Schema is generated from the gateway's own model and committed
(tests/contracts/route-table.schema.json); the operator's tests validate what it renders
against that file, so a change on either side fails a test instead of a deployment."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs

from gateway.routetable import Route, dump_route_table_schema, route_table_schema

CONTRACTS = Path(__file__).resolve().parents[3] / "tests" / "contracts"


def test_committed_schema_is_the_models():
    committed = (CONTRACTS / "route-table.schema.json").read_text(encoding="utf-8")
    assert committed == dump_route_table_schema(), (
        "tests/contracts/route-table.schema.json is stale: run "
        "`python -m gateway route-schema --out tests/contracts/route-table.schema.json` and commit it")


def test_the_operators_sample_table_is_valid_and_loads_whole():
    table = json.loads((CONTRACTS / "routes.sample.json").read_text(encoding="utf-8"))
    jsonschema_rs.validator_for(route_table_schema()).validate(table)
    routes = [Route.model_validate(r) for r in table["routes"]]
    assert {r.name for r in routes} == {r["name"] for r in table["routes"]}


def test_schema_rejects_what_the_gateway_would_ignore_or_refuse():
    validator = jsonschema_rs.validator_for(route_table_schema())
    ok = {"name": "svc", "kind": "custom", "upstream": "http://x"}
    assert validator.is_valid({"routes": [ok]})
    assert not validator.is_valid({"routes": [{**ok, "timeoutSeconds": 3}]})  # unknown key: drift
    assert not validator.is_valid({"routes": [{**ok, "kind": "painting"}]})
    assert not validator.is_valid({"routes": [{**ok, "protocol": "v3"}]})
    assert not validator.is_valid({"routes": [{**ok, "name": "Bad_Name"}]})
    assert not validator.is_valid({"routes": [{k: v for k, v in ok.items() if k != "upstream"}]})
