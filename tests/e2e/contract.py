"""The gateway's OpenAPI document (tests/contracts/gateway-openapi.json) as the judge of what
the real services answer through it: `conforms(doc, "StatementResult")` fails with each place
where a real answer leaves the contract the web UI's types are generated from."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema

DOCUMENT = Path(__file__).resolve().parents[1] / "contracts" / "gateway-openapi.json"


@functools.cache
def _components() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))["components"]


def conforms(doc, schema: str) -> None:
    """Assert that `doc` validates against the document's component schema `schema`."""
    components = _components()
    assert schema in components["schemas"], f"{schema} is not in {DOCUMENT.name}"
    validator = jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": components})
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, f"the answer does not conform to {schema}: {errors[:5]}"
