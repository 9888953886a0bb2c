"""A small real upstream for the gateway's tests and benchmark: speaks the OIP v1 predict shape
of the model services (kit's error body included), with knobs for delay and failure.

    python upstream_app.py --port 9100 --model custom

- `POST /v1/models/<model>:predict` with `{"instances": [instance]}`:
  - an `audio` field (b64) -> a transcription result shaped like audio-service's
  - a `document` field (b64) -> a statement result shaped like vlm-service's (with `"task": "render"`:
    a white PNG page `width` pixels wide, shaped like vlm-service's render answer)
  - anything else -> `{"echo": instance, "model": <model>}`
  An instance may ask for `"delay": seconds` or `"fail": status` (and `"fail_code"`) itself.
- `POST /v2/models/<model>/infer`: the same, in OIP v2 as kit's `payload` speaks it: a BYTES
  input (`audio`, `document`: base64 text; `json`: a JSON object's text) with options as
  request `parameters`, answered as a BYTES output `result` holding the JSON document.
- `POST /v1/models/<model>:stream`: the audio-service's event stream (`info`, a `segment` per
  segment of the transcription result above, `done`), after the same `fail_status`/`delay`;
  `stream_mode` picks a misbehaviour: `absent` (404, a service that cannot stream), `break`
  (the connection drops after the first segment), `error` (an `error` event after it), `stall`
  (nothing more after it, until the client disconnects: counted as `streams_cut` in `/last`),
  `slow` (a second after each segment).
- `POST /control` `{"fail_status": 503|null, "delay": seconds, "stream_mode": "ok"|...,
  "token_delay": seconds}` sets behaviour for every call (`token_delay`: between the tokens of a
  document-qa stream; one cut off by the client counts in `streams_cut`).
- model `document-qa`, an instance with `op` (ingest, list, get, delete, ask, embed): the
  document-qa-service contract over an in-memory store (word-overlap retrieval), and
  `POST /v1/models/document-qa:stream` for an ask as server-sent events.
- `GET /last` -> the last predict call's headers and instance (without the base64 data).
- `/v2/health/live`, `/v2/health/ready`, `/v2/models/<model>/ready`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import hashlib
import json
import re
import struct
import uuid
import zlib

import uvicorn
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

STATE = {"fail_status": None, "delay": 0.0, "last": None, "calls": 0, "model": "custom", "tags": {},
         "stream_mode": "ok", "streams_cut": 0, "token_delay": 0.0}
DOCS: dict[str, dict] = {}  # document-qa: id -> {"owner", "doc", "text"}


def _kit_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def docqa(instance: dict) -> dict | JSONResponse:
    """The document-qa-service contract over an in-memory store."""
    op, owner = instance.get("op"), instance.get("owner")
    if op == "embed":
        vecs = [[b / 255 for b in hashlib.sha256(t.encode()).digest()[:8]] for t in instance["input"]]
        return {"model": "all-MiniLM-L6-v2", "embeddings": vecs,
                "tokens": sum(len(t.split()) for t in instance["input"])}
    if not owner:
        return _kit_error(400, "invalid_input", "owner is required")
    if op == "ingest":
        data = base64.b64decode(instance["data"])
        if not data:
            return _kit_error(400, "empty_document", "the document is empty")
        if instance["content_type"] == "application/pdf":
            return _kit_error(422, "unreadable_document", "this PDF cannot be read")
        text = data.decode("utf-8", "replace")
        doc = {"id": uuid.uuid4().hex[:16], "filename": instance["filename"],
               "content_type": instance["content_type"], "bytes": len(data), "pages": 1,
               "chunks": max(1, len(text) // 500), "characters": len(text),
               "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
               "sources": {"text": 1, "ocr": 0}}
        DOCS[doc["id"]] = {"owner": owner, "doc": doc, "text": text}
        return {"document": doc}
    if op == "list":
        return {"documents": [d["doc"] for d in DOCS.values() if d["owner"] == owner]}
    if op in ("get", "delete"):
        entry = DOCS.get(instance.get("document_id", ""))
        if entry is None or entry["owner"] != owner:
            return _kit_error(404, "document_not_found", f"document '{instance.get('document_id')}' not found")
        if op == "delete":
            del DOCS[entry["doc"]["id"]]
            return {"deleted": entry["doc"]["id"]}
        return {"document": entry["doc"]}
    if op == "ask":
        wanted = set(instance.get("document_ids") or []) or None
        for i in sorted(wanted or []):
            if i not in DOCS or DOCS[i]["owner"] != owner:
                return _kit_error(404, "document_not_found", f"no document '{i}'")
        q = _words(instance["question"])
        best = (0, None, None, 0)
        for entry in DOCS.values():
            if entry["owner"] != owner or (wanted and entry["doc"]["id"] not in wanted):
                continue
            for m in re.finditer(r"[^.!?]+[.!?]?", entry["text"]):
                score = len(q & _words(m.group()))
                if score > best[0]:
                    best = (score, entry, m.group().strip(), m.start() + len(m.group()) - len(m.group().lstrip()))
        score, entry, sentence, start = best
        if entry is None:
            return {"found": False, "answer": "not found in your documents", "mode": "extractive", "citations": []}
        cite = {"document_id": entry["doc"]["id"], "filename": entry["doc"]["filename"], "page": 1,
                "start": start, "end": start + len(sentence), "text": sentence, "score": float(score),
                "answer_start": 0, "answer_end": len(sentence)}
        return {"found": True, "answer": sentence, "mode": "extractive", "citations": [cite]}
    return _kit_error(400, "invalid_input", f"unknown op {op!r}")


async def docqa_stream(request: Request) -> Response:
    payload = json.loads(await request.body())
    result = docqa(payload["instances"][0])
    if isinstance(result, Response):
        return result

    async def events():
        try:
            for word in result["answer"].split(" "):
                yield _sse("token", {"text": word + " "})
                await asyncio.sleep(0.01 + STATE["token_delay"])
        except asyncio.CancelledError:  # sse-starlette saw the client go
            STATE["streams_cut"] += 1
            raise
        yield _sse("answer", result)

    return EventSourceResponse(events(), ping=0, sep="\n")  # as the document-qa service answers


def transcription(instance: dict, data: bytes) -> dict:
    words = bool(instance.get("word_timestamps"))
    seg_words = [{"start": 0.0, "end": 0.5, "word": " hello", "probability": 0.9},
                 {"start": 0.5, "end": 1.0, "word": " world", "probability": 0.8}] if words else None
    segments = [
        {"id": 0, "start": 0.0, "end": 1.0, "text": " hello world", "avg_logprob": -0.2, "no_speech_prob": 0.01},
        {"id": 1, "start": 1.0, "end": 3723.5, "text": " second segment", "avg_logprob": -0.3,
         "no_speech_prob": 0.02},
    ]
    if seg_words:
        segments[0]["words"] = seg_words
        segments[1]["words"] = []
    text = " hello world second segment"
    if instance.get("task") == "translate":
        text = " translated text"
    return {"text": text, "language": instance.get("language") or "en", "language_probability": 0.99,
            "duration": len(data) / 32000.0, "segments": segments}


def statement(instance: dict, data: bytes) -> dict:
    return {
        "statement": {"bank_name": "Test Bank", "account_number": "****1234", "currency": "EUR",
                      "period_start": "2024-01-01", "period_end": "2024-01-31",
                      "opening_balance": "100.00", "closing_balance": "88.00"},
        "transactions": [
            {"date": "2024-01-05", "description": "Coffee, \"Bean\" shop", "amount": "-12.00",
             "balance": "88.00", "type": "debit", "page": 1, "row": 1, "confidence": 0.98,
             "balance_ok": True, "problem": None},
        ],
        "checks": {"running_balance_ok": True, "totals_reconcile": True, "problems": []},
        "pages": 1, "vlm": {"configured": False, "used": False},
        "bytes": len(data), "options": {k: v for k, v in instance.items() if k != "document"},
    }


def tiny_png(width: int, height: int) -> bytes:
    """A white 8-bit grayscale PNG, written by hand (no imaging library in the gateway's venv)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def render(instance: dict, data: bytes) -> dict:
    """vlm-service's `task: render` answer: page `page` as a PNG `width` pixels wide (A4 shape)."""
    width = int(instance.get("width", 1200))
    height = round(width * 841.9 / 595.3)
    return {"task": "render", "page": instance.get("page", 1), "pages": 1, "media_type": "image/png",
            "width": width, "height": height, "page_width": 595.3, "page_height": 841.9, "units": "pt",
            "image": {"b64": base64.b64encode(tiny_png(width, height)).decode()}}


async def predict(request: Request) -> Response:
    model = request.path_params["model"]
    if model != STATE["model"]:
        return JSONResponse({"error": f"model {model} not found"}, status_code=404)
    try:
        payload = json.loads(await request.body())
        instance = payload["instances"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return JSONResponse({"error": "invalid v1 payload", "code": "invalid_input"}, status_code=400)
    STATE["calls"] += 1
    if isinstance(instance, dict) and "tag" in instance:  # executions per tag (exactly-once tests)
        STATE["tags"][str(instance["tag"])] = STATE["tags"].get(str(instance["tag"]), 0) + 1
    delay = float(instance.get("delay", 0) if isinstance(instance, dict) else 0) or STATE["delay"]
    if delay:
        await asyncio.sleep(delay)
    fail = (instance.get("fail") if isinstance(instance, dict) else None) or STATE["fail_status"]
    shown = instance
    if isinstance(instance, dict):
        shown = {k: v for k, v in instance.items() if k not in ("audio", "document")}
    STATE["last"] = {"headers": dict(request.headers), "instance": shown}
    if fail:
        code = {400: "invalid_input", 422: "unprocessable", 503: "overloaded"}.get(int(fail), "error")
        if isinstance(instance, dict) and instance.get("fail_code"):
            code = instance["fail_code"]
        headers = {"retry-after": "1"} if int(fail) == 503 else None
        return JSONResponse({"error": f"upstream asked to fail with {fail}", "code": code}, status_code=int(fail),
                            headers=headers)
    if model == "document-qa" and isinstance(instance, dict) and "op" in instance:
        result = docqa(instance)
        return result if isinstance(result, Response) else JSONResponse({"predictions": [result]})
    if isinstance(instance, dict) and "audio" in instance:
        data = base64.b64decode(instance["audio"]["b64"])
        return JSONResponse({"predictions": [transcription(instance, data)]})
    if isinstance(instance, dict) and "document" in instance:
        data = base64.b64decode(instance["document"]["b64"])
        if instance.get("task") == "render":
            return JSONResponse({"predictions": [render(instance, data)]})
        return JSONResponse({"predictions": [statement(instance, data)]})
    return JSONResponse({"predictions": [{"echo": instance, "model": model}]})


async def infer_v2(request: Request) -> Response:
    model = request.path_params["model"]
    if model != STATE["model"]:
        return JSONResponse({"error": f"model {model} not found"}, status_code=404)
    try:
        payload = json.loads(await request.body())
        tensor = next(t for t in payload["inputs"] if t["datatype"] == "BYTES")
        element = tensor["data"][0]
        params = payload.get("parameters") or {}
    except (ValueError, KeyError, IndexError, TypeError, StopIteration):
        return JSONResponse({"error": "invalid v2 payload", "code": "invalid_input"}, status_code=400)
    STATE["calls"] += 1
    STATE["last"] = {"headers": dict(request.headers), "protocol": "v2", "input": tensor["name"],
                     "parameters": params}
    if STATE["delay"]:
        await asyncio.sleep(STATE["delay"])
    if STATE["fail_status"]:
        fail = int(STATE["fail_status"])
        return JSONResponse({"error": f"upstream asked to fail with {fail}", "code": "error"}, status_code=fail)
    if tensor["name"] == "json":
        result = {"echo": json.loads(element), "model": model, "protocol": "v2"}
    else:
        data = base64.b64decode(element, validate=True)
        build = transcription if tensor["name"] == "audio" else statement
        result = build(dict(params), data)
    out = {"name": "result", "shape": [1], "datatype": "BYTES", "data": [json.dumps(result)]}
    return JSONResponse({"model_name": model, "id": payload.get("id") or "1", "outputs": [out]})


def _sse(name: str, data) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def stream(request: Request) -> Response:
    mode = STATE["stream_mode"]
    if request.path_params["model"] != STATE["model"] or mode == "absent":
        return JSONResponse({"error": "not found"}, status_code=404)
    payload = json.loads(await request.body())
    instance = payload["instances"][0]
    shown = {k: v for k, v in instance.items() if k != "audio"}
    STATE["calls"] += 1
    STATE["last"] = {"headers": dict(request.headers), "instance": shown, "stream": True}
    if STATE["delay"]:
        await asyncio.sleep(STATE["delay"])
    if STATE["fail_status"]:
        fail = int(STATE["fail_status"])
        code = {400: "not_audio", 503: "overloaded"}.get(fail, "error")
        return JSONResponse({"error": f"upstream asked to fail with {fail}", "code": code}, status_code=fail,
                            headers={"retry-after": "1"} if fail == 503 else None)
    result = transcription(instance, base64.b64decode(instance["audio"]["b64"]))
    duration = result["segments"][-1]["end"]

    async def body():
        yield _sse("info", {"language": result["language"], "language_probability": 0.99, "duration": duration,
                            "batched": bool(instance.get("batched"))})
        for i, seg in enumerate(result["segments"]):
            yield _sse("segment", {"segment": seg, "decoded_s": seg["end"], "duration": duration,
                                   "progress": round(seg["end"] / duration, 4)})
            if i == 0 and mode == "break":
                await asyncio.sleep(0.3)  # the segment reaches the gateway first, then the crash
                raise ConnectionAbortedError("upstream_app: dropping the stream as asked")
            if i == 0 and mode == "error":
                yield _sse("error", {"error": "the decoder failed", "code": "internal"})
                return
            if mode == "slow":
                await asyncio.sleep(1.0)
            if i == 0 and mode == "stall":
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:  # sse-starlette saw the client go
                    STATE["streams_cut"] += 1
                    raise
        yield _sse("done", result)

    return EventSourceResponse(body(), ping=0, sep="\n")  # as the audio-service answers


async def control(request: Request) -> Response:
    body = json.loads(await request.body() or b"{}")
    for k in ("fail_status", "delay", "stream_mode", "token_delay"):
        if k in body:
            STATE[k] = body[k]
    return JSONResponse({k: STATE[k] for k in ("fail_status", "delay", "calls", "stream_mode")})


async def last(request: Request) -> Response:
    return JSONResponse({"last": STATE["last"], "calls": STATE["calls"], "tags": STATE["tags"],
                         "streams_cut": STATE["streams_cut"]})


async def ok(request: Request) -> Response:
    return JSONResponse({"live": True})


async def model_ready(request: Request) -> Response:
    if request.path_params["model"] != STATE["model"]:
        return JSONResponse({"error": "no such model"}, status_code=404)
    return JSONResponse({"name": STATE["model"], "ready": True})


app = Starlette(routes=[
    Route("/v1/models/{model}:predict", predict, methods=["POST"]),
    Route("/v1/models/document-qa:stream", docqa_stream, methods=["POST"]),
    Route("/v2/models/{model}/infer", infer_v2, methods=["POST"]),
    Route("/v1/models/{model}:stream", stream, methods=["POST"]),
    Route("/control", control, methods=["POST"]),
    Route("/last", last, methods=["GET"]),
    Route("/v2/health/live", ok, methods=["GET"]),
    Route("/v2/health/ready", ok, methods=["GET"]),
    Route("/v2/models/{model}/ready", model_ready, methods=["GET"]),
])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--model", default="custom")
    args = p.parse_args()
    STATE["model"] = args.model
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
