"""Shared building blocks of ai-platform's Python model services."""

__version__ = "0.1.0"
