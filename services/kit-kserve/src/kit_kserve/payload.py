"""Binary inputs and JSON results in both Open Inference Protocol versions.

v1: `{"instances": [{"<field>": {"b64": "..."}, "<option>": ...}], "parameters": {...}}`.
v2: an `InferRequest` with a BYTES input (raw bytes over gRPC or the binary extension, base64
strings in JSON) and options as request or input parameters. Results come back as v1
`{"predictions": [...]}` or a v2 BYTES output `result` holding one JSON document per item.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from kserve import InferOutput, InferRequest, InferResponse

from .errors import InvalidInput, PayloadTooLarge


@dataclass
class BinaryItem:
    """One binary input and the options that came with it."""

    data: bytes
    options: dict[str, Any] = field(default_factory=dict)


def decode_b64(value: Any, what: str = "input") -> bytes:
    """Strict base64 (standard or URL-safe alphabet); empty or invalid input raises InvalidInput."""
    if isinstance(value, dict):
        if "b64" not in value:
            raise InvalidInput(f"{what} must be an object with a 'b64' string", code="missing_input")
        value = value["b64"]
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a base64 string", code="invalid_base64")
    text = "".join(value.split())
    if not text:
        raise InvalidInput(f"{what} is empty", code="empty_input")
    try:
        if "-" in text or "_" in text:
            data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        else:
            data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{what} is not valid base64: {exc}", code="invalid_base64") from exc
    if not data:
        raise InvalidInput(f"{what} is empty", code="empty_input")
    return data


def _param_value(value: Any) -> Any:
    """Unwrap a gRPC InferParameter into a plain Python value."""
    which = getattr(value, "WhichOneof", None)
    if which is None:
        return value
    kind = which("parameter_choice")
    return getattr(value, kind) if kind else None


def parameters_dict(params: Any) -> dict[str, Any]:
    """A v2 request's or input's parameters as plain Python values (gRPC's typed values unwrapped)."""
    if not params:
        return {}
    return {k: _param_value(v) for k, v in dict(params).items()}


def _check_count(count: int, max_items: int | None) -> None:
    if max_items is not None and count > max_items:
        raise PayloadTooLarge(f"the request has {count} items; the limit is {max_items} per request",
                              code="too_many_instances")


def _v1_items(payload: dict, field_name: str, max_items: int | None = None) -> list[BinaryItem]:
    instances = payload.get("instances", payload.get("inputs"))
    if not isinstance(instances, list) or not instances:
        raise InvalidInput("expected a non-empty 'instances' list", code="missing_input")
    _check_count(len(instances), max_items)
    shared = payload.get("parameters")
    shared = {} if shared is None else shared
    if not isinstance(shared, dict):
        raise InvalidInput("'parameters' must be an object", code="invalid_option")
    items = []
    for i, inst in enumerate(instances):
        what = f"instances[{i}].{field_name}"
        if isinstance(inst, str):
            items.append(BinaryItem(decode_b64(inst, what), dict(shared)))
            continue
        if not isinstance(inst, dict):
            raise InvalidInput(f"instances[{i}] must be an object", code="invalid_input")
        if field_name in inst:
            raw, options = inst[field_name], {k: v for k, v in inst.items() if k != field_name}
        elif "b64" in inst:
            raw, options = inst, {k: v for k, v in inst.items() if k != "b64"}
        else:
            raise InvalidInput(f"instances[{i}] has no '{field_name}'", code="missing_input")
        items.append(BinaryItem(decode_b64(raw, what), {**shared, **options}))
    return items


def tensor_elements(tensor) -> list[Any]:
    """The elements of a v2 input, flat: raw bytes, strings or numbers, whichever way it came."""
    if getattr(tensor, "_raw_data", None) is not None:
        return list(tensor.as_numpy().reshape(-1))
    data = tensor.data
    if hasattr(data, "bytes_contents"):
        return list(data.bytes_contents)
    if data is None:
        return []
    out: list[Any] = []
    stack = [data]
    while stack:
        cur = stack.pop()
        if isinstance(cur, (list, tuple)):
            stack.extend(reversed(cur))
        else:
            out.append(cur)
    return out


def _v2_items(request: InferRequest, field_name: str, max_items: int | None = None) -> list[BinaryItem]:
    shared = parameters_dict(request.parameters)
    tensors = [t for t in request.inputs if t.datatype == "BYTES"]
    chosen = next((t for t in tensors if t.name == field_name), tensors[0] if tensors else None)
    if chosen is None:
        raise InvalidInput(f"expected a BYTES input named '{field_name}'", code="missing_input")
    options = {**shared, **parameters_dict(chosen.parameters)}
    elements = tensor_elements(chosen)
    _check_count(len(elements), max_items)
    items = []
    for i, elem in enumerate(elements):
        what = f"input '{chosen.name}'[{i}]"
        if isinstance(elem, (bytes, bytearray, memoryview)):
            data = bytes(elem)
            if not data:
                raise InvalidInput(f"{what} is empty", code="empty_input")
        else:
            data = decode_b64(elem, what)
        items.append(BinaryItem(data, dict(options)))
    if not items:
        raise InvalidInput(f"input '{chosen.name}' has no data", code="empty_input")
    return items


def binary_inputs(payload: dict | InferRequest, field: str, max_items: int | None = None) -> list[BinaryItem]:
    """The binary items of a v1 or v2 request, each with its merged options; more than
    `max_items` items is a 413 `too_many_instances`, raised before any is decoded."""
    if isinstance(payload, InferRequest):
        return _v2_items(payload, field, max_items)
    if isinstance(payload, dict):
        return _v1_items(payload, field, max_items)
    raise InvalidInput("request body must be a JSON object", code="invalid_input")


def make_response(payload: dict | InferRequest, model_name: str, results: list[dict]):
    """Wrap per-item JSON results for the protocol the request came in."""
    if not isinstance(payload, InferRequest):
        return {"predictions": results}
    docs = [json.dumps(r, default=str).encode() for r in results]
    output = InferOutput(name="result", shape=[len(docs)], datatype="BYTES", data=docs)
    return InferResponse(
        response_id=payload.id or uuid.uuid4().hex,
        model_name=model_name,
        infer_outputs=[output],
        from_grpc=payload.from_grpc,
        use_binary_outputs=payload.use_binary_outputs,
        requested_outputs=payload.request_outputs,
    )


def bytes_io_metadata(input_name: str) -> tuple[list[dict], list[dict]]:
    """v2 model metadata (inputs, outputs) of a service taking a BYTES input `input_name` (one
    element per document) and answering with the BYTES output `result` (one JSON text each)."""
    return ([{"name": input_name, "datatype": "BYTES", "shape": [-1]}],
            [{"name": "result", "datatype": "BYTES", "shape": [-1]}])
