import base64
import json

import pytest
from kserve import InferInput, InferRequest

from kit_kserve.errors import InvalidInput
from kit_kserve.payload import binary_inputs, decode_b64, make_response

PDF = b"%PDF-1.7 fake"
B64 = base64.b64encode(PDF).decode()


def test_v1_field_with_options_and_shared_parameters():
    payload = {"instances": [{"document": {"b64": B64}, "password": "pw"}], "parameters": {"locale": "de"}}
    [item] = binary_inputs(payload, "document")
    assert item.data == PDF
    assert item.options == {"password": "pw", "locale": "de"}


def test_v1_bare_b64_string_and_b64_object():
    items = binary_inputs({"instances": [B64, {"b64": B64, "language": "en"}]}, "audio")
    assert [i.data for i in items] == [PDF, PDF]
    assert items[1].options == {"language": "en"}


def test_urlsafe_and_whitespace_base64():
    data = bytes(range(256))
    text = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert decode_b64(text[:40] + "\n" + text[40:]) == data


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, "missing_input"),
        ({"instances": []}, "missing_input"),
        ({"instances": [{"other": 1}]}, "missing_input"),
        ({"instances": [{"document": {"b64": "!!!not base64!!!"}}]}, "invalid_base64"),
        ({"instances": [{"document": {"b64": ""}}]}, "empty_input"),
        ({"instances": [{"document": 12}]}, "invalid_base64"),
        ({"instances": [5]}, "invalid_input"),
        ({"instances": [B64], "parameters": []}, "invalid_option"),
    ],
)
def test_v1_bad_inputs_raise_invalid_input_with_code(payload, code):
    with pytest.raises(InvalidInput) as err:
        binary_inputs(payload, "document")
    assert err.value.code == code
    assert str(err.value)


def test_v2_bytes_tensor_base64_strings_and_parameters():
    tensor = InferInput("document", [2], "BYTES", data=[B64, B64], parameters={"task": "extract"})
    request = InferRequest("vlm", [tensor], parameters={"password": "x"})
    items = binary_inputs(request, "document")
    assert [i.data for i in items] == [PDF, PDF]
    assert items[0].options == {"password": "x", "task": "extract"}


def test_v2_raw_bytes_elements():
    request = InferRequest("audio", [InferInput("audio", [1], "BYTES", data=[PDF])])
    assert binary_inputs(request, "audio")[0].data == PDF


def test_v2_without_bytes_input_is_invalid():
    request = InferRequest("audio", [InferInput("x", [1], "FP32", data=[1.0])])
    with pytest.raises(InvalidInput):
        binary_inputs(request, "audio")


def test_make_response_v1_and_v2():
    assert make_response({"instances": []}, "m", [{"a": 1}]) == {"predictions": [{"a": 1}]}
    request = InferRequest("m", [InferInput("document", [1], "BYTES", data=[B64])], request_id="r1")
    response = make_response(request, "m", [{"a": 1}, {"b": "2"}])
    assert response.id == "r1"
    [output] = response.outputs
    assert output.name == "result" and output.datatype == "BYTES" and output.shape == [2]
    assert [json.loads(d) for d in output.data] == [{"a": 1}, {"b": "2"}]
