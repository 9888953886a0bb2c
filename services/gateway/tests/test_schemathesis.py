"""Property-based run of schemathesis over the gateway's own OpenAPI schema, against the real
gateway process and real upstreams: whatever it sends, the gateway never answers 5xx
(upstream-caused 502/503/504 excepted only where an upstream really failed: here none does)."""

from __future__ import annotations

import hypothesis
import schemathesis
from conftest import ADMIN_KEY
from schemathesis.checks import not_a_server_error


def _schema_fixture():
    import pytest

    @pytest.fixture(scope="module")
    def api_schema(gateway_sqlite):
        return schemathesis.openapi.from_url(f"{gateway_sqlite.url}/openapi.json")

    return api_schema


api_schema = _schema_fixture()
schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis.settings(max_examples=30, deadline=None, suppress_health_check=list(hypothesis.HealthCheck),
                     database=None)
def test_no_server_errors(case, gateway_sqlite):
    response = case.call(base_url=gateway_sqlite.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                         timeout=30)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
