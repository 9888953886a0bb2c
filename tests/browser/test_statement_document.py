"""Issue 18: the statement's document view. Each statement comes from the vlm service's own
generator (run in its venv); the page image is the gateway's (GET /api/v1/jobs/{id}/pages/{n},
rendered by the real vlm-service). Screenshots: $AIP_ARTIFACTS or tests/browser/artifacts/
(statement-tampered*.png, statement-no-balances.png, statement-card.png, statement-doc-phone.png)."""

from __future__ import annotations

import re
import subprocess

from playwright.sync_api import expect

RED, GREEN, GREY = "rgb(179, 38, 30)", "rgb(29, 122, 58)", "rgb(122, 128, 138)"

TAMPERED = """import sys
from vlm_service.synth import make_statement, render_pdf
s = make_statement("signed_amount", 5, 10)
s.transactions[3].amount -= 10  # the printed amount of row 4 no longer gives its printed balance
open(sys.argv[1], "wb").write(render_pdf(s))
"""


def generate(stack, tmp_path, name: str, *args: str, code: str | None = None):
    out = tmp_path / name
    cmd = [str(stack.vlm.bin / "python")] + (["-c", code, str(out)] if code else
                                             ["-m", "vlm_service.synth", *args, "--out", str(out)])
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def upload(page, pdf) -> None:
    page.goto("/#/statements")
    page.get_by_label("Choose a statement (PDF or image)").set_input_files(str(pdf))
    badge = page.get_by_test_id("reconciliation")
    expect(badge.or_(page.locator("#statement-file-error"))).to_be_visible(timeout=180_000)
    expect(page.locator("#statement-file-error")).to_have_count(0)
    expect(page.get_by_test_id("page-image")).to_be_visible(timeout=60_000)
    page.wait_for_function("() => { const i = document.querySelector('[data-testid=page-image]'); "
                           "return i && i.complete && i.naturalWidth > 0; }")


def stroke(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).stroke")


def inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


def test_a_tampered_row_is_red_on_the_page_and_in_the_table(signed_in, stack, tmp_path, shot, unlabelled):
    page = signed_in
    upload(page, generate(stack, tmp_path, "tampered.pdf", code=TAMPERED))
    expect(page.get_by_test_id("reconciliation")).to_have_text("Does not reconcile")
    row = page.locator('tr[data-key="1-4"]')
    expect(row).to_have_attribute("data-check", "failed")
    expect(row).to_have_class(re.compile(r"\bbad\b"))
    expect(row.get_by_test_id("check")).to_have_text("⚠ Failed")
    expect(row).to_contain_text("but the statement prints")  # the problem, as a sentence
    box = page.locator('[data-testid="box"][data-key="1-4"]')
    expect(box).to_have_attribute("data-check", "failed")
    assert stroke(box) == RED
    # every other row is verified by its printed balance: green on the page and in the table
    expect(page.locator('[data-testid="box"][data-check="verified"]')).to_have_count(9)
    expect(page.locator('tr[data-check="verified"]')).to_have_count(9)
    assert {stroke(b) for b in page.locator('[data-testid="box"][data-check="verified"]').all()} == {GREEN}
    expect(page.get_by_test_id("count-verified")).to_have_text("9")
    expect(page.get_by_test_id("count-failed")).to_have_text("1")
    expect(page.get_by_test_id("count-not_checkable")).to_have_text("0")
    # the boxes lie on the page image, in row order
    image = page.get_by_test_id("page-image").bounding_box()
    boxes = [b.bounding_box() for b in page.get_by_test_id("box").all()]
    assert len(boxes) == 10 and all(inside(b, image) for b in boxes)
    assert [b["y"] for b in boxes] == sorted(b["y"] for b in boxes)
    # problems read as sentences: the statement-level one has no place, the row's links to it
    problems = page.get_by_test_id("problems")
    expect(problems).not_to_contain_text("null")
    totals = problems.locator("li").filter(has_text="The opening balance")
    expect(totals).to_have_count(1)
    assert totals.inner_text().strip().startswith("The opening balance"), totals.inner_text()  # no place
    assert "but the closing balance is" in totals.inner_text()
    problems.get_by_role("button", name="Page 1, row 4").click()
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    expect(box).to_have_class(re.compile(r"\bselected\b"))
    shot(page, "statement-tampered")
    assert unlabelled(page) == []


