"""The Open Inference Protocol v2 with NVIDIA's own client library (tritonclient): HTTP with the
binary-data extension and in JSON with base64 BYTES, gRPC, model metadata, clear 400s, and no
statement bytes in any response or log line. (tritonclient.grpc runs in a subprocess: its protos
clash with KServe's in one process; see kit.testing.triton_grpc_infer.)"""

import base64
import json
import struct
import time

import httpx
import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from kit.testing import triton_grpc_infer
from vlm_service.synth import make_statement, render_pdf, scan_pdf

MARKER = b"STATEMENT-MARKER-91c2ef"


@pytest.fixture(scope="module")
def http(server):
    client = httpclient.InferenceServerClient(server.url.removeprefix("http://"), network_timeout=300)
    yield client
    client.close()


@pytest.fixture(scope="module")
def statement():
    stmt = make_statement("debit_credit", 31)
    return render_pdf(stmt), stmt.truth()


def rows(doc: dict) -> list[tuple]:
    return [(t["date"], t["amount"]) for t in doc["transactions"]]


def docs_of(values) -> list[dict]:
    return [json.loads(v.decode() if isinstance(v, bytes) else v) for v in values.reshape(-1)]


def test_metadata(http, server, statement):
    meta = http.get_model_metadata("vlm")
    assert meta["inputs"] == [{"name": "document", "datatype": "BYTES", "shape": [-1]}]
    assert meta["outputs"] == [{"name": "result", "datatype": "BYTES", "shape": [-1]}]
    gmeta = triton_grpc_infer(server.grpc_address, "vlm", "document", [statement[0]])["metadata"]
    assert [(t["name"], t["datatype"]) for t in gmeta["inputs"]] == [("document", "BYTES")]
    assert [(t["name"], t["datatype"]) for t in gmeta["outputs"]] == [("result", "BYTES")]


def test_http_binary_data_extension(http, statement):
    pdf, truth = statement
    scan = scan_pdf(pdf, seed=3)
    inp = httpclient.InferInput("document", [2], "BYTES")
    inp.set_data_from_numpy(np.array([pdf, scan], dtype=object), binary_data=True)
    res = http.infer("vlm", [inp], parameters={"date_order": "auto"})
    text_doc, scan_doc = docs_of(res.as_numpy("result"))
    want = [(t["date"], t["amount"]) for t in truth["transactions"]]
    assert rows(text_doc) == want
    assert len(set(rows(scan_doc)) & set(want)) >= 0.9 * len(want)


def test_http_json_mode_with_base64_bytes(http, statement):
    pdf, truth = statement
    inp = httpclient.InferInput("document", [1], "BYTES")
    inp.set_data_from_numpy(np.array([base64.b64encode(pdf)], dtype=object), binary_data=False)
    res = http.infer("vlm", [inp], outputs=[httpclient.InferRequestedOutput("result", binary_data=False)])
    [doc] = docs_of(res.as_numpy("result"))
    assert rows(doc) == [(t["date"], t["amount"]) for t in truth["transactions"]]


def test_grpc(server, statement):
    pdf, truth = statement
    out = triton_grpc_infer(server.grpc_address, "vlm", "document", [pdf], {"date_order": "auto"})
    assert "error" not in out, out
    [doc] = out["results"]
    assert rows(doc) == [(t["date"], t["amount"]) for t in truth["transactions"]]


def test_errors_are_clear_and_never_echo_the_upload(http, server):
    inp = httpclient.InferInput("document", [1], "BYTES")
    inp.set_data_from_numpy(np.array([b"%PDF-1.7 " + MARKER], dtype=object), binary_data=True)
    with pytest.raises(InferenceServerException) as err:
        http.infer("vlm", [inp])
    assert err.value.status() == "422" and MARKER.decode() not in str(err.value)
    out = triton_grpc_infer(server.grpc_address, "vlm", "document", [MARKER])
    assert out["error"]["status"] == "StatusCode.INVALID_ARGUMENT", out
    assert MARKER.decode() not in out["error"]["message"]
    raw = struct.pack("<I", len(MARKER)) + MARKER
    head = json.dumps({"inputs": [{"name": "document", "shape": [1], "datatype": "BYTES",
                                   "parameters": {"binary_data_size": len(raw)}}]}).encode()
    for value in ("x", "-5", str(len(head) + len(raw) + 1), "7"):
        r = httpx.post(f"{server.url}/v2/models/vlm/infer", content=head + raw,
                       headers={"Inference-Header-Content-Length": value}, timeout=30)
        assert r.status_code == 400 and r.json()["code"] in ("invalid_header", "invalid_json"), r.text
        assert MARKER.decode() not in r.text
    time.sleep(0.3)
    assert MARKER.decode() not in server.log_text()
