"""Signing in: a wrong key, a key that lacks a scope, keyboard use, the key kept out of URLs."""

from playwright.sync_api import expect


def test_wrong_key_shows_a_clear_message_next_to_the_field(page, shot):
    page.goto("/")
    field = page.get_by_label("API key")
    field.fill("not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator("#api-key-error")
    expect(error).to_have_text("That API key was not accepted. Check it and try again.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "api-key-error")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    shot(page, "signin-wrong-key")


def test_empty_key_is_caught_before_calling_the_gateway(page):
    page.goto("/")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#api-key-error")).to_have_text("Enter your API key.")


def test_sign_in_with_the_keyboard_keeps_the_key_in_the_session_only(page, keys, shot):
    page.goto("/")
    shot(page, "signin")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")
    expect(page.get_by_label("API key")).to_be_focused()
    page.keyboard.type(keys["full"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    nav = page.get_by_role("navigation", name="Main")
    for title in ["Transcribe", "Bank statements", "Jobs", "Services"]:
        expect(nav.get_by_role("link", name=title)).to_be_visible()
    assert keys["full"] not in page.url
    assert page.evaluate("sessionStorage.getItem('aip.apiKey')") == keys["full"]
    assert page.evaluate("localStorage.length") == 0
    shot(page, "home")

    # A reload keeps the session; signing out forgets the key.
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('aip.apiKey')") is None


def test_a_key_without_the_statements_scope_is_told_so(page, sign_in, keys, shot):
    sign_in(page, keys["audio_only"])
    page.goto("/#/statements")
    notice = page.get_by_role("alert").filter(has_text="lacks")
    expect(notice).to_contain_text("Your API key lacks the “statements” scope needed here.")
    expect(page.get_by_label("Choose a statement (PDF or image)")).to_be_disabled()
    shot(page, "statements-missing-scope")
    # The transcription page is usable with this key.
    page.goto("/#/transcribe")
    expect(page.get_by_label("Choose an audio file")).to_be_enabled()
    expect(page.get_by_role("alert").filter(has_text="lacks")).to_have_count(0)
