"""The demo therapist (Lucía Paredes) opens last month's payout statement in her portal, from gunicorn:
a small Lima demo of its own whose last month is run, approved and sent; *My payments* lists the
statement, and its PDF (in her language, Spanish) holds its number and what it made due to her, the
figure the statement screen shows (statement_detail)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import PayoutStatement, PayoutStatus, Therapist
from admin_app.models.base import utcnow
from admin_app.services.payouts import statements
from admin_app.services.payouts.run import payout_run
from admin_app.services.platform.money import format_money
from admin_app.services.platform.months import Month
from tests.conftest import make_app
from tests.e2e.conftest import THERAPIST, Practice, demo_of_its_own, watched_browser
from tests.e2e.helpers import follow, last_month, log_in
from tests.integration.test_month_report import pdf_text


@pytest.fixture(scope="module")
def lima(chromium, tmp_path_factory) -> Iterator[Practice]:
    """A Lima demo of its own (4 therapists, 3 months), so its payouts touch no other test's practice."""
    yield from demo_of_its_own(tmp_path_factory, "e2emypay")


@pytest.fixture(scope="module")
def expected(lima) -> dict:
    """Last month's payouts run and approved, Lucía's statement marked sent (as its email would);
    its number and each currency's due figure as the Spanish PDF prints them."""
    app = make_app(lima.database_url)
    with app.app_context():
        month = Month.parse(last_month())
        payout_run(db.session, month)
        overview = statements.month_overview(db.session, month)
        statements.approve(db.session, [row.statement_id for row in overview])
        lucia = db.session.scalar(select(Therapist.id).where(Therapist.email == THERAPIST[0]))
        statement = db.session.scalar(
            select(PayoutStatement).where(PayoutStatement.therapist_id == lucia, PayoutStatement.month == str(month))
        )
        assert statement is not None, "the demo therapist has a statement for last month"
        statement.status, statement.sent_at = PayoutStatus.SENT, utcnow()
        db.session.commit()
        detail = statements.statement_detail(db.session, statement.id)
        found = {
            "id": statement.id,
            "number": statement.number,
            "due": [" ".join(format_money(amount, currency, "es").split()) for currency, amount in detail.due.items()],
        }
        db.engine.dispose()
    return found


@pytest.fixture
def lima_browser(chromium, lima, request):
    yield from watched_browser(chromium, lima, request)


def test_the_therapist_opens_last_months_statement_in_her_portal(lima_browser, expected):
    assert expected["due"], "the demo therapist earned something last month"
    page = lima_browser.page()
    log_in(page, *THERAPIST)
    # the menu entry by its address: its Spanish name comes with the lead's translations
    follow(page, page.locator("#admin-navbar-collapse a[href='/portal/payments/']").first)

    row = page.locator(f"#my-statements tr[data-statement='{expected['id']}']")
    expect(row.locator(".col-number")).to_have_text(expected["number"])
    href = row.locator(".col-pdf a").get_attribute("href")
    answer = page.request.get(href)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(answer.body()).split())
    assert expected["number"] in text
    for figure in expected["due"]:
        assert figure in text, (figure, text[-600:])
