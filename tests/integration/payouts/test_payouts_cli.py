"""`flask payouts run`, `flask report payouts`, the periodic run and the monthly totals link, on a
month worked out by hand (clinic time, Lima).

October 2026:
- Lucía Torres (40 % commission):
  - Ana, 6 Oct, 120.00 PEN to ICBC, paid in full on 20 Oct → paid line, earning 48.00;
  - Ben, 8 Oct, 150.00 PEN to ICBC, paid on 10 Nov → held (invoiced), 60.00 once paid;
  - Carla, 9 Oct, 90.00 PEN self-pay, paid on 9 Oct → paid line, earning 36.00;
  so 2 lines, earned 84.00 PEN, 1 held line, held 60.00 PEN; staff add an adjustment of -10.00 PEN
  (a correction of September); she stays a draft.
- Beto Ramos (service fee of 40.00 a session, taken in the session's currency):
  - Dora, 12 Oct, 100.00 PEN self-pay, paid on 12 Oct → paid line, earning 100.00 - 40.00 = 60.00;
  - Dora, 13 Oct, 80.00 USD self-pay, not paid → held (uninvoiced), 80.00 - 40.00 = 40.00 USD;
  so 1 line, earned 60.00 PEN, 1 held line, held 40.00 USD; approved (PS-000001).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.jobs import schedule
from admin_app.models import AuditAction, AuditEvent, PaymentMethod, PayoutRun
from admin_app.services.billing import payments
from admin_app.services.payouts import statements
from admin_app.services.payouts.schedule import run_due
from admin_app.services.platform.months import Month
from tests.factories import book, issued_invoice, make_client, make_payer, make_therapist
from tests.pages import body

OCTOBER = Month(2026, 10)
D = Decimal
pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)

LUCIA = {
    "email": "lucia@example.com",
    "name": "Lucía Torres",
    "status": "draft",
    "lines": 2,
    "earned": {"PEN": "84.00"},
    "held_lines": 1,
    "held": {"PEN": "60.00"},
    "adjustments": {"PEN": "-10.00"},
}
BETO = {
    "email": "beto@example.com",
    "name": "Beto Ramos",
    "status": "approved",
    "lines": 1,
    "earned": {"PEN": "60.00"},
    "held_lines": 1,
    "held": {"USD": "40.00"},
    "adjustments": {},
}


@pytest.fixture
def october(app):
    lucia = make_therapist(full_name="Lucía Torres", email="lucia@example.com")
    beto = make_therapist(full_name="Beto Ramos", email="beto@example.com", service_fee=D("40.00"))
    icbc = make_payer("ICBC")
    ana, ben, carla = (make_client(lucia, full_name=name) for name in ("Ana", "Ben", "Carla"))
    dora = make_client(beto, full_name="Dora")

    def on(therapist, day, client, fee, payer=None, currency="PEN"):
        moment = dt.datetime(2026, 10, day, 10, 0)
        return book(therapist, [client], moment, fee=fee, payer=payer, currency=currency).participants[0]

    to_icbc = [on(lucia, 6, ana, "120.00", icbc), on(lucia, 8, ben, "150.00", icbc)]
    on(lucia, 9, carla, "90.00")
    on(beto, 12, dora, "100.00")
    on(beto, 13, dora, "80.00", currency="USD")
    first, second = (issued_invoice(icbc, [charge]) for charge in to_icbc)
    pay = dict(method=PaymentMethod.TRANSFER, currency="PEN", payer_id=icbc.id)
    payments.record_payer_payment(
        db.session, received_on=dt.date(2026, 10, 20), amount=D("120.00"), invoice_ids=[first.id], **pay
    )
    payments.record_payer_payment(
        db.session, received_on=dt.date(2026, 11, 10), amount=D("150.00"), invoice_ids=[second.id], **pay
    )
    for client, day, amount in ((carla, 9, "90.00"), (dora, 12, "100.00")):
        payments.record_client_payment(
            db.session,
            client_id=client.id,
            received_on=dt.date(2026, 10, day),
            amount=D(amount),
            currency="PEN",
            method=PaymentMethod.CASH,
        )
    db.session.commit()
    return lucia, beto


def run_cli(runner, *args: str):
    return runner.invoke(args=list(args))


@pytest.fixture
def reviewed(runner, october):
    """October run from the command line, then Lucía's adjustment added and Beto's statement approved."""
    lucia, beto = october
    result = run_cli(runner, "payouts", "run", "--month", "2026-10")
    assert result.exit_code == 0, result.output
    ids = statements.statement_ids_of(db.session, [lucia.id, beto.id], OCTOBER)
    statements.add_adjustment(db.session, ids[lucia.id], amount="-10.00", currency="PEN", reason="September: a fee")
    statements.approve(db.session, [ids[beto.id]])
    db.session.commit()
    return lucia, beto, ids


def test_the_run_from_the_command_line_prints_what_it_drafted(runner, october):
    result = run_cli(runner, "payouts", "run", "--month", "2026-10")

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Payout run 2026-10: 2 draft statement(s) with 3 line(s) and 2 held line(s);"
        " 0 statement(s) past draft kept as they were.\n"
    )
    overview = {row.therapist_name: row for row in statements.month_overview(db.session, OCTOBER)}
    assert overview["Lucía Torres"].earned == {"PEN": D("84.00")}
    assert overview["Beto Ramos"].held == {"USD": D("40.00")}


def test_a_second_run_keeps_the_approved_statement(runner, reviewed):
    result = run_cli(runner, "payouts", "run", "--month", "2026-10")

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Payout run 2026-10: 1 draft statement(s) with 2 line(s) and 1 held line(s);"
        " 1 statement(s) past draft kept as they were.\n"
    )
    assert json.loads(run_cli(runner, "report", "payouts", "--month", "2026-10").output)["therapists"] == [
        BETO,
        LUCIA,
    ]


@pytest.mark.parametrize("command", [("payouts", "run"), ("report", "payouts")])
@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "Error: --month: expected a month as YYYY-MM, got 2026-13"),
        ("October", "Error: --month: expected a month as YYYY-MM, got October"),
        ("1850-01", "Error: --month: choose a month from the years"),
    ],
)
def test_a_wrong_month_is_named(runner, october, command, month, message):
    result = run_cli(runner, *command, "--month", month)

    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(PayoutRun)) == 0


def test_a_month_that_has_not_begun_is_refused(runner, october):
    result = run_cli(runner, "payouts", "run", "--month", "2027-01")

    assert result.exit_code != 0
    assert "2027-01 has not begun yet" in result.output


def test_the_report_as_json_is_the_month_worked_out_by_hand(runner, reviewed):
    result = run_cli(runner, "report", "payouts", "--month", "2026-10")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"month": "2026-10", "timezone": "America/Lima", "therapists": [BETO, LUCIA]}
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).all()
    assert [(event.entity, event.actor.endswith(" report payouts")) for event in exports] == [
        ("payout_statement:report", True)
    ]


def test_the_report_as_csv_has_a_row_per_therapist_and_currency(runner, reviewed, tmp_path):
    output = tmp_path / "payouts.csv"

    result = run_cli(runner, "report", "payouts", "--month", "2026-10", "--format", "csv", "--output", str(output))

    assert result.exit_code == 0, result.output
    text = output.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = [tuple(row.values()) for row in csv.DictReader(io.StringIO(text[1:]))]
    common = ("2026-10", "beto@example.com", "Beto Ramos", "approved", "1", "1")
    lucia = ("2026-10", "lucia@example.com", "Lucía Torres", "draft", "2", "1")
    assert rows == [
        (*common, "PEN", "60.00", "0.00", "0.00"),
        (*common, "USD", "0.00", "40.00", "0.00"),
        (*lucia, "PEN", "84.00", "60.00", "-10.00"),
    ]


def test_a_month_without_statements_is_an_empty_report(runner, october):
    result = run_cli(runner, "report", "payouts", "--month", "2026-09")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"month": "2026-09", "timezone": "America/Lima", "therapists": []}


def test_the_periodic_run_drafts_the_previous_month_once_from_payout_day(app, october, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_DAY", 5)

    assert run_due(db.session, today=dt.date(2026, 11, 4)) is None
    summary = run_due(db.session, today=dt.date(2026, 11, 5))
    db.session.commit()
    assert (str(summary.month), summary.statements, summary.lines, summary.held) == ("2026-10", 2, 3, 2)
    # Staff then adjust a draft: later days leave the month alone.
    lucia, _ = october
    statement_id = statements.statement_ids_of(db.session, [lucia.id], OCTOBER)[lucia.id]
    statements.add_adjustment(db.session, statement_id, amount="5.00", currency="PEN", reason="Travel")
    db.session.commit()
    assert run_due(db.session, today=dt.date(2026, 11, 6)) is None
    assert run_due(db.session, today=dt.date(2026, 11, 28)) is None
    assert db.session.scalar(select(func.count()).select_from(PayoutRun)) == 1
    [row] = [row for row in statements.month_overview(db.session, OCTOBER) if row.therapist_id == lucia.id]
    assert row.adjustments == {"PEN": D("5.00")}


def test_a_month_staff_ran_already_is_not_run_again(app, runner, october):
    assert run_cli(runner, "payouts", "run", "--month", "2026-10").exit_code == 0

    assert run_due(db.session, today=dt.date(2026, 11, 20)) is None
    assert db.session.scalar(select(func.count()).select_from(PayoutRun)) == 1


def test_the_schedule_runs_it_on_payout_day(app, clock, october, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_DAY", 3)
    clock.set("2026-11-02T15:00Z")
    assert schedule.tick()["payout-run"] == "not due"

    clock.set("2026-11-03T15:00Z")
    assert schedule.tick()["payout-run"] == "2026-10: 2 statement(s), 3 line(s), 2 held"
    assert schedule.tick()["payout-run"] == "not due"


def payout_link(page: str, therapist_id: int) -> str | None:
    row = re.search(rf'<tr data-therapist="{therapist_id}">(.*?)</tr>', page, re.S)
    assert row, f"no row for therapist {therapist_id}"
    cell = re.search(r'<td class="col-payout-statement">(.*?)</td>', row.group(1), re.S)
    link = re.search(r'href="([^"]+)"', cell.group(1))
    return link.group(1) if link else None


def test_the_monthly_totals_link_each_therapist_to_their_statement(admin_client, reviewed):
    lucia, beto, ids = reviewed
    eva = make_therapist(full_name="Eva Soto")  # booked after the run: no statement yet
    book(eva, [make_client(eva)], dt.datetime(2026, 10, 30, 10, 0), fee="100.00")
    db.session.commit()

    page = body(admin_client.get("/admin/reports/monthly/?month=2026-10"))

    assert payout_link(page, lucia.id) == f"/admin/payouts/statement/{ids[lucia.id]}"
    assert payout_link(page, beto.id) == f"/admin/payouts/statement/{ids[beto.id]}"
    assert payout_link(page, eva.id) is None