def test_a_statement_without_running_balances_is_not_checkable(signed_in, stack, tmp_path, shot):
    page = signed_in
    upload(page, generate(stack, tmp_path, "no-balance.pdf", "--layout", "no_balance", "--seed", "3",
                          "--transactions", "8"))
    expect(page.get_by_test_id("tx-row")).to_have_count(8)
    checks = page.get_by_test_id("tx-row").get_by_test_id("check")
    expect(checks).to_have_text(["– Not checkable"] * 8)
    expect(page.locator("table.tx")).not_to_contain_text("✓")
    expect(page.get_by_test_id("count-not_checkable")).to_have_text("8")
    expect(page.get_by_test_id("count-verified")).to_have_text("0")
    boxes = page.locator('[data-testid="box"]')
    expect(boxes).to_have_count(8)
    assert {b.get_attribute("data-check") for b in boxes.all()} == {"not_checkable"}
    assert {stroke(b) for b in boxes.all()} == {GREY}
    shot(page, "statement-no-balances")


def test_clicking_a_row_highlights_its_box_and_the_other_way_round(signed_in, stack, tmp_path, shot):
    page = signed_in
    upload(page, generate(stack, tmp_path, "click.pdf", "--layout", "signed_amount", "--seed", "9",
                          "--transactions", "10"))
    page.locator('tr[data-key="1-3"]').get_by_role("button").click()
    box3 = page.locator('[data-testid="box"][data-key="1-3"]')
    expect(box3).to_have_class(re.compile(r"\bselected\b"))
    expect(box3).to_have_attribute("aria-pressed", "true")
    expect(page.locator('[data-testid="box"].selected')).to_have_count(1)
    # the selected box is drawn over its row: the row's description is printed inside it
    desc = page.locator('tr[data-key="1-3"] td').nth(1).inner_text()
    assert desc in box3.get_attribute("aria-label")
    page.locator('[data-testid="box"][data-key="1-7"]').click()
    row7 = page.locator('tr[data-key="1-7"]')
    expect(row7).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("tr.selected")).to_have_count(1)
    expect(row7.get_by_role("button")).to_be_focused()
    # from the keyboard too
    page.locator('[data-testid="box"][data-key="1-2"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator('tr[data-key="1-2"]')).to_have_class(re.compile(r"\bselected\b"))
    shot(page, "statement-tampered-click")


def test_a_card_statement_shows_the_balance_owed(signed_in, stack, tmp_path, shot):
    page = signed_in
    upload(page, generate(stack, tmp_path, "card.pdf", "--layout", "random", "--seed", "7"))
    expect(page.get_by_test_id("closing")).to_have_text(re.compile(r"^\S+ owed$"))
    summary = page.get_by_role("region", name="Statement summary")
    expect(summary).to_contain_text("New balance")
    reading = page.get_by_test_id("reading")
    expect(reading).to_contain_text("card statement")
    expect(reading).to_contain_text(re.compile(r"confidence \d+%"))
    expect(reading).to_contain_text("Page 1: text layer")
    expect(page.get_by_test_id("tx-row").first.locator("td.num").nth(1)).to_have_text(re.compile(r"owed|in credit|—"))
    shot(page, "statement-card")


def test_the_document_view_stacks_at_phone_width(make_page, sign_in, stack, tmp_path, shot):
    page = make_page("phone")
    sign_in(page)
    upload(page, generate(stack, tmp_path, "phone.pdf", "--layout", "signed_amount", "--seed", "2",
                          "--transactions", "6"))
    doc = page.get_by_role("region", name="Document").bounding_box()
    table = page.get_by_role("region", name="Transactions").bounding_box()
    assert doc["y"] + doc["height"] <= table["y"] + 1, (doc, table)  # one above the other
    assert doc["width"] <= 390 and table["width"] <= 390
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone screen"
    page.locator('tr[data-key="1-5"]').get_by_role("button").click()
    expect(page.locator('[data-testid="box"][data-key="1-5"]')).to_have_class(re.compile(r"\bselected\b"))
    shot(page, "statement-doc-phone")


def test_the_document_view_sits_beside_the_table_on_a_desktop(signed_in, stack, tmp_path):
    page = signed_in
    upload(page, generate(stack, tmp_path, "desk.pdf", "--layout", "signed_amount", "--seed", "2",
                          "--transactions", "6"))
    doc = page.get_by_role("region", name="Document").bounding_box()
    table = page.get_by_role("region", name="Transactions").bounding_box()
    assert doc["x"] + doc["width"] <= table["x"] + 1 and abs(doc["y"] - table["y"]) < 5, (doc, table)
