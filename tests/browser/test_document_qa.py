"""Document QA: upload a PDF by the file picker, see it listed, ask, see the cited passage with the
answer highlighted and its page, "not found in your documents", delete it; and the page says
so clearly when document-qa-service is down."""

import sys
from pathlib import Path

from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from textpdf import text_pdf  # noqa: E402

PAGE_1 = "Harbour office notes. The office keeps the ferry timetable for the island routes."
PAGE_2 = "Visitors must register at the blue kiosk beside the ferry ramp before boarding."


def open_page(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Document QA").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Document QA")


def test_upload_ask_see_the_cited_passage_and_delete(signed_in, tmp_path, shot, unlabelled):
    page = signed_in
    pdf = tmp_path / "harbour-notes.pdf"
    pdf.write_bytes(text_pdf([PAGE_1, PAGE_2]))
    open_page(page)
    expect(page.get_by_text("No documents yet")).to_be_visible()

    page.get_by_label("Add a document (PDF, DOCX, HTML, Markdown or text)").set_input_files(str(pdf))
    row = page.locator("table.documents tbody tr").filter(has_text="harbour-notes.pdf")
    expect(row.or_(page.locator("#document-file-error"))).to_be_visible(timeout=120_000)
    expect(page.locator("#document-file-error")).to_have_count(0)
    expect(row.locator("td").nth(1)).to_have_text("2")  # pages

    page.get_by_label("Question", exact=True).fill("Where must visitors register before boarding?")
    page.get_by_role("button", name="Ask").click()
    citation = page.locator("figure.citation").first
    expect(citation).to_be_visible(timeout=60_000)
    expect(citation).to_contain_text("harbour-notes.pdf")
    expect(citation.locator(".page")).to_have_text("page 2")
    expect(citation.locator("blockquote")).to_contain_text("blue kiosk")
    expect(citation.locator("mark")).to_have_count(1)
    assert citation.locator("mark").inner_text().strip()  # the answer span is highlighted
    expect(page.locator(".answer")).to_contain_text("kiosk")
    shot(page, "document-qa-answer")
    assert unlabelled(page) == []

    page.get_by_label("Question", exact=True).fill("What is the airspeed velocity of an unladen swallow?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator(".not-found")).to_have_text("Not found in your documents.", timeout=60_000)

    row.get_by_role("button", name="Delete harbour-notes.pdf").click()
    expect(row).to_have_count(0)
    expect(page.get_by_text("No documents yet")).to_be_visible()
    page.reload()
    page.get_by_role("button", name="Sign out").wait_for()
    open_page(page)
    expect(page.get_by_text("No documents yet")).to_be_visible()  # gone on the server too


def test_document_qa_service_down_is_shown_clearly(signed_in, stack, shot):
    page = signed_in
    stack.docqa.stop()
    try:
        open_page(page)
        banner = page.locator(".service-problem")
        expect(banner).to_be_visible(timeout=30_000)
        expect(banner).to_contain_text("upstream down")
        expect(banner).to_contain_text("document-qa")
        page.get_by_label("Question", exact=True).fill("Anything?")
        page.get_by_role("button", name="Ask").click()
        expect(page.get_by_role("button", name="Ask", exact=True)).to_be_enabled()  # the ask has ended
        expect(banner).to_be_visible()
        expect(page.locator(".answer-card")).to_have_count(0)
        assert "Traceback" not in banner.inner_text()
        shot(page, "document-qa-down")
    finally:
        stack.docqa.start(wait=False)
        stack.docqa.wait_ready()
    banner.get_by_role("button", name="Try again").click()
    expect(page.locator(".service-problem")).to_have_count(0, timeout=30_000)
    expect(page.get_by_text("No documents yet")).to_be_visible()
