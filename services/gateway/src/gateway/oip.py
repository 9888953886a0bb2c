"""Open Inference Protocol bodies: what the gateway sends to a v1 or a v2 upstream, and how it
reads the answer. Pure functions; `upstream.Upstream` does the HTTP.

- v1: `POST /v1/models/<model>:predict` `{"instances": [instance]}` -> `predictions[0]`.
- v2: `POST /v2/models/<model>/infer` with a BYTES input (base64 text in JSON, as kit's
  `payload.binary_inputs` reads it) named after the upload field (`audio`, `document`) and
  the options as request `parameters`; the answer's BYTES output `result` holds one JSON
  document per input (kit's `make_response`), which is the prediction.
- v2 for generic routes (document-qa, translation, custom): a body that already is a v2
  inference request (it has `inputs`) goes as it is; any other JSON object goes as the JSON
  text of one BYTES input named `json`. A `result` output is decoded as above; an upstream
  without one answers `{"outputs": [...]}` as it sent them.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from .errors import ApiError

RESULT_OUTPUT = "result"
JSON_INPUT = "json"


def _scalar_parameters(options: dict) -> dict:
    """v2 parameters are scalars; anything else travels as its JSON text."""
    out = {}
    for k, v in options.items():
        if v is None:
            continue
        out[k] = v if isinstance(v, (str, int, float, bool)) else orjson.dumps(v).decode()
    return out


def upload_request(protocol: str, model: str, field: str, data: bytes, options: dict) -> tuple[str, dict]:
    """(path, body) of one uploaded file with its options."""
    b64 = base64.b64encode(data).decode("ascii")
    if protocol == "v2":
        body: dict[str, Any] = {"inputs": [{"name": field, "shape": [1], "datatype": "BYTES", "data": [b64]}]}
        params = _scalar_parameters(options)
        if params:
            body["parameters"] = params
        return f"/v2/models/{model}/infer", body
    instance = {field: {"b64": b64}, **{k: v for k, v in options.items() if v is not None}}
    return f"/v1/models/{model}:predict", {"instances": [instance]}


def json_request(protocol: str, model: str, body: dict) -> tuple[str, dict]:
    """(path, body) of a generic route's JSON object."""
    if protocol == "v2":
        if isinstance(body.get("inputs"), list):
            return f"/v2/models/{model}/infer", body
        text = orjson.dumps(body).decode()
        return f"/v2/models/{model}/infer", {
            "inputs": [{"name": JSON_INPUT, "shape": [1], "datatype": "BYTES", "data": [text]}]}
    return f"/v1/models/{model}:predict", {"instances": [body]}


def _bad(route: str, why: str) -> ApiError:
    return ApiError(502, f"upstream '{route}' {why}", code="bad_upstream_response")


def decode_prediction(protocol: str, doc: Any, route: str, generic: bool = False) -> Any:
    """The first prediction of an upstream answer, v1 or v2."""
    if protocol != "v2":
        preds = doc.get("predictions") if isinstance(doc, dict) else None
        if not isinstance(preds, list) or not preds:
            raise _bad(route, "returned no predictions")
        return preds[0]
    outputs = doc.get("outputs") if isinstance(doc, dict) else None
    if not isinstance(outputs, list) or not outputs:
        raise _bad(route, "returned no v2 outputs")
    bytes_outputs = [o for o in outputs if isinstance(o, dict) and o.get("datatype") == "BYTES"]
    chosen = next((o for o in bytes_outputs if o.get("name") == RESULT_OUTPUT), None)
    if chosen is None and len(bytes_outputs) == 1 and not generic:
        chosen = bytes_outputs[0]
    if chosen is None:
        if generic:
            return {"outputs": outputs}
        raise _bad(route, f"returned no BYTES output '{RESULT_OUTPUT}'")
    data = chosen.get("data")
    while isinstance(data, list) and data and isinstance(data[0], list):  # nested shape [1, 1]
        data = data[0]
    if not isinstance(data, list) or not data:
        raise _bad(route, f"returned an empty output '{chosen.get('name')}'")
    first = data[0]
    if isinstance(first, (dict, list)):
        return first
    if not isinstance(first, str):
        raise _bad(route, f"returned a non-text element in output '{chosen.get('name')}'")
    try:
        return orjson.loads(first)
    except orjson.JSONDecodeError:
        try:  # base64 of the JSON text (a BYTES element some servers encode)
            return orjson.loads(base64.b64decode(first, validate=True))
        except (ValueError, orjson.JSONDecodeError):
            raise _bad(route, f"returned output '{chosen.get('name')}' that is not JSON") from None
