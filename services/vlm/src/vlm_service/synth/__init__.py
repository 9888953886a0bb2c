"""Synthetic bank statements with ground truth (text PDFs and scans) for tests and benchmarks.

    from vlm_service.synth import make_statement, render_pdf, scan_pdf, LAYOUTS
    stmt = make_statement("debit_credit", seed=3)
    pdf = render_pdf(stmt); truth = stmt.truth()
"""

from .generate import Statement, Txn, make_statement, render_pdf, scan_images, scan_pdf
from .layouts import LAYOUTS

__all__ = ["LAYOUTS", "Statement", "Txn", "make_statement", "render_pdf", "scan_images", "scan_pdf"]
