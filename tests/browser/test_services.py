"""The services page: health, readiness and breakers from /api/v1/health, refreshed; a stopped
service shows as down. Pages for known kinds appear from the route table alone."""

from playwright.sync_api import expect


def row(page, name):
    return page.locator(f'[data-testid="service-row"][data-service="{name}"]')


def test_services_page_shows_a_stopped_service_as_down(signed_in, stack, shot, unlabelled):
    page = signed_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Services").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Services")
    for name in ("audio", "vlm"):
        expect(row(page, name).get_by_test_id("service-state")).to_have_text("Up")
    # Routes whose upstream is not running are down from the start.
    expect(row(page, "translation-legal").get_by_test_id("service-state")).to_have_text("Down")
    expect(page.get_by_test_id("platform-status")).to_have_text("Platform degraded")
    shot(page, "services")
    assert unlabelled(page) == []

    stack.audio.stop()
    try:
        # The page refreshes by itself (every 5 s).
        expect(row(page, "audio").get_by_test_id("service-state")).to_have_text("Down", timeout=20_000)
        expect(row(page, "audio").locator("td").nth(2)).to_have_text("no")  # live
        expect(row(page, "vlm").get_by_test_id("service-state")).to_have_text("Up")
        shot(page, "services-audio-down")
    finally:
        stack.audio.start(wait=False)
        stack.audio.wait_ready()
    expect(row(page, "audio").get_by_test_id("service-state")).to_have_text("Up", timeout=20_000)


def test_pages_for_known_kinds_come_from_the_route_table(signed_in, shot):
    page = signed_in
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Translation")).to_be_visible()
    expect(nav.get_by_role("link", name="Document QA")).to_be_visible()

    nav.get_by_role("link", name="Translation").click()
    # Three routes of the translation kind: one page, with a choice of service.
    picker = page.get_by_label("Service", exact=True)
    expect(picker.locator("option")).to_have_count(3)
    expect(picker).to_have_value("translation")
    picker.select_option("translation-legal")
    expect(page.get_by_test_id("translation-languages-error")).to_contain_text("HTTP 5")
    page.get_by_label("To (language code)").fill("en")
    page.get_by_label("Text", exact=True).fill("Guten Morgen")
    page.get_by_role("button", name="Translate").click()
    # Its upstream is not running: the error is shown next to the form, readable.
    error = page.locator("#translate-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("HTTP 5")
    assert "Traceback" not in error.inner_text()
    shot(page, "translation-upstream-down")

    nav.get_by_role("link", name="Document QA").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Document QA")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#question-error")).to_have_text("Type a question.")
    shot(page, "document-qa")
