"""The Translation page against a real translation-service (a tiny random MarianMT, en->de) and
one without a model: languages from the service, text with its structure, a document translated
as a job and downloaded, and the not-configured state. The model's words are noise: the tests
check structure and behaviour."""

from pathlib import Path

from playwright.sync_api import expect

MARKDOWN = "# The bank sends the statement\n\n- first item of the list\n- second item\n\n```\ncode stays\n```\n"


def open_translation(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Translation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Translation")


def test_text_and_document_translation(signed_in, shot, unlabelled, tmp_path):
    page = signed_in
    open_translation(page)
    expect(page.get_by_label("Service", exact=True)).to_have_value("translation")
    source, target = page.get_by_label("From", exact=True), page.get_by_label("To", exact=True)
    expect(source.locator("option")).to_have_text(["Detect automatically", "English (en)"])
    expect(target.locator("option")).to_have_text(["German (de)"])
    expect(target).to_have_value("de")

    page.get_by_label("Text", exact=True).fill("Quarterly letter\n\n- The customer writes a long letter to the bank.\n"
                                               "- The bank sends ACME Pay the statement.")
    page.get_by_label("Keep these terms (comma-separated)").fill("ACME Pay")
    page.get_by_role("button", name="Translate").click()
    out = page.get_by_test_id("translation-output")
    expect(out).to_be_visible(timeout=60_000)
    lines = out.inner_text().split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[2].startswith("- ") and lines[3].startswith("- ")
    assert "ACME Pay" in lines[3]
    expect(page.get_by_test_id("translation-languages")).to_contain_text("en → de (detected")
    shot(page, "translation-text")
    assert unlabelled(page) == []

    doc = tmp_path / "notes.md"
    doc.write_text(MARKDOWN)
    page.get_by_label("Choose a document (.txt, .md, .docx or .html)").set_input_files(str(doc))
    done = page.get_by_test_id("translation-document")
    expect(done).to_be_visible(timeout=120_000)
    shot(page, "translation-document")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download notes.de.md").click()
    assert dl.value.suggested_filename == "notes.de.md"
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# ") and "\n- " in text and "```\ncode stays\n```" in text
    assert "The bank sends the statement" not in text


def test_not_configured_service_is_shown(signed_in, shot):
    page = signed_in
    open_translation(page)
    page.get_by_label("Service", exact=True).select_option("translation-bare")
    notice = page.get_by_test_id("translation-not-configured")
    expect(notice).to_contain_text("Translation is not configured")
    expect(notice).to_contain_text("TRANSLATION_MODEL")
    expect(page.get_by_role("button", name="Translate")).to_be_disabled()
    shot(page, "translation-not-configured")
