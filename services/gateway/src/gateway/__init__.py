"""ai-platform API gateway: one product API in front of every model service."""

__version__ = "0.1.0"
