"""Payments (DESIGN.md, "Payments"): a payer's payment to named invoices or to the oldest open ones,
the rest written off or moved to the client, a client's payment first in first out in its currency.

Bruno Díaz sees Lucía Torres (Lima); Pacífico pays for his October sessions, figured by hand:
- INV-000201 (dated 15 Oct): 1 Oct 100.00 + 2 Oct 100.00 = 200.00 PEN;
- INV-000202 (dated 31 Oct): 20 Oct 150.00 PEN;
- INV-000203 (dated 31 Oct): 21 Oct 60.00 USD.
Bruno owes himself: 3 Oct 70.00 PEN and 4 Oct 40.00 USD, 5 Oct 30.00 PEN (billed to him).

Pacífico pays 250.00 PEN, naming nothing: 200.00 settles INV-000201 (oldest), 50.00 goes to
INV-000202 (100.00 left); the USD invoice is untouched. Paying 400.00 PEN then: 100.00 to
INV-000202, 300.00 unapplied.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from admin_app.extensions import db
from admin_app.models import (
    Allocation,
    AllocationKind,
    Attendance,
    BilledTo,
    InvoiceStatus,
    Participant,
    Payment,
    PaymentMethod,
)
from admin_app.services.billing import ledger, payments
from admin_app.services.billing.ledger import ChargeState, InvoiceState
from admin_app.services.people.records import ensure_appointment_deletable
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.scheduling.rules import record_attendance, save_appointment
from tests.factories import book, issued_invoice, make_client, make_payer, make_therapist
from tests.pages import flashed
from tests.queries import counted_queries

NOV_10 = dt.date(2026, 11, 10)


def D(text):
    return Decimal(text)


def pay(payer, amount, currency="PEN", **options):
    return payments.record_payer_payment(
        db.session,
        payer_id=payer.id,
        received_on=NOV_10,
        amount=D(amount),
        currency=currency,
        method=PaymentMethod.TRANSFER,
        reference="EFT 5531",
        **options,
    )


def client_pays(client, amount, currency="PEN", method=PaymentMethod.CARD):
    return payments.record_client_payment(
        db.session, client_id=client.id, received_on=NOV_10, amount=D(amount), currency=currency, method=method
    )


def statuses(invoices):
    figures = ledger.invoice_figures(db.session, [invoice.id for invoice in invoices])
    return [(figures[invoice.id].status, figures[invoice.id].open) for invoice in invoices]


def test_a_payers_payment_goes_to_its_oldest_open_invoices_in_its_currency_and_the_rest_stays_unapplied(bruno):
    _client, pacifico, invoices = bruno

    first = pay(pacifico, "250.00")
    assert statuses(invoices) == [
        (InvoiceState.PAID, D("0.00")),
        (InvoiceState.PARTLY_PAID, D("100.00")),
        (InvoiceState.ISSUED, D("60.00")),
    ]
    assert [(a.amount, a.kind) for a in first.allocations] == [
        (D("100.00"), AllocationKind.PAID),
        (D("100.00"), AllocationKind.PAID),
        (D("50.00"), AllocationKind.PAID),
    ]

    second = pay(pacifico, "400.00")
    assert statuses(invoices)[1] == (InvoiceState.PAID, D("0.00"))
    assert ledger.unapplied(db.session, [first.id, second.id]) == {first.id: D("0.00"), second.id: D("300.00")}


def test_a_payment_naming_an_invoice_goes_to_that_one_only(bruno):
    _client, pacifico, invoices = bruno

    payment = pay(pacifico, "200.00", invoice_ids=[invoices[1].id])

    assert statuses(invoices)[:2] == [(InvoiceState.ISSUED, D("200.00")), (InvoiceState.PAID, D("0.00"))]
    assert ledger.unapplied(db.session, [payment.id]) == {payment.id: D("50.00")}


def test_a_named_invoice_of_another_payer_currency_or_a_draft_is_refused_and_nothing_is_written(bruno):
    client, pacifico, (first, _second, in_usd) = bruno
    other = make_payer("Rímac")
    first.lines[0].holds = False  # its charge moves to a client's draft
    db.session.flush()
    draft = issued_invoice(client, [first.lines[0].participant])
    draft.status, draft.number, draft.series = InvoiceStatus.DRAFT, None, None
    db.session.flush()

    with pytest.raises(RuleViolation) as refused:
        pay(pacifico, "60.00", invoice_ids=[in_usd.id, draft.id])
    assert refused.value.field == "invoices"
    assert "INV-000203 is in USD, not PEN" in str(refused.value)
    assert f"draft {draft.id} is not an issued invoice (it is draft)" in str(refused.value)

    with pytest.raises(RuleViolation) as refused:
        pay(other, "60.00", currency="USD", invoice_ids=[in_usd.id])
    assert str(refused.value) == "Invoices: INV-000203 is not billed to this payer"
    assert db.session.query(Payment).count() == 0


@pytest.mark.parametrize(
    ("amount", "currency", "method", "field"),
    [
        ("0", "PEN", "card", "amount"),
        ("-5", "PEN", "card", "amount"),
        ("10.001", "PEN", "card", "amount"),
        ("10", "EUR", "card", "currency"),
        ("10", "PEN", "bitcoin", "method"),
    ],
)
def test_bad_values_are_refused_naming_the_field(bruno, amount, currency, method, field):
    client, _pacifico, _invoices = bruno
    with pytest.raises(RuleViolation) as refused:
        client_pays(client, amount, currency, method)
    assert refused.value.field == field
    assert db.session.query(Payment).count() == 0


def test_an_underpaid_invoice_written_off_is_settled_and_says_why(bruno):
    _client, pacifico, invoices = bruno
    pay(pacifico, "180.00", invoice_ids=[invoices[0].id])

    written = payments.write_off_rest(db.session, invoice_id=invoices[0].id, reason="Payer's maximum rate")

    assert written == D("20.00")
    assert [(a.amount, a.kind, a.reason) for a in db.session.query(Allocation).filter_by(payment_id=None)] == [
        (D("20.00"), AllocationKind.WRITTEN_OFF, "Payer's maximum rate")
    ]
    assert statuses(invoices)[0] == (InvoiceState.PAID, D("0.00"))
    with pytest.raises(RuleViolation, match="Nothing is left to settle on INV-000201"):
        payments.write_off_rest(db.session, invoice_id=invoices[0].id, reason="again")
    with pytest.raises(RuleViolation) as refused:
        payments.move_rest_to_client(db.session, invoice_id=invoices[1].id, reason="  ")
    assert refused.value.field == "reason"


def test_an_underpayment_moved_to_the_client_is_paid_by_the_client_first_in_first_out(bruno):
    """Pacífico pays 170.00 of INV-000201: 100.00 for 1 Oct, 70.00 for 2 Oct; the 30.00 left is
    moved to Bruno. Bruno pays 90.00 PEN by card: 30.00 for 2 Oct (moved), 60.00 of 3 Oct's 70.00
    (10.00 left); 5 Oct's 30.00 and his USD are untouched."""
    client, pacifico, invoices = bruno
    pay(pacifico, "170.00", invoice_ids=[invoices[0].id])
    payments.move_rest_to_client(db.session, invoice_id=invoices[0].id, reason="Not covered: plan maximum")
    assert statuses(invoices)[0] == (InvoiceState.PAID, D("0.00"))

    receipt = client_pays(client, "90.00")

    assert [(a.participant.appointment.starts_at.day, a.amount) for a in receipt.allocations] == [
        (2, D("30.00")),
        (3, D("60.00")),
    ]
    pen = ledger.charge_positions(db.session, client_id=client.id, currency="PEN", until=dt.date(2026, 10, 5))
    assert [(c.date_of_service.day, c.paid, c.client_open, c.state) for c in pen] == [
        (1, D("100.00"), D("0.00"), ChargeState.PAID),
        (2, D("100.00"), D("0.00"), ChargeState.PAID),
        (3, D("60.00"), D("10.00"), ChargeState.PARTLY_PAID),
        (5, D("0.00"), D("30.00"), ChargeState.UNINVOICED),
    ]
    assert receipt.receipt_number is not None


