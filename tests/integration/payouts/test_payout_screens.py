"""The payout screens as the staff use them: run a month, read its statements, approve them, open
one, add an adjustment (bad input refused beside its field, nothing written), mark it paid, edit its
email. Lucía Torres's October of test_payout_run.py (40 % commission; today 5 December 2026, Lima):
Ana 6 Oct 120.00 PEN paid by ICBC on 20 Oct → earning 48.00; Carla 9 Oct 90.00 PEN self-pay paid
the same day → 36.00; Ben 8 Oct 150.00 PEN to ICBC paid on 10 Nov → held, 60.00 once paid.
October: earned 84.00, held 60.00 PEN. Marta Ríos (40 %) has one self-paid session, Dora 15 Oct
200.00 PEN paid on the day → earned 80.00.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AuditEvent, PaymentMethod, PayoutAdjustment, PayoutStatement, PayoutStatus
from admin_app.services.billing import payments
from admin_app.services.payouts import statements
from admin_app.services.payouts.run import payout_run
from admin_app.services.platform.months import Month
from tests.factories import book, make_client, make_therapist
from tests.integration.payouts.test_payout_run import october  # noqa: F401 (a fixture)
from tests.pages import body, field_errors, flashed, run_link, run_result, text_of
from tests.queries import counted_queries

OCTOBER = Month(2026, 10)
SCREEN = "/admin/payouts/"
pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)


@pytest.fixture
def marta(october):  # noqa: F811
    """A second therapist with one self-paid session in October."""
    marta = make_therapist(full_name="Marta Ríos")
    dora = make_client(marta, full_name="Dora")
    book(marta, [dora], dt.datetime(2026, 10, 15, 10, 0), fee="200.00")
    payments.record_client_payment(
        db.session,
        client_id=dora.id,
        received_on=dt.date(2026, 10, 15),
        amount=Decimal("200.00"),
        currency="PEN",
        method=PaymentMethod.CASH,
    )
    db.session.commit()
    return marta


def month_rows(response) -> dict[str, dict[str, str]]:
    """The statements table of the month screen: therapist → cells by column name."""
    table = re.search(r'<table[^>]*id="payout-statements">(.*?)</table>', body(response), re.S).group(1)
    rows = {}
    for key, row in re.findall(r'<tr data-statement="(\w+)"[^>]*>(.*?)</tr>', table, re.S):
        cells = {
            name: text_of(value) for name, value in re.findall(r'class="col-([\w-]+)[^"]*">(.*?)</t[dh]>', row, re.S)
        }
        rows[cells.pop("therapist", key) if key != "total" else "total"] = cells
    return rows


def table_rows(response, table_id: str) -> list[dict[str, str]]:
    table = re.search(rf'<table[^>]*id="{table_id}">(.*?)</table>', body(response), re.S).group(1)
    return [
        {name: text_of(value) for name, value in re.findall(r'<td class="col-([\w-]+)[^"]*">(.*?)</td>', row, re.S)}
        for row in re.findall(r"<tr data-\w+=\"\d+\">(.*?)</tr>", table, re.S)
    ]


def totals_shown(response) -> dict[str, str]:
    table = re.search(r'<table[^>]*id="statement-totals">(.*?)</table>', body(response), re.S).group(1)
    return {
        name: text_of(cells)
        for name, cells in re.findall(r'<tr data-total="(\w+)"[^>]*>\s*<th>.*?</th>(.*?)</tr>', table, re.S)
    }


def run_october(admin_client):
    """The run's page once it has ended (no runner in tests: the run is done when the request ends)."""
    return admin_client.post(f"{SCREEN}run", data={"month": "2026-10"}, follow_redirects=True)


def back_from_the_run(admin_client, run_page):
    return admin_client.get(run_link(run_page, "job-run-back"))


def statement_of(name: str) -> PayoutStatement:
    db.session.expire_all()
    return next(
        db.session.get(PayoutStatement, row.statement_id)
        for row in statements.month_overview(db.session, OCTOBER)
        if row.therapist_name == name
    )


def page_of(statement: PayoutStatement) -> str:
    return f"{SCREEN}statement/{statement.id}"


