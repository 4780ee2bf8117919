"""The staff check a spreadsheet of 120 clients, one of them with a bad email, and read its preview
with the keyboard only: the tab of every row, then the third page; then cancel (the demo's records
stay as they were). axe-core finds nothing serious on the preview.

The demo's staff screens are in Spanish and the preview's new words are not translated yet, so
the test reads the page's structure (outcome and row numbers), not its words.
"""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN
from tests.e2e.helpers import assert_accessible, follow, log_in


def clients_file(count: int, *, bad_row: int) -> bytes:
    text = io.StringIO()
    rows = [["name", "national_id", "email"]]
    rows += [[f"Preview Client {n:03d}", f"9{n:07d}", f"preview{n}@example.com"] for n in range(1, count + 1)]
    rows[bad_row - 1][2] = "not-an-email@"
    csv.writer(text).writerows(rows)
    return text.getvalue().encode()


def listed_rows(page) -> list[int]:
    return [
        int(number)
        for number in page.locator("#import-rows tr[data-row]").evaluate_all("rows => rows.map(row => row.dataset.row)")
    ]


def press_tab_until(page, selector: str, *, limit: int = 200) -> None:
    """Tab through the page until the element is focused, as a keyboard user would."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} is never reached with the Tab key")


def test_the_preview_of_120_rows_is_read_page_by_page_with_the_keyboard(browser, screenshots):
    page = browser.page()
    log_in(page, *ADMIN)
    page.goto("/admin/import/")
    page.locator("#import-kind").select_option("clients")
    page.locator("#import-file").set_input_files(
        {"name": "clientes.csv", "mimeType": "text/csv", "buffer": clients_file(120, bad_row=8)}
    )
    follow(page, page.locator("#import-check"))

    # A file with an error opens on the rows in error: row 8 of the file, naming its column.
    expect(page.locator("#import-outcomes .nav-link.active")).to_have_attribute("data-outcome", "error")
    assert listed_rows(page) == [8]
    expect(page.locator('#import-rows tr[data-row="8"] .col-errors')).to_contain_text("email: not-an-email@")
    expect(page.locator("#import-confirm")).to_have_count(0)
    assert_accessible(page)

    press_tab_until(page, '#import-outcomes a[data-outcome="all"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert listed_rows(page) == list(range(2, 52))
    press_tab_until(page, '#import-pages a[href$="page=3"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"outcome=all&page=3$"))
    assert listed_rows(page) == list(range(102, 122))  # the 101st to the 120th rows
    expect(page.locator("#import-pages [aria-current=page]")).to_have_text("3")
    assert_accessible(page)
    screenshots.page(page, "import-preview", full_page=True)

    follow(page, page.locator("#import-cancel [type=submit]"))
    expect(page).to_have_url(re.compile(r"/admin/import/$"))
