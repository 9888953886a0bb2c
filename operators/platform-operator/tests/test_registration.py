"""The handlers are registered with kopf for the right resources and causes."""

import kopf

from platform_operator import handlers


def _registered():
    registry = kopf.get_default_registry()
    found = {}
    for kind in ("_changing", "_watching", "_spawning", "_activities"):
        sub = getattr(registry, kind)
        for handler in sub.get_all_handlers():
            selector = getattr(handler, "selector", None)
            plural = getattr(selector, "plural", None) or getattr(selector, "any_name", None)
            reason = getattr(handler, "reason", None)
            if reason is None and getattr(handler, "initial", False):
                reason = "resume"
            found.setdefault(handler.fn.__name__, set()).add((plural, str(reason)))
    return found


def test_handlers_are_registered():
    found = _registered()
    assert handlers.configure.__name__ in found
    reasons = {r for _, r in found["reconcile_aiservice"]}
    assert {"create", "update", "resume"} <= reasons
    assert {p for p, _ in found["reconcile_aiservice"]} == {"aiservices"}
    assert ("aiservices", "delete") in found["delete_aiservice"]
    assert {p for p, _ in found["mirror_inference_service"]} == {"inferenceservices"}
    assert {p for p, _ in found["reconcile_gpupool"]} == {"gpupools"}
    assert {p for p, _ in found["audit_gpupool"]} == {"gpupools"}
