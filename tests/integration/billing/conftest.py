"""Fixtures of the billing tests: October's practice, shared by the invoice run, the invoice screens
and the appointment search for billing; Bruno's issued invoices, shared by the payments and the
payment screens (test_payments.py tells the figures)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from admin_app.extensions import db
from admin_app.models import Attendance, InvoiceGrouping
from tests.factories import book, issued_invoice, make_client, make_payer, make_therapist


@pytest.fixture
def october(app, monkeypatch):
    """October 2026 in Lima, missed sessions at 50 % (test_invoices.py tells the figures)."""
    monkeypatch.setitem(app.config, "MISSED_SESSION_FEE_PERCENT", Decimal("50"))
    therapist = make_therapist(full_name="Lucía Torres")
    icbc = make_payer("ICBC", invoice_prefix="ICBC-")
    acme = make_payer("Acme EAP", invoice_grouping=InvoiceGrouping.PER_PERIOD)
    people = {name: make_client(therapist, full_name=name) for name in ("Ana", "Ben", "Carla", "Dan", "Eva")}

    def on(day, name, fee, *, month=10, attendance=Attendance.ATTENDED, currency="PEN", payer=None):
        start = dt.datetime(2026, month, day, 10, 0)
        book(therapist, [people[name]], start, fee=fee, currency=currency, attendance=attendance, payer=payer)

    on(6, "Ana", "120.00", payer=icbc)
    on(7, "Ana", "100.00", payer=icbc, attendance=Attendance.NO_SHOW)
    on(2, "Ana", "120.00", payer=icbc, month=11)
    on(8, "Ben", "150.00", payer=icbc)
    on(9, "Carla", "90.00")
    on(12, "Carla", "100.00", currency="USD")
    on(13, "Dan", "110.00", payer=acme)
    on(14, "Eva", "110.00", payer=acme)
    db.session.commit()
    return {"icbc": icbc, "acme": acme, **people}


@pytest.fixture
def bruno(app):
    therapist = make_therapist(full_name="Lucía Torres")
    client = make_client(therapist, full_name="Bruno Díaz")
    pacifico = make_payer("Pacífico")

    def on(day, fee, currency="PEN", payer=None):
        appointment = book(therapist, [client], dt.datetime(2026, 10, day, 10), fee=fee, currency=currency, payer=payer)
        return appointment.participants[0]

    first = issued_invoice(
        pacifico,
        [on(1, "100.00", payer=pacifico), on(2, "100.00", payer=pacifico)],
        number="INV-000201",
        invoice_date=dt.date(2026, 10, 15),
    )
    second = issued_invoice(
        pacifico, [on(20, "150.00", payer=pacifico)], number="INV-000202", invoice_date=dt.date(2026, 10, 31)
    )
    in_usd = issued_invoice(
        pacifico,
        [on(21, "60.00", currency="USD", payer=pacifico)],
        number="INV-000203",
        invoice_date=dt.date(2026, 10, 31),
    )
    on(3, "70.00")
    on(4, "40.00", currency="USD")
    on(5, "30.00")
    return client, pacifico, (first, second, in_usd)
