"""Status conditions: set idempotently, mirror readiness from the InferenceService."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> str:
    """Current time in RFC 3339 (seconds, UTC)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def find(conditions: list[dict] | None, kind: str) -> dict | None:
    """The condition of a type, or None."""
    return next((c for c in conditions or [] if c.get("type") == kind), None)


def is_true(conditions: list[dict] | None, kind: str) -> bool:
    """Whether the condition of a type has status True."""
    cond = find(conditions, kind)
    return cond is not None and cond.get("status") == "True"


def set_condition(conditions: list[dict] | None, kind: str, status: bool | str, reason: str,
                  message: str = "", generation: int | None = None, at: str | None = None) -> list[dict]:
    """Return conditions with one set; lastTransitionTime changes only when the status does."""
    value = status if isinstance(status, str) else ("True" if status else "False")
    old = find(conditions, kind)
    changed = old is None or old.get("status") != value
    new = {"type": kind, "status": value, "reason": reason, "message": message,
           "lastTransitionTime": (at or now()) if changed else old.get("lastTransitionTime", at or now())}
    if generation is not None:
        new["observedGeneration"] = generation
    rest = [c for c in conditions or [] if c.get("type") != kind]
    return sorted([*rest, new], key=lambda c: c["type"])


def drop_condition(conditions: list[dict] | None, kind: str) -> list[dict]:
    """Return conditions without the given type."""
    return [c for c in conditions or [] if c.get("type") != kind]


def isvc_ready(isvc: dict | None) -> tuple[str, str, str]:
    """(status, reason, message) of an InferenceService's Ready condition."""
    if not isvc:
        return "Unknown", "InferenceServiceMissing", "no InferenceService yet"
    cond = find((isvc.get("status") or {}).get("conditions"), "Ready")
    if cond is None:
        return "Unknown", "InferenceServicePending", "InferenceService has not reported readiness"
    reason = cond.get("reason") or ("InferenceServiceReady" if cond.get("status") == "True"
                                    else "InferenceServiceNotReady")
    return cond.get("status", "Unknown"), reason, cond.get("message", "")


def mirror_ready(status: dict | None, isvc: dict | None, generation: int | None = None) -> dict:
    """Status fields (conditions, url) of an AIService after its InferenceService's state."""
    status = status or {}
    ready, reason, message = isvc_ready(isvc)
    conditions = set_condition(status.get("conditions"), "Ready", ready, reason, message, generation)
    out = {"conditions": conditions}
    url = ((isvc or {}).get("status") or {}).get("url")
    if url:
        out["url"] = url
    return out
