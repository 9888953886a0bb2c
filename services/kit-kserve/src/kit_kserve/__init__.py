"""The KServe part of kit: what every KServe model service of ai-platform builds on."""

__version__ = "0.1.0"