def test_the_month_screen_defaults_to_last_month_and_offers_the_run(admin_client, october):  # noqa: F811
    page = admin_client.get(SCREEN)

    assert page.status_code == 200
    text = text_of(body(page))
    assert "Run payouts for November 2026" in text
    assert "No payout statements for November 2026 yet." in text


def test_a_run_from_the_screen_shows_each_statement_with_its_figures(admin_client, marta):
    ran = run_october(admin_client)

    assert (
        run_result(ran) == "2 draft statements, 3 paid lines, 1 held line; 0 statements past draft kept as they were."
    )
    page = back_from_the_run(admin_client, ran)
    assert page.request.path == SCREEN and page.request.args["month"] == "2026-10"
    rows = month_rows(page)
    assert rows["Lucía Torres"] == {
        "number": "",
        "status": "Draft",
        "lines": "2",
        "held-lines": "1",
        "earned-PEN": "PEN 84.00",
        "held-PEN": "PEN 60.00",
        "adjustments-PEN": "—",
        "due-PEN": "PEN 84.00",
    }
    assert rows["Marta Ríos"]["earned-PEN"] == "PEN 80.00" and rows["Marta Ríos"]["held-lines"] == "0"
    assert rows["total"] == {
        "lines": "3",
        "held-lines": "1",
        "earned-PEN": "PEN 164.00",
        "held-PEN": "PEN 60.00",
        "adjustments-PEN": "—",
        "due-PEN": "PEN 164.00",
    }
    assert f'href="{page_of(statement_of("Lucía Torres"))}"' in body(page)


def test_the_month_screen_reads_the_same_queries_for_one_statement_or_two(admin_client, marta):
    payout_run(db.session, OCTOBER)
    db.session.commit()
    statements.approve(db.session, [statement_of("Marta Ríos").id])
    db.session.commit()
    with counted_queries() as two:
        assert len(month_rows(admin_client.get(f"{SCREEN}?month=2026-10"))) == 3
    db.session.delete(statement_of("Marta Ríos"))
    db.session.commit()
    with counted_queries() as one:
        assert len(month_rows(admin_client.get(f"{SCREEN}?month=2026-10"))) == 2
    assert len(one) == len(two)


def test_approve_selected_numbers_only_the_ticked_drafts_then_approve_all_drafts(admin_client, marta):
    run_october(admin_client)
    lucia = statement_of("Lucía Torres")

    page = admin_client.post(
        f"{SCREEN}approve", data={"month": "2026-10", "statement": [str(lucia.id)]}, follow_redirects=True
    )

    assert flashed(page) == ["1 statement approved."]
    rows = month_rows(page)
    assert (rows["Lucía Torres"]["number"], rows["Lucía Torres"]["status"]) == ("PS-000001", "Approved")
    assert (rows["Marta Ríos"]["number"], rows["Marta Ríos"]["status"]) == ("", "Draft")

    page = admin_client.post(f"{SCREEN}approve", data={"month": "2026-10", "all_drafts": "1"}, follow_redirects=True)

    assert flashed(page) == ["1 statement approved."]
    assert month_rows(page)["Marta Ríos"]["number"] == "PS-000002"
    # A run now keeps both as they are.
    page = run_october(admin_client)
    assert run_result(page) == (
        "0 draft statements, 0 paid lines, 0 held lines; 2 statements past draft kept as they were."
    )


def test_approve_selected_with_nothing_ticked_says_so(admin_client, october):  # noqa: F811
    run_october(admin_client)

    page = admin_client.post(f"{SCREEN}approve", data={"month": "2026-10"}, follow_redirects=True)

    assert flashed(page) == ["Tick the statements to approve."]
    assert statement_of("Lucía Torres").status == PayoutStatus.DRAFT


def test_a_run_of_a_month_not_begun_is_refused_with_the_month(admin_client, october):  # noqa: F811
    page = admin_client.post(f"{SCREEN}run", data={"month": "2027-01"}, follow_redirects=True)

    assert flashed(page) == ["Month: 2027-01 has not begun yet."]
    assert db.session.scalar(select(func.count()).select_from(PayoutStatement)) == 0


