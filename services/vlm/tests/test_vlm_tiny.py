"""The VLM path with a tiny random LLaVA built from a config and loaded by the production code."""

import httpx

from conftest import predict
from vlm_service.synth import make_statement, render_pdf
from vlm_service.vlm import VLM


def test_production_loader_loads_the_saved_model(tiny_vlm_dir):
    from PIL import Image

    vlm = VLM(str(tiny_vlm_dir), max_new_tokens=8).load()
    assert vlm.device == "cpu" and vlm.model is not None
    answer = vlm.generate(Image.new("RGB", (400, 600), "white"), "what is the balance")
    assert isinstance(answer, str) and answer


def test_ask_returns_text(vlm_server):
    stmt = make_statement("signed_amount", 0)
    resp = predict(vlm_server.url, render_pdf(stmt), task="ask", question="What is the closing balance?")
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert result["task"] == "ask" and result["page"] == 1 and result["pages"] == 1
    assert isinstance(result["answer"], str) and result["answer"].strip()
    assert result["vlm"] == {"configured": True, "used": True}
    resp = predict(vlm_server.url, render_pdf(stmt), task="ask", question="Which bank?", page=9)
    assert resp.status_code == 400


def test_fallback_reports_invalid_vlm_output_and_keeps_flagged_rows(vlm_server):
    stmt = make_statement("signed_amount", 3)
    stmt.transactions[4].balance += 1  # a misprinted running balance fails the checks
    resp = predict(vlm_server.url, render_pdf(stmt))
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert result["vlm"] == {"configured": True, "used": True}
    assert len(result["transactions"]) == len(stmt.transactions)
    assert any(not t["balance_ok"] for t in result["transactions"])
    codes = [p["code"] for p in result["checks"]["problems"]]
    assert "vlm_output_invalid" in codes and "balance_mismatch" in codes
    note = next(p for p in result["checks"]["problems"] if p["code"] == "vlm_output_invalid")
    assert note["page"] == 1 and "keeps its flagged rows" in note["message"]


def test_good_statement_does_not_call_the_vlm(vlm_server):
    resp = predict(vlm_server.url, render_pdf(make_statement("french", 0)))
    result = resp.json()["predictions"][0]
    assert result["vlm"] == {"configured": True, "used": False}
    assert httpx.get(f"{vlm_server.url}/v2/health/ready").status_code == 200
