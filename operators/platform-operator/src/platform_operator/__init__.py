"""Kopf operator turning AIService and GPUPool resources into KServe services."""

GROUP = "platform.ai-platform.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
FIELD_MANAGER = "platform-operator"

__all__ = ["API_VERSION", "FIELD_MANAGER", "GROUP", "VERSION"]
