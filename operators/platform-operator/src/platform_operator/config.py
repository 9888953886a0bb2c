"""Operator settings from the environment (names start with OPERATOR_)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_SA_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def _own_namespace() -> str:
    try:
        return _SA_NAMESPACE.read_text(encoding="utf-8").strip()
    except OSError:
        return "ai-platform"


@dataclass(frozen=True)
class OperatorConfig:
    """Where the operator writes the objects that are not owned by one resource."""

    namespace: str = "ai-platform"
    routes_configmap: str = "ai-platform-gateway-routes"
    routes_key: str = "routes.json"
    device_plugin_namespace: str = "nvidia-device-plugin"
    http_port: int = 8080

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OperatorConfig:
        """Read OPERATOR_NAMESPACE, OPERATOR_ROUTES_CONFIGMAP, OPERATOR_ROUTES_KEY,
        OPERATOR_DEVICE_PLUGIN_NAMESPACE; unset ones keep their defaults."""
        env = os.environ if env is None else env
        return cls(
            namespace=env.get("OPERATOR_NAMESPACE") or _own_namespace(),
            routes_configmap=env.get("OPERATOR_ROUTES_CONFIGMAP", cls.routes_configmap),
            routes_key=env.get("OPERATOR_ROUTES_KEY", cls.routes_key),
            device_plugin_namespace=env.get("OPERATOR_DEVICE_PLUGIN_NAMESPACE", cls.device_plugin_namespace),
        )