def test_the_statement_page_shows_paid_and_held_lines_and_totals(admin_client, october):  # noqa: F811
    run_october(admin_client)
    lucia = statement_of("Lucía Torres")

    page = admin_client.get(page_of(lucia))

    assert page.status_code == 200
    assert table_rows(page, "paid-lines") == [
        {
            "date": "2026-10-06",
            "client": "Ana",
            "payer": "ICBC",
            "amount": "PEN 120.00",
            "collected": "PEN 120.00",
            "terms": "Commission 40.00 %",
            "earning": "PEN 48.00",
        },
        {
            "date": "2026-10-09",
            "client": "Carla",
            "payer": "Self-pay",
            "amount": "PEN 90.00",
            "collected": "PEN 90.00",
            "terms": "Commission 40.00 %",
            "earning": "PEN 36.00",
        },
    ]
    assert table_rows(page, "held-lines") == [
        {
            "date": "2026-10-08",
            "client": "Ben",
            "payer": "ICBC",
            "amount": "PEN 150.00",
            "reason": "Invoiced, not paid yet",
            "earning": "PEN 60.00",
        }
    ]
    assert totals_shown(page) == {
        "earned": "PEN 84.00",
        "held": "PEN 60.00",
        "adjustments": "—",
        "due": "PEN 84.00",
    }
    text = text_of(body(page))
    assert "Lucía Torres" in text and "October 2026" in text and "2026-10-31" in text and "Draft" in text
    # Opening it is a view of client names, in the audit trail.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.entity == "payout_statement", AuditEvent.entity_id == lucia.id, AuditEvent.action == "view"
            )
        )
        == 1
    )


def test_the_statement_page_reads_the_same_queries_whatever_its_lines(admin_client, october):  # noqa: F811
    lucia, carla_9 = october
    run_october(admin_client)
    page = page_of(statement_of("Lucía Torres"))
    with counted_queries() as three_lines:
        admin_client.get(page)
    for day in (20, 21, 22):  # three more of Carla's sessions, not paid: held
        book(lucia, [carla_9.client], dt.datetime(2026, 10, day, 10, 0), fee="90.00")
    db.session.commit()
    run_october(admin_client)
    assert page == page_of(statement_of("Lucía Torres"))
    with counted_queries() as six_lines:
        assert len(table_rows(admin_client.get(page), "held-lines")) == 4
    assert len(six_lines) == len(three_lines)


def test_an_unknown_statement_goes_back_to_the_month_with_a_message(admin_client, october):  # noqa: F811
    page = admin_client.get(f"{SCREEN}statement/999999", follow_redirects=True)

    assert page.request.path == SCREEN
    assert flashed(page) == ["This payout statement does not exist."]


def adjustments_of(statement: PayoutStatement) -> list[tuple]:
    db.session.expire_all()
    return [
        (item.amount, item.currency, item.reason)
        for item in db.session.scalars(select(PayoutAdjustment).where(PayoutAdjustment.statement_id == statement.id))
    ]


def test_an_adjustment_with_a_bad_amount_is_refused_beside_the_amount_and_nothing_is_written(admin_client, october):  # noqa: F811
    run_october(admin_client)
    lucia = statement_of("Lucía Torres")

    page = admin_client.post(
        f"{page_of(lucia)}/adjustment", data={"amount": "12,345", "currency": "PEN", "reason": "Parking"}
    )

    assert page.status_code == 200
    assert field_errors(page) == {
        "amount": ["Amount: an amount other than 0, to the cent (negative to take off), got 12,345"]
    }
    assert 'value="Parking"' in body(page)  # the form as typed
    assert adjustments_of(lucia) == []


def test_an_adjustment_changes_what_is_due_and_can_be_removed_from_a_draft(admin_client, october):  # noqa: F811
    run_october(admin_client)
    lucia = statement_of("Lucía Torres")

    page = admin_client.post(
        f"{page_of(lucia)}/adjustment",
        data={"amount": "-10.50", "currency": "PEN", "reason": "Room booked twice"},
        follow_redirects=True,
    )

    assert flashed(page) == ["The adjustment was added."]
    assert table_rows(page, "adjustments") == [{"reason": "Room booked twice", "amount": "-PEN 10.50"}]
    assert totals_shown(page) == {
        "earned": "PEN 84.00",
        "held": "PEN 60.00",
        "adjustments": "-PEN 10.50",
        "due": "PEN 73.50",
    }
    [adjustment_id] = re.findall(r'name="adjustment" value="(\d+)"', body(page))

    page = admin_client.post(
        f"{page_of(lucia)}/remove-adjustment", data={"adjustment": adjustment_id}, follow_redirects=True
    )

    assert flashed(page) == ["The adjustment was removed."]
    assert adjustments_of(lucia) == []