def test_a_usd_payment_never_touches_pen_charges(bruno):
    """Bruno pays 50.00 USD: 40.00 for 4 Oct (his USD charge), 10.00 unapplied; INV-000203 is the
    payer's, so not his to pay. His PEN charges stay open: 70.00 and 30.00."""
    client, _pacifico, _invoices = bruno

    payment = client_pays(client, "50.00", currency="USD", method=PaymentMethod.CASH)

    assert [(a.currency, a.amount) for a in payment.allocations] == [("USD", D("40.00"))]
    assert ledger.unapplied(db.session, [payment.id]) == {payment.id: D("10.00")}
    pen = ledger.charge_positions(db.session, client_id=client.id, currency="PEN", billed_to=BilledTo.CLIENT)
    assert [(c.date_of_service.day, c.client_open) for c in pen] == [(3, D("70.00")), (5, D("30.00"))]


def test_each_client_payment_takes_the_next_receipt_number_and_a_payer_payment_none(bruno):
    client, pacifico, _invoices = bruno

    numbers = [client_pays(client, "10.00").receipt_number for _ in range(3)]

    assert numbers == ["R-000001", "R-000002", "R-000003"]
    assert pay(pacifico, "10.00").receipt_number is None


def test_recording_a_payment_costs_the_same_statements_whatever_the_number_of_charges(app):
    def client_with(sessions):
        """A client with `sessions` charges billed to them and as many on an invoice to their own payer."""
        therapist, payer = make_therapist(), make_payer()
        client = make_client(therapist)
        for day in range(sessions):
            start = dt.datetime(2026, 10, 1 + day, 10)
            book(therapist, [client], start, fee="50.00", currency="PEN")
            book(therapist, [client], start + dt.timedelta(hours=1), fee="50.00", currency="PEN", payer=payer)
        issued_invoice(payer, db.session.query(Participant).filter_by(client_id=client.id, billed_to=BilledTo.PAYER))
        return client.id, payer.id

    def statements_to_pay(client_id, payer_id):
        db.session.expire_all()
        with counted_queries() as statements:
            for method in ("cash", "cheque"):
                options = {"received_on": NOV_10, "amount": D("5000"), "currency": "PEN", "method": method}
                if method == "cash":
                    payments.record_client_payment(db.session, client_id=client_id, **options)
                else:
                    payments.record_payer_payment(db.session, payer_id=payer_id, **options)
        return len(statements)

    few, many = client_with(2), client_with(9)
    assert statements_to_pay(*few) == statements_to_pay(*many)
    assert db.session.query(Allocation).count() == 2 * (2 + 9)


