"""Payout statement downloads from gunicorn, as the staff get them: a small Lima demo whose last month
is run and approved, one statement's PDF read in Spanish (the demo admin) and in English, with the
figures of the statement screen (statement_detail), and the month's ZIP holding one PDF per statement."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal

import pytest

from admin_app.extensions import db
from admin_app.services.payouts import statement_files, statements
from admin_app.services.payouts.run import payout_run
from admin_app.services.platform.money import format_money
from admin_app.services.platform.months import Month
from tests.conftest import make_app
from tests.e2e.conftest import ADMIN, LANGUAGE_USERS, Practice, demo_of_its_own, watched_browser
from tests.e2e.helpers import last_month, log_in
from tests.integration.test_month_report import pdf_text
from tests.pages import run_link


@pytest.fixture(scope="module")
def lima(chromium, tmp_path_factory) -> Iterator[Practice]:
    """A Lima demo of its own (4 therapists, 3 months), so its payouts touch no other test's practice."""
    yield from demo_of_its_own(tmp_path_factory, "e2epay")


@pytest.fixture(scope="module")
def expected(lima) -> dict:
    """Last month's payout run, approved, on the served database; what the files must show, read
    from the services the screen reads (the statement with the most lines is the one opened)."""
    app = make_app(lima.database_url)
    with app.app_context():
        month = Month.parse(last_month())
        payout_run(db.session, month)
        overview = statements.month_overview(db.session, month)
        statements.approve(db.session, [row.statement_id for row in overview])
        db.session.commit()
        chosen = max(overview, key=lambda row: (row.lines + row.held_lines, -row.statement_id))
        detail = statements.statement_detail(db.session, chosen.statement_id)
        totals = {language: _totals(detail, language) for language in ("es", "en")}
        found = {
            "month": month,
            "id": chosen.statement_id,
            "name": detail.statement.therapist.full_name,
            "number": detail.statement.number,
            "lines": len(detail.lines) + len(detail.held_lines),
            "filename": statement_files.statement_file_name(detail),
            "totals": totals,
            "files": sorted(
                statement_files.statement_file_name(one) for one in statement_files.month_details(db.session, month)
            ),
        }
        db.engine.dispose()
    return found


def _totals(detail: statements.StatementDetail, language: str) -> list[str]:
    """Each currency's totals row as the PDF's text reads it: currency, earned, adjustments, due, held."""
    zero = Decimal(0)
    currencies = sorted(set(detail.earned) | set(detail.adjusted) | set(detail.held))
    return [
        " ".join(
            [
                currency,
                *(
                    " ".join(format_money(totals.get(currency, zero), currency, language).split())
                    for totals in (detail.earned, detail.adjusted, detail.due, detail.held)
                ),
            ]
        )
        for currency in currencies
    ]


@pytest.fixture
def lima_browser(chromium, lima, request):
    yield from watched_browser(chromium, lima, request)


def test_the_staff_download_a_statement_and_the_months_zip(lima_browser, expected):
    assert expected["lines"] > 0 and expected["totals"]["es"], "the demo's last month pays something out"
    url = f"/admin/payouts/statement/{expected['id']}/pdf"

    page = lima_browser.page()
    log_in(page, *ADMIN)  # the demo's admin reads Spanish
    answer = page.request.get(url)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == f'attachment; filename="{expected["filename"]}"'
    assert expected["filename"].isascii() and expected["filename"].endswith(f"-{expected['number'].lower()}.pdf")
    text = pdf_text(answer.body())
    assert expected["name"] in text and expected["number"] in text
    assert expected["month"].label("es") in text
    for row in expected["totals"]["es"]:
        assert row in text, (row, text[-600:])

    english = lima_browser.page(locale="en-CA")
    log_in(english, *LANGUAGE_USERS["en"])
    text = pdf_text(english.request.get(url).body())
    assert f"Payout statement: {expected['month'].label('en')}" in text
    for row in expected["totals"]["en"]:
        assert row in text, (row, text[-600:])

    # The ZIP is made by a run in the background (in-process here: done when its page opens).
    run_page = page.request.get(f"/admin/payouts/zip?month={expected['month']}")
    answer = page.request.get(run_link(run_page.text(), "job-run-file"))
    assert answer.status == 200 and answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"] == f'attachment; filename="{expected["month"]}-payout-statements.zip"'
    with zipfile.ZipFile(io.BytesIO(answer.body())) as bundle:
        assert sorted(bundle.namelist()) == expected["files"]
        assert expected["name"] in pdf_text(bundle.read(expected["filename"]))