def test_an_approved_statement_takes_no_adjustment_and_is_marked_paid(admin_client, october):  # noqa: F811
    run_october(admin_client)
    lucia = statement_of("Lucía Torres")
    page = admin_client.post(f"{page_of(lucia)}/approve", follow_redirects=True)
    assert flashed(page) == ["Statement PS-000001 approved."]
    assert 'id="adjustment-form"' not in body(page)

    page = admin_client.post(
        f"{page_of(lucia)}/adjustment",
        data={"amount": "5.00", "currency": "PEN", "reason": "Late"},
        follow_redirects=True,
    )
    assert adjustments_of(lucia) == []
    assert "Statement PS-000001 is Approved and no longer changes" in " ".join(flashed(page))

    page = admin_client.post(f"{page_of(lucia)}/paid", data={"paid_on": "", "paid_reference": "TR-88"})
    assert field_errors(page) == {"paid_on": ["Paid on: this field is required"]}
    assert statement_of("Lucía Torres").status == PayoutStatus.APPROVED

    page = admin_client.post(
        f"{page_of(lucia)}/paid", data={"paid_on": "2026-12-04", "paid_reference": "TR-88"}, follow_redirects=True
    )

    assert flashed(page) == ["The statement is marked paid."]
    paid = statement_of("Lucía Torres")
    assert (paid.status, paid.paid_on, paid.paid_reference) == (PayoutStatus.PAID, dt.date(2026, 12, 4), "TR-88")
    text = text_of(body(page))
    assert "Paid" in text and "TR-88" in text and 'id="paid-form"' not in body(page)


def test_the_email_is_edited_on_the_page_until_sent(admin_client, october):  # noqa: F811
    run_october(admin_client)
    lucia = statement_of("Lucía Torres")

    page = admin_client.post(f"{page_of(lucia)}/email", data={"email_subject": "", "email_body": "Hello"})
    assert field_errors(page) == {"email_subject": ["Subject: this field is required"]}
    assert statement_of("Lucía Torres").email_subject is None

    page = admin_client.post(
        f"{page_of(lucia)}/email",
        data={"email_subject": "Your October", "email_body": "Dear Lucía,\nhere it is."},
        follow_redirects=True,
    )

    assert flashed(page) == ["The email was saved."]
    assert 'value="Your October"' in body(page) and "Dear Lucía,\nhere it is." in body(page)
    admin_client.post(f"{page_of(lucia)}/approve", follow_redirects=True)
    page = admin_client.post(f"{page_of(lucia)}/send", follow_redirects=True)
    assert flashed(page) == ["The statement is on its way to the therapist."]
    assert 'id="email-form"' not in body(page) and "Your October" in body(page)
    assert statement_of("Lucía Torres").status == PayoutStatus.SENT


def test_send_all_approved_from_the_month(admin_client, marta):
    run_october(admin_client)
    admin_client.post(f"{page_of(statement_of('Lucía Torres'))}/approve", follow_redirects=True)

    page = admin_client.post(f"{SCREEN}send", data={"month": "2026-10"}, follow_redirects=True)

    assert flashed(page) == ["1 statement sent."]
    rows = month_rows(page)
    assert (rows["Lucía Torres"]["status"], rows["Marta Ríos"]["status"]) == ("Sent", "Draft")


def test_the_pdf_and_the_zip_are_downloads_recorded_as_exports(admin_client, october):  # noqa: F811
    run_october(admin_client)
    lucia = statement_of("Lucía Torres")

    pdf = admin_client.get(f"{page_of(lucia)}/pdf")
    made = admin_client.get(f"{SCREEN}zip?month=2026-10", follow_redirects=True)
    assert run_result(made) == "1 PDF in the ZIP."
    archive = admin_client.get(run_link(made, "job-run-file"))

    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    exports = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity == "payout_statement", AuditEvent.action == "export")
    )
    assert exports == 2
