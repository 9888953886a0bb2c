"""vlm-service: bank statements (text PDFs, scans, page images) to reconciled transactions."""

__version__ = "0.1.0"
