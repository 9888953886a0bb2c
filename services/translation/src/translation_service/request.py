"""One translation request item, from a v1 instance or a v2 input, checked field by field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kserve import InferRequest

from kit_kserve.errors import InvalidInput, PayloadTooLarge
from kit_kserve.payload import binary_inputs, decode_b64, parameters_dict, tensor_elements

from .glossary import parse_glossary

OPTIONS = {"source", "target", "glossary", "filename"}


@dataclass
class Item:
    """A text or a document to translate, and how."""

    source: str
    target: str
    glossary: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    document: bytes | None = None
    filename: str | None = None


def _str_option(options: dict, name: str, required: bool, default: str | None = None) -> str | None:
    value = options.get(name, default)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"'{name}' is required (an ISO 639-1 code such as 'de')", code="missing_option")
        return default
    if not isinstance(value, str) or len(value) > 100:
        raise InvalidInput(f"'{name}' must be a short string", code="invalid_option")
    return value


def _item(options: dict, text: str | None, document: bytes | None, max_chars: int) -> Item:
    if text is not None:
        if not isinstance(text, str):
            raise InvalidInput("'text' must be a string", code="invalid_option")
        if not text.strip():
            raise InvalidInput("'text' is empty", code="empty_input")
        if len(text) > max_chars:
            raise PayloadTooLarge(f"'text' has {len(text)} characters; the limit is {max_chars}", code="text_too_long")
    filename = _str_option(options, "filename", False)
    return Item(source=_str_option(options, "source", False, "auto"), target=_str_option(options, "target", True),
                glossary=parse_glossary(options.get("glossary")), text=text, document=document, filename=filename)


def parse_items(payload: dict | InferRequest, max_items: int, max_chars: int) -> list[Item]:
    """v1 `{"instances": [{"text" | "document": {"b64"}, "source", "target", "glossary"?, "filename"?}]}`,
    or v2 with a BYTES input `text` (UTF-8) or `document` and the options as parameters."""
    if isinstance(payload, InferRequest):
        json_input = next((t for t in payload.inputs if t.name == "json" and t.datatype == "BYTES"), None)
        if json_input is not None:  # a generic gateway route over v2: each element is one v1 instance
            instances = []
            for elem in tensor_elements(json_input):
                try:
                    instances.append(json.loads(bytes(elem) if isinstance(elem, (bytearray, memoryview)) else elem))
                except (ValueError, TypeError):
                    raise InvalidInput("input 'json' must hold JSON objects", code="invalid_input") from None
            return parse_items({"instances": instances, "parameters": parameters_dict(payload.parameters)},
                               max_items, max_chars)
        text_input = next((t for t in payload.inputs if t.name == "text" and t.datatype == "BYTES"), None)
        if text_input is None:  # a document: BYTES input `document`, base64 in JSON or raw bytes
            return [_item(it.options, None, it.data, max_chars)
                    for it in binary_inputs(payload, "document", max_items)]
        options = {**parameters_dict(payload.parameters), **parameters_dict(text_input.parameters)}
        elements = tensor_elements(text_input)
        if not elements:
            raise InvalidInput("input 'text' has no data", code="empty_input")
        if len(elements) > max_items:
            raise PayloadTooLarge(f"the request has {len(elements)} items; the limit is {max_items} per request",
                                  code="too_many_instances")
        out = []
        for elem in elements:  # JSON: the text itself; binary extension / gRPC: UTF-8 bytes
            if isinstance(elem, (bytes, bytearray, memoryview)):
                try:
                    elem = bytes(elem).decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidInput("input 'text' is not UTF-8", code="invalid_encoding") from None
            out.append(_item(options, elem, None, max_chars))
        return out
    if not isinstance(payload, dict):
        raise InvalidInput("request body must be a JSON object", code="invalid_input")
    instances = payload.get("instances")
    if not isinstance(instances, list) or not instances:
        raise InvalidInput("expected a non-empty 'instances' list", code="missing_input")
    if len(instances) > max_items:
        raise PayloadTooLarge(f"the request has {len(instances)} items; the limit is {max_items} per request",
                              code="too_many_instances")
    shared = payload.get("parameters") or {}
    if not isinstance(shared, dict):
        raise InvalidInput("'parameters' must be an object", code="invalid_option")
    out = []
    for i, inst in enumerate(instances):
        if not isinstance(inst, dict):
            raise InvalidInput(f"instances[{i}] must be an object", code="invalid_input")
        options: dict[str, Any] = {**shared, **{k: v for k, v in inst.items() if k in OPTIONS}}
        if "text" in inst and "document" in inst:
            raise InvalidInput(f"instances[{i}]: send 'text' or 'document', not both", code="invalid_input")
        if "text" in inst:
            out.append(_item(options, inst["text"], None, max_chars))
        elif "document" in inst:
            out.append(_item(options, None, decode_b64(inst["document"], f"instances[{i}].document"), max_chars))
        else:
            raise InvalidInput(f"instances[{i}] has no 'text' or 'document'", code="missing_input")
    return out
