"""`POST /v2/models/{name}/infer` as standard clients (NVIDIA's tritonclient) send it.

Replaces KServe's handler, which (0.21) needs a JSON content type for JSON requests, turns raw
BYTES of the binary-data extension into UTF-8 strings (failing, with the bytes in the error),
and answers a bad `Inference-Header-Content-Length` with a 500 KeyError. Here:

- JSON body (any content type): `{"inputs": [{"name", "shape", "datatype", "data"}], ...}`;
  BYTES elements are strings (the service decodes base64).
- Binary-data extension: `Inference-Header-Content-Length: N`, the first N bytes are the JSON
  header, then each input with `parameters.binary_data_size` in order; BYTES tensors are
  4-byte little-endian length-prefixed elements, kept as raw bytes.
- Outputs follow the request: binary when `binary_data_output` or an output's `binary_data`
  asks for it (then the response carries `Inference-Header-Content-Length`), else JSON.

Error messages name fields and sizes, never the request's contents.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from kserve import InferInput, InferRequest
from kserve.protocol.infer_type import RequestedOutput

from .errors import InvalidInput

HEADER = "inference-header-content-length"
_DTYPES = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
           "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "FP16": np.float16,
           "FP32": np.float32, "FP64": np.float64}


def _bad(message: str, code: str = "invalid_request") -> InvalidInput:
    return InvalidInput(message, code=code)


def split_bytes_tensor(raw: bytes | memoryview, what: str) -> list[bytes]:
    """The elements of a serialized BYTES tensor (each: 4-byte little-endian length, then bytes)."""
    out, offset, size = [], 0, len(raw)
    while offset < size:
        if offset + 4 > size:
            raise _bad(f"{what}: binary BYTES data ends inside an element's length prefix", "invalid_binary_data")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > size:
            raise _bad(f"{what}: a BYTES element declares {length} bytes but only {size - offset} remain",
                       "invalid_binary_data")
        out.append(bytes(raw[offset:offset + length]))
        offset += length
    return out


def _header_length(value: str, body_size: int) -> int:
    try:
        length = int(value.strip())
    except ValueError:
        raise _bad("Inference-Header-Content-Length must be an integer", "invalid_header") from None
    if length <= 0 or length > body_size:
        raise _bad(f"Inference-Header-Content-Length is {length} but the body has {body_size} bytes",
                   "invalid_header")
    return length


def _json_object(data: bytes | memoryview, what: str) -> dict:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise _bad(f"{what} is not valid JSON", "invalid_json") from None
    if not isinstance(doc, dict):
        raise _bad(f"{what} must be a JSON object", "invalid_json")
    return doc


def _parameters(value: Any, what: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(f"{what} 'parameters' must be an object")
    return value


def _shape(value: Any, what: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in value):
        raise _bad(f"{what} 'shape' must be a list of non-negative integers")
    return value


def parse_infer_request(body: bytes, header_length: str | None, model_name: str) -> InferRequest:
    """An InferRequest from a v2 REST body, JSON or binary-data extension."""
    view = memoryview(body)
    if header_length is not None:
        json_len = _header_length(header_length, len(body))
        doc = _json_object(view[:json_len], "the inference header")
        binary, offset = view, json_len
    else:
        if not body:
            raise _bad("the request body is empty")
        doc = _json_object(view, "the request body")
        binary, offset = None, len(body)
    inputs_doc = doc.get("inputs")
    if not isinstance(inputs_doc, list) or not inputs_doc:
        raise _bad("'inputs' must be a non-empty list", "missing_input")
    inputs = []
    for i, spec in enumerate(inputs_doc):
        what = f"inputs[{i}]"
        if not isinstance(spec, dict):
            raise _bad(f"{what} must be an object")
        name, datatype = spec.get("name"), spec.get("datatype")
        if not isinstance(name, str) or not name:
            raise _bad(f"{what} needs a 'name'")
        if datatype not in _DTYPES and datatype != "BYTES":
            raise _bad(f"{what} has an unknown datatype")
        what = f"input '{name}'"
        shape = _shape(spec.get("shape"), what)
        params = _parameters(spec.get("parameters"), what)
        size = (params or {}).get("binary_data_size")
        if "data" in spec:
            tensor = InferInput(name, shape, datatype, data=spec["data"], parameters=params)
        elif size is not None:
            if binary is None:
                raise _bad(f"{what} has 'binary_data_size' but the Inference-Header-Content-Length header is missing",
                           "invalid_header")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or offset + size > len(body):
                raise _bad(f"{what}: binary_data_size {size} does not fit the {len(body) - offset} bytes left",
                           "invalid_binary_data")
            raw = binary[offset:offset + size]
            offset += size
            if datatype == "BYTES":
                data: Any = split_bytes_tensor(raw, what)
            else:
                data = np.frombuffer(raw, dtype=_DTYPES[datatype]).tolist()
            params = {k: v for k, v in params.items() if k != "binary_data_size"}
            tensor = InferInput(name, shape, datatype, data=data, parameters=params or None)
        else:
            raise _bad(f"{what} has neither 'data' nor 'parameters.binary_data_size'", "missing_input")
        inputs.append(tensor)
    if binary is not None and offset != len(body):
        raise _bad(f"{len(body) - offset} bytes after the last input are not described by any binary_data_size",
                   "invalid_binary_data")
    outputs = None
    if doc.get("outputs") is not None:
        if not isinstance(doc["outputs"], list):
            raise _bad("'outputs' must be a list")
        outputs = []
        for j, out in enumerate(doc["outputs"]):
            if not isinstance(out, dict) or not isinstance(out.get("name"), str):
                raise _bad(f"outputs[{j}] needs a 'name'")
            outputs.append(RequestedOutput(out["name"], _parameters(out.get("parameters"), f"outputs[{j}]")))
    request_id = doc.get("id")
    return InferRequest(model_name=model_name, infer_inputs=inputs,
                        request_id=request_id if isinstance(request_id, str) else None,
                        parameters=_parameters(doc.get("parameters"), "the request"), request_outputs=outputs)


def install_v2_infer_route(app: FastAPI, dataplane) -> None:
    """Serve `/v2/models/{name}/infer` here; registered before KServe's routes, so it wins."""

    async def infer(raw_request: Request, model_name: str) -> Response:
        from kserve.errors import ModelNotReady

        if not await dataplane.model_ready(model_name, True):
            raise ModelNotReady(model_name)
        body = await raw_request.body()
        headers = dict(raw_request.headers)
        request = parse_infer_request(body, headers.get(HEADER), model_name)
        response, response_headers = await dataplane.infer(model_name=model_name, request=request, headers=headers)
        encoded, extra = dataplane.encode(model_name=model_name, response=response, headers=headers,
                                          req_attributes={})
        response_headers = {**response_headers, **extra}
        response_headers.pop("content-length", None)
        response_headers.pop("content-type", None)
        if isinstance(encoded, (bytes, bytearray)):
            return Response(content=bytes(encoded), media_type="application/octet-stream", headers=response_headers)
        return JSONResponse(content=encoded, headers=response_headers)

    for path in ("/v2/models/{model_name}/infer", "/v2/models/{model_name}/versions/{model_version}/infer"):
        app.add_api_route(path, infer, methods=["POST"], include_in_schema=path.count("{") == 1)
