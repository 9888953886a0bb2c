"""v2 REST as standard clients send it: JSON without a content type, the binary-data extension,
clear 400s for a bad Inference-Header-Content-Length, and no request bytes echoed anywhere.

(The services' own tests drive the same code with NVIDIA's tritonclient.)"""

import json
import struct
import time

import httpx
import pytest

MARKER = b"SECRET-MARKER-7f3a9c"


def bytes_tensor(*elements: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


def binary_request(elements, header_extra=None, outputs=None):
    raw = bytes_tensor(*elements)
    header = {"inputs": [{"name": "document", "shape": [len(elements)], "datatype": "BYTES",
                          "parameters": {"binary_data_size": len(raw)}}], **(header_extra or {})}
    if outputs is not None:
        header["outputs"] = outputs
    head = json.dumps(header).encode()
    return head + raw, len(head)


def infer(server, body, headers=None):
    return httpx.post(f"{server.url}/v2/models/echo/infer", content=body, headers=headers or {}, timeout=30)


def test_json_without_content_type(echo_server):
    body = json.dumps({"inputs": [{"name": "document", "shape": [1], "datatype": "BYTES", "data": ["aGVsbG8="]}]})
    r = infer(echo_server, body.encode())
    assert r.status_code == 200, r.text
    assert json.loads(r.json()["outputs"][0]["data"][0])["length"] == 5


def test_binary_extension_in_and_out(echo_server):
    body, n = binary_request([b"\x00\xff" + MARKER, b"RIFF\x00\x01"], {"parameters": {"binary_data_output": True}})
    r = infer(echo_server, body, {"Inference-Header-Content-Length": str(n),
                                  "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    json_len = int(r.headers["inference-header-content-length"])
    header = json.loads(r.content[:json_len])
    [out] = header["outputs"]
    assert out["name"] == "result" and out["datatype"] == "BYTES" and out["shape"] == [2]
    raw = r.content[json_len:]
    assert len(raw) == out["parameters"]["binary_data_size"]
    docs, offset = [], 0
    while offset < len(raw):
        (size,) = struct.unpack_from("<I", raw, offset)
        docs.append(json.loads(raw[offset + 4:offset + 4 + size]))
        offset += 4 + size
    assert [d["length"] for d in docs] == [2 + len(MARKER), 6]


def test_binary_request_json_response_when_asked(echo_server):
    body, n = binary_request([b"abc"], outputs=[{"name": "result", "parameters": {"binary_data": False}}])
    r = infer(echo_server, body, {"Inference-Header-Content-Length": str(n)})
    assert r.status_code == 200
    assert json.loads(r.json()["outputs"][0]["data"][0])["length"] == 3


@pytest.mark.parametrize("value, code", [("abc", "invalid_header"), ("-4", "invalid_header"),
                                         ("999999", "invalid_header"), ("0", "invalid_header"),
                                         ("10", "invalid_json")])
def test_bad_inference_header_content_length_is_400(echo_server, value, code):
    body, _ = binary_request([MARKER])
    r = infer(echo_server, body, {"Inference-Header-Content-Length": value})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code and r.json()["error"]
    assert MARKER.decode() not in r.text


@pytest.mark.parametrize("mutate", ["short_size", "long_size", "bad_prefix"])
def test_inconsistent_binary_sizes_are_400(echo_server, mutate):
    raw = bytes_tensor(MARKER)
    size = {"short_size": len(raw) - 3, "long_size": len(raw) + 50, "bad_prefix": len(raw) + 2}[mutate]
    if mutate == "bad_prefix":
        raw += b"\x09\x00"
    head = json.dumps({"inputs": [{"name": "document", "shape": [1], "datatype": "BYTES",
                                   "parameters": {"binary_data_size": size}}]}).encode()
    r = infer(echo_server, head + raw, {"Inference-Header-Content-Length": str(len(head))})
    assert r.status_code == 400, r.text
    assert r.json()["code"] in ("invalid_binary_data", "invalid_header")
    assert MARKER.decode() not in r.text


def test_binary_size_without_header_is_400(echo_server):
    body, _ = binary_request([MARKER])
    r = infer(echo_server, body)
    assert r.status_code == 400 and MARKER.decode() not in r.text


def test_model_metadata_lists_inputs_and_outputs(echo_server):
    meta = httpx.get(f"{echo_server.url}/v2/models/echo", timeout=5).json()
    assert meta["inputs"] == [{"name": "document", "datatype": "BYTES", "shape": [-1]}]
    assert meta["outputs"] == [{"name": "result", "datatype": "BYTES", "shape": [-1]}]


def test_no_request_bytes_in_responses_or_log(echo_server):
    for fail in ("boom", "invalid"):
        head = json.dumps({"inputs": [{"name": "document", "shape": [1], "datatype": "BYTES",
                                       "parameters": {"binary_data_size": 4 + len(MARKER)}}],
                           "parameters": {"fail": fail}}).encode()
        r = infer(echo_server, head + bytes_tensor(MARKER), {"Inference-Header-Content-Length": str(len(head))})
        assert r.status_code in (400, 500)
        assert MARKER.decode() not in r.text
    r = infer(echo_server, b'{"inputs": [{"name": "document", "datatype": "BYTES", "shape": "' + MARKER + b'"}]}')
    assert r.status_code == 400 and MARKER.decode() not in r.text
    time.sleep(0.3)
    assert MARKER.decode() not in echo_server.log_text()