def test_a_charge_with_a_payment_applied_keeps_its_attendance_fee_and_bill_to_and_its_appointment(bruno):
    """Bruno's 90.00 card payment goes to 3 Oct (70.00) and 5 Oct (20.00 of 30.00): both charges
    are now in the books; the notes of the session may still change, and 4 Oct (USD, untouched)
    may be marked a no-show."""
    client, _pacifico, _invoices = bruno
    client_pays(client, "90.00")
    third, fourth = (
        db.session.query(Participant).filter_by(client_id=client.id, fee=D(fee)).one() for fee in ("70.00", "40.00")
    )

    appointment = third.appointment  # loaded first, as a screen does: a load flushes what is pending

    for name, value in (("attendance", Attendance.NO_SHOW), ("fee", D("60.00")), ("billed_to", BilledTo.PAYER)):
        kept = getattr(third, name)
        setattr(third, name, value)
        with pytest.raises(RuleViolation) as refused:
            save_appointment(db.session, appointment=appointment)
        assert str(refused.value) == (
            "Bruno Díaz: payments or write-offs are applied to this charge, so its attendance, fee and "
            "bill-to cannot change."
        )
        setattr(third, name, kept)

    appointment.notes = "Brought the referral letter"
    save_appointment(db.session, appointment=appointment)
    record_attendance(db.session, participant=fourth, attendance=Attendance.NO_SHOW)
    with pytest.raises(RuleViolation, match="belongs to the books, so it cannot be deleted"):
        ensure_appointment_deletable(db.session, appointment)


def test_the_participant_screen_refuses_a_new_attendance_or_fee_for_a_paid_charge(admin_client, app):
    """Ana paid her 150.00 session of 16 Nov in cash: the participant form keeps it as it is."""
    therapist = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(therapist, full_name="Ana Quispe")
    appointment = book(therapist, [ana], dt.datetime(2026, 11, 16, 10), fee="150.00", currency="PEN")
    client_pays(ana, "150.00", method=PaymentMethod.CASH)
    db.session.commit()
    [participant] = appointment.participants
    form = {"attendance": "attended", "cancelled_by": "__None", "cancellation_reason": "", "fee": "150.00"}
    form |= {"currency": "PEN", "billed_to": "client", "payer": "__None"}

    for change in ({"attendance": "no_show"}, {"fee": "120.00"}):
        response = admin_client.post(f"/admin/participant/edit/?id={participant.id}", data=form | change)

        assert any("Ana Quispe: payments or write-offs are applied to this charge" in m for m in flashed(response))
    db.session.expire_all()
    assert (participant.attendance, participant.fee) == (Attendance.ATTENDED, D("150.00"))
