"""The generator's CLI, used by the gateway and web-UI tests to make statements."""

import json
import subprocess
import sys

import pypdfium2 as pdfium

from vlm_service.synth import LAYOUTS


def test_at_least_six_layouts():
    assert len(LAYOUTS) >= 6


def test_cli_text_pdf_and_truth(tmp_path):
    out, truth = tmp_path / "s.pdf", tmp_path / "s.json"
    subprocess.run([sys.executable, "-m", "vlm_service.synth", "--layout", "debit_credit", "--seed", "4",
                    "--out", str(out), "--truth", str(truth)], check=True)
    doc = pdfium.PdfDocument(out.read_bytes())
    assert len(doc) == 1 and "Withdrawals" in doc[0].get_textpage().get_text_range()
    data = json.loads(truth.read_text())
    assert data["layout"] == "debit_credit" and data["transactions"]
    assert data["statement"]["account_number"].startswith("****")


def test_cli_scan_has_no_text_layer(tmp_path):
    out = tmp_path / "scan.pdf"
    subprocess.run([sys.executable, "-m", "vlm_service.synth", "--layout", "european", "--out", str(out),
                    "--scan"], check=True)
    doc = pdfium.PdfDocument(out.read_bytes())
    assert doc[0].get_textpage().get_text_range().strip() == ""
