"""The Open Inference Protocol v2 with NVIDIA's own client library (tritonclient), HTTP in both
modes (binary-data extension and JSON with base64 BYTES) and gRPC; model metadata; no request
bytes in any response or log line. (tritonclient.grpc runs in a subprocess: its protos clash
with KServe's in one process; see kit.testing.triton_grpc_infer.)"""

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
from speech import recall, sentence

MARKER = b"UPLOAD-MARKER-5d1e8b-not-audio-at-all"


@pytest.fixture(scope="module")
def http(server):
    client = httpclient.InferenceServerClient(server.url.removeprefix("http://"), network_timeout=300,
                                              connection_timeout=30)
    yield client
    client.close()


def results_of(values) -> list[dict]:
    return [json.loads(v.decode() if isinstance(v, bytes) else v) for v in values.reshape(-1)]


def test_metadata_describes_inputs_and_outputs(http, server, clips):
    assert http.is_server_live() and http.is_model_ready("audio")
    meta = http.get_model_metadata("audio")
    assert meta["inputs"] == [{"name": "audio", "datatype": "BYTES", "shape": [-1]}]
    assert meta["outputs"] == [{"name": "result", "datatype": "BYTES", "shape": [-1]}]
    gmeta = triton_grpc_infer(f"127.0.0.1:{server.grpc_port}", "audio", "audio", [clips["s0"].read_bytes()],
                              {"beam_size": 1})["metadata"]
    assert [(t["name"], t["datatype"], [int(d) for d in t["shape"]]) for t in gmeta["inputs"]] == [("audio", "BYTES", [-1])]
    assert [(t["name"], t["datatype"]) for t in gmeta["outputs"]] == [("result", "BYTES")]


def test_http_binary_data_extension(http, clips):
    inp = httpclient.InferInput("audio", [2], "BYTES")
    inp.set_data_from_numpy(np.array([clips["s1"].read_bytes(), clips["s3"].read_bytes()], dtype=object),
                            binary_data=True)
    res = http.infer("audio", [inp], parameters={"language": "en", "beam_size": 1})
    first, second = results_of(res.as_numpy("result"))
    assert recall(sentence(1), first["text"]) >= 0.6, first["text"]
    assert recall(sentence(3), second["text"]) >= 0.6, second["text"]


def test_http_json_mode_with_base64_bytes(http, clips):
    data = base64.b64encode(clips["s4"].read_bytes())
    inp = httpclient.InferInput("audio", [1], "BYTES")
    inp.set_data_from_numpy(np.array([data], dtype=object), binary_data=False)
    out = httpclient.InferRequestedOutput("result", binary_data=False)
    res = http.infer("audio", [inp], outputs=[out], parameters={"language": "en", "beam_size": 1,
                                                                "word_timestamps": True})
    [doc] = results_of(res.as_numpy("result"))
    assert recall(sentence(4), doc["text"]) >= 0.6, doc["text"]
    assert doc["segments"][0]["words"]
    assert res.get_response()["outputs"][0]["datatype"] == "BYTES"


def test_grpc(server, clips):
    out = triton_grpc_infer(f"127.0.0.1:{server.grpc_port}", "audio", "audio",
                            [clips["s6"].read_bytes(), clips["s7"].read_bytes()], {"language": "en", "beam_size": 1})
    assert "error" not in out, out
    first, second = out["results"]
    assert recall(sentence(6), first["text"]) >= 0.6, first["text"]
    assert recall(sentence(7), second["text"]) >= 0.6, second["text"]


def test_bad_bytes_are_400_and_never_echoed(http, server):
    inp = httpclient.InferInput("audio", [1], "BYTES")
    inp.set_data_from_numpy(np.array([MARKER], dtype=object), binary_data=True)
    with pytest.raises(InferenceServerException) as err:
        http.infer("audio", [inp])
    assert err.value.status() == "400" and "not audio" in err.value.message()
    assert MARKER.decode() not in str(err.value)
    out = triton_grpc_infer(f"127.0.0.1:{server.grpc_port}", "audio", "audio", [MARKER])
    assert out["error"]["status"] == "StatusCode.INVALID_ARGUMENT" and "not audio" in out["error"]["message"]
    assert MARKER.decode() not in out["error"]["message"]
    time.sleep(0.3)
    assert MARKER.decode() not in server.log_text()


@pytest.mark.parametrize("value", ["nope", "-1", "99999999", "3"])
def test_bad_inference_header_content_length_is_400(server, value):
    raw = struct.pack("<I", len(MARKER)) + MARKER
    head = json.dumps({"inputs": [{"name": "audio", "shape": [1], "datatype": "BYTES",
                                   "parameters": {"binary_data_size": len(raw)}}]}).encode()
    r = httpx.post(f"{server.url}/v2/models/audio/infer", content=head + raw,
                   headers={"Inference-Header-Content-Length": value}, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["code"] in ("invalid_header", "invalid_json")
    assert MARKER.decode() not in r.text
    assert MARKER.decode() not in server.log_text()
