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
    assert {p for p, _ in found["forget_deleted_aiservice"]} == {"aiservices"}
    assert {p for p, _ in found["mirror_inference_service"]} == {"inferenceservices"}
    assert {p for p, _ in found["reconcile_gpupool"]} == {"gpupools"}
    assert handlers.start_audit.__name__ in found and handlers.stop_audit.__name__ in found
    assert "delete_aiservice" not in found and "audit_gpupool" not in found


def test_no_handler_puts_a_finalizer_on_anything():
    """Deleting an AIService or GPUPool must never wait for the operator (helm uninstall removes
    its RBAC together with them): no deletion handler, timer or daemon that needs a finalizer."""
    registry = kopf.get_default_registry()
    for kind in ("_changing", "_watching", "_spawning"):
        for handler in getattr(registry, kind).get_all_handlers():
            assert not getattr(handler, "requires_finalizer", None), handler.fn.__name__
