"""Live transcription: `POST /api/v1/live-tokens` and the WebSocket `/api/v1/<resource>/live`."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Body, Query, WebSocket, WebSocketDisconnect

from ..auth import Principal, extract_key, require_scope
from ..deps import GW, Auth
from ..errors import ApiError
from ..live import (FORBIDDEN, INTERNAL, NOT_FOUND, TOO_MANY, UNAUTHORIZED, Limits, LiveError, principal_by_id,
                    proxy, send_error)
from ..schemas import LiveTokenIn, LiveTokenOut, error_responses

router = APIRouter(tags=["live"])
log = logging.getLogger("gateway.live")


@router.post("/api/v1/live-tokens", status_code=201, response_model=LiveTokenOut,
             responses=error_responses(401, 403, 404, 422, 429))
async def create_live_token(gw: GW, principal: Auth,
                            body: Annotated[LiveTokenIn | None, Body()] = None) -> LiveTokenOut:
    """A short-lived token that opens live sessions for this key (browsers cannot send the key
    as a WebSocket header): open `url` within `expires_in` seconds."""
    resource = (body or LiveTokenIn()).resource
    route = gw.runner.route_for(resource, ("transcription",))
    require_scope(principal, route)
    token, exp = gw.live_tokens.issue(principal, route.resource)
    expires_at = dt.datetime.fromtimestamp(exp, dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return LiveTokenOut(token=token, expires_at=expires_at, expires_in=gw.settings.live_token_ttl_s,
                        url=f"/api/v1/{route.resource}/live?token={token}")


async def _principal(ws: WebSocket, gw, resource: str, token: str | None) -> Principal:
    """The key behind a token or an `Authorization` / `X-API-Key` header; LiveError if none."""
    if token:
        key_id = gw.live_tokens.check(token, resource)
        principal = await to_thread.run_sync(principal_by_id, gw.Session, key_id)
        if principal is None:
            raise LiveError(UNAUTHORIZED, "invalid_api_key", "the key this token was issued to was revoked")
        return principal
    try:
        key = extract_key(ws.headers.get("authorization"), ws.headers.get("x-api-key"))
    except ApiError as exc:
        raise LiveError(UNAUTHORIZED, exc.code, exc.message) from None
    if not key:
        raise LiveError(UNAUTHORIZED, "missing_api_key", "send a token from POST /api/v1/live-tokens as ?token=, "
                        "or the API key as 'Authorization: Bearer <key>' or 'X-API-Key'")
    hit, principal, key_hash = gw.keys.cached(key)
    if not hit:
        principal = await to_thread.run_sync(gw.keys.resolve, key_hash)
    if principal is None:
        raise LiveError(UNAUTHORIZED, "invalid_api_key", "the API key is not valid or was revoked")
    return principal


@router.websocket("/api/v1/{resource}/live")
async def live_session(ws: WebSocket, resource: str, token: Annotated[str | None, Query(max_length=2000)] = None):
    """Live transcription (protocol in docs/GATEWAY_API.md): a `start` message, binary audio
    frames, `stop`; `partial`, `final`, `error` and `done` messages back."""
    gw = ws.app.state.gw
    s = gw.settings
    await ws.accept()
    slot: str | None = None
    try:
        try:
            route = gw.runner.route_for(resource, ("transcription",))
        except ApiError as exc:
            raise LiveError(NOT_FOUND, exc.code, exc.message) from None
        principal = await _principal(ws, gw, route.resource, token)
        try:
            await gw.limiter.check(principal)
            require_scope(principal, route)
        except ApiError as exc:
            raise LiveError(FORBIDDEN if exc.status == 403 else TOO_MANY, exc.code, exc.message) from None
        gw.live_slots.acquire(principal.key_id)
        slot = principal.key_id
        limits = Limits(idle_s=s.live_idle_timeout_s, max_session_s=s.live_max_session_s,
                        connect_timeout_s=s.connect_timeout_s, max_frame_bytes=s.live_max_frame_kb * 1024)
        await proxy(ws, route, limits, ws.headers.get("x-request-id") or secrets.token_hex(8))
    except LiveError as exc:
        await send_error(ws, exc)
    except WebSocketDisconnect:
        log.info("live client disconnected")
    except Exception:  # a bug: never leave the socket half-open
        log.exception("live session failed")
        await send_error(ws, LiveError(INTERNAL, "internal", "the live session failed"))
    finally:
        if slot is not None:
            gw.live_slots.release(slot)
