"""Journey: ICBC pays two of its invoices in the Vancouver network (English UI, CAD). The month before
last is invoiced to ICBC and issued with the real commands; then, as the staff do it: Billing →
Record a payer's payment, ICBC, its open invoices listed, two ticked, their sum received by bank
transfer; the flash names both invoices, the payment is fully applied, and both invoices are paid.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect

from tests.e2e.conftest import VANCOUVER_ADMIN, _run_flask
from tests.e2e.helpers import alerts, follow, log_in, open_menu
from tests.e2e.test_invoicing import month_before_last_end


def amount_of(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text))


def test_record_icbcs_payment_of_two_issued_invoices_and_see_them_paid(vancouver, vancouver_browser, screenshots):
    _run_flask(
        vancouver.env, "billing", "invoice-run", "--through", month_before_last_end().isoformat(), "--payer", "ICBC"
    )
    _run_flask(vancouver.env, "billing", "issue", "--all-drafts")
    page = vancouver_browser.page(locale="en-CA")
    log_in(page, *VANCOUVER_ADMIN)

    # Billing → Record a payer's payment: ICBC's open invoices, oldest first.
    open_menu(page, "Billing", "Record a payer's payment")
    page.locator("#payer").select_option(label="ICBC")
    follow(page, page.locator("#show-invoices"))
    rows = page.locator("#open-invoices tbody tr")
    assert rows.count() >= 2
    chosen = [rows.nth(index) for index in (0, 1)]
    numbers = [row.locator(".col-number").inner_text().strip() for row in chosen]
    owed = [amount_of(row.locator(".col-open").inner_text()) for row in chosen]

    # Both ticked, their sum received by bank transfer.
    for row in chosen:
        row.locator("input[name=invoices]").check()
    page.locator("#amount").fill(f"{sum(owed)}")
    page.locator("#method").select_option(label="Bank transfer")
    page.locator("#reference").fill("ICBC EFT 20931")
    screenshots.page(page, "payer-payment", full_page=True)
    follow(page, page.locator("#record-payment"))

    [applied] = alerts(page, "success")
    assert applied.startswith("Payment recorded: applied to ")
    for number, amount in zip(numbers, owed, strict=True):
        assert f"{number} ${amount:,.2f}" in applied, applied
    row = page.locator("table.model-list tbody tr").first
    expect(row.locator("td.col-from")).to_have_text("ICBC")
    expect(row.locator("td.col-reference")).to_have_text("ICBC EFT 20931")
    expect(row.locator("td.col-unapplied")).to_have_text("$0.00")

    # Billing → Invoices: both paid, nothing open.
    open_menu(page, "Billing", "Invoices")
    for number in numbers:
        invoice = page.locator("table.model-list tbody tr", has=page.locator("td.col-number", has_text=number))
        expect(invoice.locator("td.col-open")).to_have_text("$0.00")
    follow(page, page.locator("table.model-list tbody tr", has=page.locator("td.col-number", has_text=numbers[0]))
           .locator("a[href*='details/?id=']").first)  # fmt: skip
    expect(page.locator("#ledger-status")).to_have_text("Paid")
    expect(page.locator("#ledger-open")).to_have_text("$0.00")
    expect(page.locator("#record-payment")).to_have_count(0)
