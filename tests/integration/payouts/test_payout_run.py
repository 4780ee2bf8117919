"""The payout run (DESIGN.md, "Payout statements"), figured by hand.

Lucía Torres (40 % commission) sees, in October 2026 (Lima):
- Ana, 6 Oct, 120.00 PEN to ICBC; ICBC pays it in full on 20 Oct → paid line, earning 48.00;
- Ben, 8 Oct, 150.00 PEN to ICBC; ICBC pays it on 10 Nov → held on October's statement
  (invoiced, not paid), earning 60.00 once paid; a paid line of November's statement;
- Carla, 9 Oct, 90.00 PEN, self-pay; she pays 90.00 on 9 Oct → paid line, earning 36.00.
October: earned 84.00 PEN, held 60.00 PEN. November: earned 60.00 PEN (Ben's 8 Oct).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from admin_app.extensions import db
from admin_app.models import (
    AuditAction,
    AuditEvent,
    CompensationTerms,
    PaymentMethod,
    PayoutLine,
    PayoutRun,
    PayoutStatement,
)
from admin_app.services.billing import payments
from admin_app.services.payouts import statements
from admin_app.services.payouts.run import payout_run
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from tests.factories import book, issued_invoice, make_client, make_payer, make_therapist

OCTOBER, NOVEMBER = Month(2026, 10), Month(2026, 11)
D = Decimal


@pytest.fixture
def october(app):
    lucia = make_therapist(full_name="Lucía Torres")
    icbc = make_payer("ICBC")
    ana, ben, carla = (make_client(lucia, full_name=name) for name in ("Ana", "Ben", "Carla"))

    def on(day, client, fee, payer=None):
        return book(lucia, [client], dt.datetime(2026, 10, day, 10, 0), fee=fee, payer=payer).participants[0]

    to_icbc = [on(6, ana, "120.00", icbc), on(8, ben, "150.00", icbc)]
    carla_9 = on(9, carla, "90.00")
    first, second = (issued_invoice(icbc, [charge]) for charge in to_icbc)
    pay = dict(method=PaymentMethod.TRANSFER, currency="PEN", payer_id=icbc.id)
    payments.record_payer_payment(
        db.session, received_on=dt.date(2026, 10, 20), amount=D("120.00"), invoice_ids=[first.id], **pay
    )
    payments.record_payer_payment(
        db.session, received_on=dt.date(2026, 11, 10), amount=D("150.00"), invoice_ids=[second.id], **pay
    )
    payments.record_client_payment(
        db.session,
        client_id=carla.id,
        received_on=dt.date(2026, 10, 9),
        amount=D("90.00"),
        currency="PEN",
        method=PaymentMethod.CASH,
    )
    db.session.commit()
    return lucia, carla_9


def created() -> list[tuple[str, int]]:
    """The payout runs and statements whose creation the audit trail holds, in its order."""
    events = select(AuditEvent.entity, AuditEvent.entity_id).where(
        AuditEvent.action == AuditAction.CREATE, AuditEvent.entity.in_(["payout_run", "payout_statement"])
    )
    return [tuple(row) for row in db.session.execute(events.order_by(AuditEvent.id))]


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
def test_october_then_november(october):
    lucia, _ = october
    summary = payout_run(db.session, OCTOBER)
    db.session.commit()
    assert (summary.statements, summary.lines, summary.held) == (1, 2, 1)
    [row] = statements.month_overview(db.session, OCTOBER)
    assert (row.therapist_name, row.lines, row.held_lines) == ("Lucía Torres", 2, 1)
    assert row.earned == {"PEN": D("84.00")} and row.held == {"PEN": D("60.00")}
    detail = statements.statement_detail(db.session, row.statement_id)
    assert [(line.date_of_service.day, line.collected, line.earning) for line in detail.lines] == [
        (6, D("120.00"), D("48.00")),
        (9, D("90.00"), D("36.00")),
    ]
    assert [(line.date_of_service.day, line.held_reason) for line in detail.held_lines] == [(8, "invoiced")]
    [first_run] = db.session.scalars(select(PayoutRun.id)).all()
    assert created() == [("payout_run", first_run), ("payout_statement", row.statement_id)]
    # Run again: the same figures, nothing doubled; the run recorded, its draft refreshed, not made.
    payout_run(db.session, OCTOBER)
    db.session.commit()
    second_run = db.session.scalar(select(func.max(PayoutRun.id)))
    assert created()[2:] == [("payout_run", second_run)] and second_run != first_run
    assert statements.month_overview(db.session, OCTOBER)[0].earned == {"PEN": D("84.00")}
    assert statements.approve(db.session, [row.statement_id]) == 1
    db.session.commit()
    payout_run(db.session, NOVEMBER)
    db.session.commit()
    [november] = statements.month_overview(db.session, NOVEMBER)
    assert (november.lines, november.held_lines, november.earned) == (1, 0, {"PEN": D("60.00")})
    assert statements.month_overview(db.session, OCTOBER)[0].number == "PS-000001"


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
def test_payouts_begin_with_the_first_month_run_but_pay_what_is_settled_after_it(app):
    """October is the first month ever run. Before it, Lucía saw Ana on 25 Sep (120.00 to ICBC, paid on
    20 Oct) and Ben on 26 Sep (150.00 to ICBC, never paid), and Carla on 10 Sep (90.00, paid by her on 12
    Sep). October's statement pays Ana's September session (settled in October: 48.00 at 40 %), lists
    nothing of Ben's (before the start and unsettled: the spreadsheets' business) and nothing of
    Carla's (settled before the start: paid out before the product)."""
    lucia = make_therapist(full_name="Lucía Torres")
    icbc = make_payer("ICBC")
    ana, ben, carla = (make_client(lucia, full_name=name) for name in ("Ana", "Ben", "Carla"))

    def on(day, client, fee, payer=None):
        return book(lucia, [client], dt.datetime(2026, 9, day, 10, 0), fee=fee, payer=payer).participants[0]

    ana_25, ben_26 = on(25, ana, "120.00", icbc), on(26, ben, "150.00", icbc)
    on(10, carla, "90.00")
    invoice = issued_invoice(icbc, [ana_25])
    issued_invoice(icbc, [ben_26])
    payments.record_payer_payment(
        db.session,
        payer_id=icbc.id,
        received_on=dt.date(2026, 10, 20),
        amount=D("120.00"),
        invoice_ids=[invoice.id],
        method=PaymentMethod.TRANSFER,
        currency="PEN",
    )
    payments.record_client_payment(
        db.session,
        client_id=carla.id,
        received_on=dt.date(2026, 9, 12),
        amount=D("90.00"),
        currency="PEN",
        method=PaymentMethod.CASH,
    )
    db.session.commit()

    payout_run(db.session, OCTOBER)
    db.session.commit()

    [row] = statements.month_overview(db.session, OCTOBER)
    detail = statements.statement_detail(db.session, row.statement_id)
    assert [(line.date_of_service, line.earning) for line in detail.lines] == [(dt.date(2026, 9, 25), D("48.00"))]
    assert detail.held_lines == []


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
def test_a_therapist_without_terms_stops_the_run_by_name(october):
    """Every path that creates a therapist gives them terms; should one have none, the run names them
    and writes nothing, rather than pay their sessions nothing. A therapist without terms and without
    a session in the month stops nothing."""
    lucia, _ = october
    make_therapist(full_name="Nadia Rojas")  # no session in October
    db.session.execute(delete(CompensationTerms))
    db.session.commit()
    with pytest.raises(RuleViolation, match="Lucía Torres: no compensation terms") as refused:
        payout_run(db.session, OCTOBER)
    db.session.rollback()
    assert "Nadia Rojas" not in str(refused.value)
    assert db.session.scalar(select(func.count()).select_from(PayoutStatement)) == 0
    assert db.session.scalar(select(func.count()).select_from(PayoutLine)) == 0
