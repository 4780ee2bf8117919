"""Journey: last month's payouts in the Vancouver network (English UI, CAD), as the issue's new user
tries it: Payouts → Payout statements (last month by default), *Run payouts*, one therapist's draft
opened (paid and held sessions, totals), approved: it gets its number and takes no more adjustments.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import VANCOUVER_ADMIN
from tests.e2e.helpers import alerts, assert_accessible, follow, log_in, open_menu


def test_run_last_months_payouts_open_a_statement_and_approve_it(vancouver_browser, screenshots):
    page = vancouver_browser.page(locale="en-CA")
    log_in(page, *VANCOUVER_ADMIN)

    # Payouts → Payout statements: last month, with the button that runs it.
    open_menu(page, "Payouts", "Payout statements")
    expect(page.locator("#run")).to_contain_text("Run payouts for")
    follow(page, page.locator("#run"))
    [summary] = alerts(page, "success")
    found = re.fullmatch(
        r"(\d+) draft statements?, (\d+) paid lines?, (\d+) held lines?; "
        r"(\d+) statements? past draft kept as (?:it was|they were)\.",
        summary,
    )
    assert found, summary
    follow(page, page.locator("#job-run-back"))  # from the run's page back to the month's statements
    rows = page.locator("#payout-statements tbody tr")
    assert rows.count() == int(found.group(1)) + int(found.group(4)) > 0
    assert_accessible(page)
    screenshots.page(page, "payout-month", full_page=True)

    # A draft opened: its header, totals and lines; approved, it is numbered and locked for adjustments.
    draft = rows.filter(has=page.locator("td.col-status", has_text="Draft")).first
    name = draft.locator("th.col-therapist").inner_text().strip()
    follow(page, draft.locator("th.col-therapist a"))
    expect(page.locator("#therapist")).to_have_text(name)
    expect(page.locator("#status")).to_have_text("Draft")
    expect(page.locator("#statement-totals, #no-totals")).to_be_visible()
    expect(page.locator("#adjustment-form")).to_be_visible()
    assert_accessible(page)
    screenshots.page(page, "payout-statement", full_page=True)

    follow(page, page.locator("#approve"))
    [approved] = alerts(page, "success")
    assert re.fullmatch(r"Statement \S+ approved\.", approved), approved
    number = approved.removeprefix("Statement ").removesuffix(" approved.")
    expect(page.locator("#number")).to_have_text(number)
    expect(page.locator("#status")).to_have_text("Approved")
    expect(page.locator("#adjustment-form")).to_have_count(0)
    expect(page.locator("#paid-form")).to_be_visible()
    expect(page.locator("#send")).to_be_visible()
