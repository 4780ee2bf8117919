"""Journey: a month's invoices to ICBC in the Vancouver network (English UI, CAD), as the issue's new
user tries it: Billing → Invoice run through the end of the month before last, for ICBC; the drafts
of that run; one draft opened, a line's amount changed with a reason, the draft issued, and then
read-only with *Void* offered.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.conftest import VANCOUVER_ADMIN
from tests.e2e.helpers import alerts, assert_accessible, clinic_today, follow, log_in, open_menu

ZONE = ZoneInfo("America/Vancouver")


def month_before_last_end() -> dt.date:
    """The last day of the month before last (October, on a day of December): its sessions are all held."""
    last_month_start = (clinic_today(ZONE).replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return last_month_start - dt.timedelta(days=1)


def test_run_a_month_for_icbc_adjust_a_draft_and_issue_it(vancouver_browser, screenshots):
    page = vancouver_browser.page(locale="en-CA")
    log_in(page, *VANCOUVER_ADMIN)

    # Billing → Invoice run: through the month's last day, for ICBC only.
    open_menu(page, "Billing", "Invoice run")
    page.locator("#through").fill(month_before_last_end().isoformat())
    page.locator("#payer").select_option(label="ICBC")
    follow(page, page.locator("#run"))
    [summary] = alerts(page, "success")
    assert re.fullmatch(r"\d+ new drafts?, 0 drafts extended, \d+ charges? invoiced\.", summary), summary
    assert int(summary.split()[0]) > 0

    # The drafts of that run (from the run's page back to the invoice run): all ICBC's, each a draft.
    follow(page, page.locator("#job-run-back"))
    follow(page, page.locator("#run-drafts"))
    rows = page.locator("table.model-list tbody tr")
    expect(rows.first.locator("td.col-bill_to")).to_have_text("ICBC")
    assert set(page.locator("td.col-number").all_inner_texts()) == {"Draft"}
    screenshots.page(page, "invoice-run-drafts")

    # One draft: ICBC's vendor number in the header; its first line billed for less, with the reason.
    follow(page, rows.first.locator("a[href*='details/?id=']").first)
    expect(page.locator("table.searchable")).to_contain_text("ICBC-V40517")
    line = page.locator("#invoice-lines tbody tr").first
    line.locator("input[name$='-amount']").fill("150.00")
    line.locator("input[name$='-adjustment_reason']").fill("Rate agreed with the adjuster")
    follow(page, line.get_by_role("button", name="Change amount"))
    assert alerts(page, "success") == ["The line's amount was changed."]
    line = page.locator("#invoice-lines tbody tr").first
    expect(line.locator(".col-amount")).to_contain_text("150.00")
    expect(line.locator(".col-reason")).to_have_text("Rate agreed with the adjuster")
    page.reload()  # without the flashed message: Flask-Admin's close button is aria-hidden yet focusable
    assert_accessible(page)
    screenshots.page(page, "invoice-draft", full_page=True)

    # Issued: a number of the ICBC series, no more edit forms, *Void* offered.
    follow(page, page.locator("#issue"))
    [issued] = alerts(page, "success")
    assert re.fullmatch(r"Issued 1 invoice: \S+\.", issued), issued
    number = issued.removeprefix("Issued 1 invoice: ").removesuffix(".")
    expect(page.locator("table.searchable")).to_contain_text(number)
    expect(page.locator(".adjust-form")).to_have_count(0)
    expect(page.locator("#issue")).to_have_count(0)
    expect(page.locator("#void-form")).to_be_visible()
    expect(page.locator("#invoice-lines tbody tr").first.locator(".col-amount")).to_contain_text("150.00")
