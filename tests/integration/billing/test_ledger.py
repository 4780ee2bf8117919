"""The ledger (DESIGN.md, "Money after the session"): where each charge and invoice stands.

Ana Ruiz's sessions with Lucía Torres in October 2026 (Lima), figured by hand:
- 5 Oct, attended, billed to Rímac, 120.00 PEN } on Rímac's invoice INV-000101 (issued 31 Oct),
- 6 Oct, attended, billed to Rímac,  80.00 PEN }   total 200.00;
- 7 Oct, attended, billed to Ana, 100.00 PEN (uninvoiced);
- 8 Oct, attended, billed to Ana, 50.00 USD (uninvoiced).

Rímac pays 150.00 on 10 Nov: 120.00 settles 5 Oct (paid on 10 Nov), 30.00 goes to 6 Oct (partly
paid, 50.00 open); the invoice is partly paid, 50.00 open. The rest of 6 Oct, 50.00, is moved to
Ana on 12 Nov: Rímac's invoice is settled (paid, moved 50.00); 6 Oct is still 50.00 open, now
Ana's. Ana pays 120.00 PEN in cash on 15 Nov, first in first out: 50.00 to 6 Oct (paid on 15 Nov),
70.00 to 7 Oct (30.00 open). Her 50.00 USD is untouched.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from admin_app.extensions import db
from admin_app.models import InvoiceStatus, Participant, PaymentMethod
from admin_app.services.billing import ledger, payments
from admin_app.services.billing.ledger import ChargeState, Debtor, InvoiceState
from tests.factories import book, issued_invoice, make_client, make_payer, make_therapist
from tests.queries import counted_queries


@pytest.fixture
def october(app):
    therapist = make_therapist(full_name="Lucía Torres")
    ana = make_client(therapist, full_name="Ana Ruiz")
    rimac = make_payer("Rímac")

    def on(day, fee, currency="PEN", payer=None):
        start = dt.datetime(2026, 10, day, 10, 0)
        appointment = book(therapist, [ana], start, fee=fee, currency=currency, payer=payer)
        return appointment.participants[0]

    to_rimac = [on(5, "120.00", payer=rimac), on(6, "80.00", payer=rimac)]
    on(7, "100.00")
    on(8, "50.00", currency="USD")
    invoice = issued_invoice(rimac, to_rimac, number="INV-000101", invoice_date=dt.date(2026, 10, 31))
    return ana, rimac, invoice


def seen(positions):
    """(day, billed, paid, open, state, debtor, paid_on) of each charge, by date of service."""
    return [
        (
            charge.date_of_service.day,
            charge.billed,
            charge.paid,
            charge.open,
            charge.state,
            charge.debtor,
            charge.paid_on,
        )
        for charge in positions
    ]


def D(text):
    return Decimal(text)


def test_before_any_payment_charges_are_invoiced_or_uninvoiced_and_all_open(october):
    _ana, rimac, invoice = october

    assert seen(ledger.charge_positions(db.session)) == [
        (5, D("120.00"), D("0.00"), D("120.00"), ChargeState.INVOICED, Debtor.PAYER, None),
        (6, D("80.00"), D("0.00"), D("80.00"), ChargeState.INVOICED, Debtor.PAYER, None),
        (7, D("100.00"), D("0.00"), D("100.00"), ChargeState.UNINVOICED, Debtor.CLIENT, None),
        (8, D("50.00"), D("0.00"), D("50.00"), ChargeState.UNINVOICED, Debtor.CLIENT, None),
    ]
    figures = ledger.invoice_figures(db.session, [invoice.id])[invoice.id]
    assert (figures.total, figures.paid, figures.open, figures.status) == (
        D("200.00"),
        D("0.00"),
        D("200.00"),
        InvoiceState.ISSUED,
    )
    assert [charge.invoice_number for charge in ledger.charge_positions(db.session, payer_id=rimac.id)] == [
        "INV-000101",
        "INV-000101",
    ]


def test_a_payment_a_move_to_the_client_and_the_clients_payment_as_the_ledger_tells_them(october):
    ana, rimac, invoice = october
    pay = {"currency": "PEN", "method": PaymentMethod.TRANSFER}

    payments.record_payer_payment(
        db.session, payer_id=rimac.id, received_on=dt.date(2026, 11, 10), amount=D("150.00"), **pay
    )
    figures = ledger.invoice_figures(db.session, [invoice.id])[invoice.id]
    assert (figures.paid, figures.open, figures.status) == (D("150.00"), D("50.00"), InvoiceState.PARTLY_PAID)
    assert seen(ledger.charge_positions(db.session, payer_id=rimac.id)) == [
        (5, D("120.00"), D("120.00"), D("0.00"), ChargeState.PAID, Debtor.PAYER, dt.date(2026, 11, 10)),
        (6, D("80.00"), D("30.00"), D("50.00"), ChargeState.PARTLY_PAID, Debtor.PAYER, None),
    ]

    payments.move_rest_to_client(
        db.session, invoice_id=invoice.id, reason="Plan maximum reached", on=dt.date(2026, 11, 12)
    )
    figures = ledger.invoice_figures(db.session, [invoice.id])[invoice.id]
    assert (figures.paid, figures.moved, figures.open, figures.status) == (
        D("150.00"),
        D("50.00"),
        D("0.00"),
        InvoiceState.PAID,
    )
    sixth = ledger.charge_positions(db.session, payer_id=rimac.id)[1]
    assert (sixth.open, sixth.payer_open, sixth.client_open, sixth.debtor) == (
        D("50.00"),
        D("0.00"),
        D("50.00"),
        Debtor.CLIENT,
    )

    payments.record_client_payment(
        db.session,
        client_id=ana.id,
        received_on=dt.date(2026, 11, 15),
        amount=D("120.00"),
        currency="PEN",
        method=PaymentMethod.CASH,
    )
    assert seen(ledger.charge_positions(db.session)) == [
        (5, D("120.00"), D("120.00"), D("0.00"), ChargeState.PAID, Debtor.PAYER, dt.date(2026, 11, 10)),
        (6, D("80.00"), D("80.00"), D("0.00"), ChargeState.PAID, Debtor.CLIENT, dt.date(2026, 11, 15)),
        (7, D("100.00"), D("70.00"), D("30.00"), ChargeState.PARTLY_PAID, Debtor.CLIENT, None),
        (8, D("50.00"), D("0.00"), D("50.00"), ChargeState.UNINVOICED, Debtor.CLIENT, None),
    ]
    # What the client paid of the moved part is not the payer's payment of its invoice.
    figures = ledger.invoice_figures(db.session, [invoice.id])[invoice.id]
    assert (figures.paid, figures.moved, figures.open) == (D("150.00"), D("50.00"), D("0.00"))


def test_a_written_off_rest_settles_the_charge_on_the_day_of_the_write_off(october):
    _ana, rimac, invoice = october
    payments.record_payer_payment(
        db.session,
        payer_id=rimac.id,
        received_on=dt.date(2026, 11, 10),
        amount=D("180.00"),
        currency="PEN",
        method=PaymentMethod.CHEQUE,
    )
    payments.write_off_rest(db.session, invoice_id=invoice.id, reason="Over the payer's rate", on=dt.date(2026, 11, 20))

    sixth = ledger.charge_positions(db.session, payer_id=rimac.id)[1]
    assert (sixth.paid, sixth.written_off, sixth.open, sixth.state, sixth.paid_on) == (
        D("60.00"),
        D("20.00"),
        D("0.00"),
        ChargeState.WRITTEN_OFF,
        dt.date(2026, 11, 20),
    )
    figures = ledger.invoice_figures(db.session, [invoice.id])[invoice.id]
    assert (figures.paid, figures.written_off, figures.open, figures.status) == (
        D("180.00"),
        D("20.00"),
        D("0.00"),
        InvoiceState.PAID,
    )


def test_a_draft_holds_its_charges_and_owes_nothing_yet(october):
    ana, _rimac, _invoice = october
    seventh = ledger.charge_positions(db.session, client_id=ana.id, currency="PEN")[2]
    draft = issued_invoice(ana, [db.session.get(Participant, seventh.participant_id)])
    draft.status, draft.number, draft.series = InvoiceStatus.DRAFT, None, None
    db.session.flush()

    assert ledger.charge_positions(db.session, participant_ids=[seventh.participant_id])[0].state == ChargeState.DRAFT
    figures = ledger.invoice_figures(db.session, [draft.id])[draft.id]
    assert (figures.total, figures.open, figures.status) == (D("100.00"), D("0.00"), InvoiceState.DRAFT)


def test_an_issued_line_is_billed_its_total_with_tax_not_the_charge(october):
    _ana, _rimac, invoice = october
    line = invoice.lines[0]
    line.amount, line.adjustment_reason, line.tax = D("100.00"), "Payer's rate", D("5.00")
    db.session.flush()

    assert ledger.charge_positions(db.session, participant_ids=[line.participant_id])[0].billed == D("105.00")
    assert ledger.invoice_figures(db.session, [invoice.id])[invoice.id].total == D("185.00")


@pytest.mark.parametrize("sessions", [2, 8])
def test_the_figures_are_one_statement_whatever_the_number_of_charges(app, sessions):
    therapist = make_therapist()
    client = make_client(therapist)
    payer = make_payer()
    participants = [
        book(
            therapist, [client], dt.datetime(2026, 10, 1 + day, 10), fee="90.00", currency="PEN", payer=payer
        ).participants[0]
        for day in range(sessions)
    ]
    invoice_id = issued_invoice(payer, participants).id
    db.session.expire_all()

    with counted_queries() as statements:
        positions = ledger.charge_positions(db.session)
        figures = ledger.invoice_figures(db.session, [invoice_id])
    assert len(statements) == 2
    assert len(positions) == sessions
    assert figures[invoice_id].total == D("90.00") * sessions
