"""Bank statements: upload a generated statement, check the summary, table, badge, charts, CSV."""

import base64
import csv
import io
import re

import httpx

from playwright.sync_api import expect

N = 12


def test_statement_is_read_reconciled_and_exported(signed_in, statement, shot, unlabelled, stack, keys):
    page = signed_in
    pdf, truth = statement(N)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bank statements").click()
    # every date order the gateway accepts is offered, YMD included
    order = page.get_by_label("Date order")
    expect(order.locator("option")).to_have_text(["Detect automatically", "Day / month / year",
                                                  "Month / day / year", "Year / month / day"])
    assert order.locator("option").evaluate_all("os => os.map(o => o.value)") == ["", "DMY", "MDY", "YMD"]
    page.get_by_label("Choose a statement (PDF or image)").set_input_files(str(pdf))

    badge = page.get_by_test_id("reconciliation")
    # Wait for the result or an error, and fail at once with the error if there is one.
    expect(badge.or_(page.locator("#statement-file-error"))).to_be_visible(timeout=180_000)
    expect(page.locator("#statement-file-error")).to_have_count(0)
    expect(badge).to_have_text("Reconciled")
    expect(page.get_by_test_id("tx-count")).to_have_text(str(N))
    expect(page.get_by_test_id("tx-row")).to_have_count(N)
    expect(page.locator("tr.bad")).to_have_count(0)
    summary = page.get_by_role("region", name="Statement summary")
    expect(summary).to_contain_text(truth["statement"]["account_number"])
    expect(page.locator(".chart svg")).to_be_visible()  # running balance
    expect(page.get_by_role("figure").filter(has_text="Money in and out per month").locator("tbody tr").first).to_be_visible()
    shot(page, "statements")
    assert unlabelled(page) == []

    # Search narrows the table; sorting by amount puts the largest debit first.
    first_desc = truth["transactions"][0]["description"]
    page.get_by_label("Search", exact=True).fill(first_desc)
    expect(page.get_by_test_id("tx-shown")).to_have_text(re.compile(rf"^Showing [1-9]\d* of {N} transactions\.$"))
    expect(page.get_by_test_id("tx-row").first).to_contain_text(first_desc)
    page.get_by_label("Search", exact=True).fill("")
    page.get_by_role("button", name=re.compile("^Amount")).focus()  # sorting works from the keyboard
    page.keyboard.press("Enter")
    smallest = min(truth["transactions"], key=lambda t: float(t["amount"]))
    expect(page.get_by_test_id("tx-row").first).to_contain_text(smallest["description"])
    expect(page.get_by_role("columnheader", name=re.compile("^Amount"))).to_have_attribute("aria-sort", "ascending")
    page.get_by_label("Show", exact=True).select_option("problems")
    expect(page.get_by_test_id("tx-row")).to_have_count(0)
    page.get_by_label("Show", exact=True).select_option("all")

    with page.expect_download() as dl:
        page.get_by_role("button", name="Download CSV").click()
    assert dl.value.suggested_filename == pdf.with_suffix(".csv").name
    rows = list(csv.reader(io.StringIO(open(dl.value.path(), encoding="utf-8", newline="").read())))
    assert rows[0] == ["date", "description", "amount", "balance", "type", "page", "balance_ok", "problem"]
    assert len(rows) == N + 1
    assert sorted(r[2] for r in rows[1:]) == sorted(t["amount"] for t in truth["transactions"])

    # The browser's file is the gateway's CSV, byte for byte (one writer: formula guard, CRLF).
    with httpx.Client(base_url=stack.gateway.url, headers={"Authorization": f"Bearer {keys['full']}"}) as gw:
        job = gw.get("/api/v1/jobs", params={"limit": 1}).json()["jobs"][0]
        assert job["kind"] == "statement-extraction" and job["filename"] == pdf.name
        assert gw.get(f"/api/v1/jobs/{job['id']}").json()["result"]["transactions"]
        from_gateway = gw.get(f"/api/v1/jobs/{job['id']}/result", params={"format": "csv"})
    assert from_gateway.status_code == 200
    downloaded = open(dl.value.path(), "rb").read()
    assert downloaded == from_gateway.content
    assert downloaded.count(b"\r\n") == N + 1


def test_statement_dropped_at_phone_width_has_no_sideways_scroll(make_page, sign_in, statement, shot):
    page = make_page("phone")
    sign_in(page)
    pdf, _ = statement(6, seed=11)
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bank statements").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    # Drop the file on the drop zone, as a person dragging it from their files would.
    data = base64.b64encode(pdf.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: "application/pdf" }));
            return dt;
        }""",
        [pdf.name, data],
    )
    page.locator(".drop").dispatch_event("drop", {"dataTransfer": transfer})
    # Wait for the result or an error, and fail at once with the error if there is one.
    expect(page.get_by_test_id("reconciliation").or_(page.locator("#statement-file-error"))).to_be_visible(timeout=180_000)
    expect(page.locator("#statement-file-error")).to_have_count(0)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone screen"
    shot(page, "statements-phone")


def test_a_broken_file_shows_a_clear_error(signed_in, tmp_path, shot):
    page = signed_in
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> this file is cut short")
    page.goto("/#/statements")
    page.get_by_label("Choose a statement (PDF or image)").set_input_files(str(bad))
    error = page.locator("#statement-file-error")
    expect(error).to_be_visible(timeout=120_000)
    message = error.inner_text()
    assert re.search(r"HTTP \d{3}\)$", message), message
    assert "Traceback" not in message and len(message) < 400, message
    expect(page.get_by_test_id("reconciliation")).to_have_count(0)
    expect(page.get_by_label("Choose a statement (PDF or image)")).to_have_attribute("aria-invalid", "true")
    shot(page, "statements-broken-file")
