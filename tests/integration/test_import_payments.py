"""Payments moved in from a spreadsheet: a payer's payment of a named invoice or of its oldest open
ones, a client's payment first in first out; all or nothing, every bad row and cell named.

Rosa Quispe's clients (Lima), figured by hand:
- Ana (DNI 40111222), billed to ICBC: 1 Oct 100.00 and 2 Oct 100.00 PEN on F-000301 (dated 15
  Oct); 20 Oct 150.00 PEN on F-000302 (dated 31 Oct).
- Carlos (client no. 7001) pays himself: 3 Oct 80.00 PEN, 4 Oct 40.00 USD.

The good file: ICBC pays F-000302 (150.00, transferencia); ICBC pays 120.00 with no invoice
(oldest first: 100.00 to 1 Oct, 20.00 to 2 Oct of F-000301); Carlos pays 50.00 PEN in efectivo
(to 3 Oct, 30.00 left) and 40.00 USD by card (4 Oct settled).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Allocation, Payment, PaymentMethod
from admin_app.services import imports
from admin_app.services.billing import ledger
from admin_app.services.billing.ledger import ChargeState, InvoiceState
from tests.factories import book, issued_invoice, make_client, make_payer, make_therapist

HEADER = "date,amount,currency,method,reference,invoice_number,payer,client_national_id,client_number"


@pytest.fixture
def practice(app, clock):
    clock.set("2026-11-20T12:00Z")
    g.audit_actor = "importer@example.com"
    rosa = make_therapist(full_name="Rosa Quispe")
    ana = make_client(rosa, full_name="Ana Ruiz", national_id="40111222")
    carlos = make_client(rosa, full_name="Carlos Soto", client_number="7001")
    icbc = make_payer("ICBC")

    def on(client, day, fee, currency="PEN", payer=None):
        start = dt.datetime(2026, 10, day, 10)
        return book(rosa, [client], start, fee=fee, currency=currency, payer=payer).participants[0]

    first = issued_invoice(
        icbc,
        [on(ana, 1, "100.00", payer=icbc), on(ana, 2, "100.00", payer=icbc)],
        number="F-000301",
        invoice_date=dt.date(2026, 10, 15),
    )
    second = issued_invoice(
        icbc, [on(ana, 20, "150.00", payer=icbc)], number="F-000302", invoice_date=dt.date(2026, 10, 31)
    )
    on(carlos, 3, "80.00")
    on(carlos, 4, "40.00", currency="USD")
    db.session.commit()
    return type("Practice", (), {"ana": ana, "carlos": carlos, "icbc": icbc, "invoices": (first, second)})


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return "\n".join((header, *lines)).encode("utf-8")


GOOD_FILE = (
    "2026-11-10,150.00,PEN,transferencia,EFT-88,F-000302,,,",
    "2026-11-12,120.00,pen,Transfer,EFT-91,,icbc,,",
    '13/11/2026,"50,00",PEN,efectivo,,,,,7001',
    "2026-11-14,40.00,USD,card,,,,,7001",
)


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_a_good_file_records_each_payment_as_the_screen_would(practice, runner, tmp_path):
    path = tmp_path / "pagos.csv"
    path.write_bytes(csv_bytes(*GOOD_FILE))

    result = runner.invoke(args=["import", "payments", str(path)])

    assert result.exit_code == 0, result.output
    assert "Imported payments from pagos.csv: 4 created, 0 updated, 0 unchanged." in result.output
    first, second = practice.invoices
    figures = ledger.invoice_figures(db.session, [first.id, second.id])
    assert [(figures[i.id].status, figures[i.id].open) for i in (first, second)] == [
        (InvoiceState.PARTLY_PAID, Decimal("80.00")),
        (InvoiceState.PAID, Decimal("0.00")),
    ]
    carlos = ledger.charge_positions(db.session, client_id=practice.carlos.id)
    assert [(c.date_of_service.day, c.currency, c.open, c.state) for c in carlos] == [
        (3, "PEN", Decimal("30.00"), ChargeState.PARTLY_PAID),
        (4, "USD", Decimal("0.00"), ChargeState.PAID),
    ]
    recorded = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [(p.received_on.day, p.method, p.reference, p.receipt_number is not None) for p in recorded] == [
        (10, PaymentMethod.TRANSFER, "EFT-88", False),
        (12, PaymentMethod.TRANSFER, "EFT-91", False),
        (13, PaymentMethod.CASH, None, True),
        (14, PaymentMethod.CARD, None, True),
    ]


def test_spanish_headers_and_a_client_by_national_id(practice):
    data = csv_bytes(
        "2026-11-10;35,50;PEN;tarjeta;40111222", header="fecha;monto;moneda;metodo;dni"
    )  # Ana owes nothing of her own: the payment stays unapplied

    plan = imports.run(db.session, "payments", data, "pagos.csv")

    assert plan.ok, plan.errors
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.client_id, payment.amount, payment.method) == (
        practice.ana.id,
        Decimal("35.50"),
        PaymentMethod.CARD,
    )
    assert ledger.unapplied(db.session, [payment.id]) == {payment.id: Decimal("35.50")}


def test_a_file_with_bad_rows_writes_nothing_and_names_each_row_and_cell(practice, runner, tmp_path):
    path = tmp_path / "pagos.csv"
    path.write_bytes(
        csv_bytes(
            GOOD_FILE[0],
            "2026-11-31,0,EUR,bitcoin,,F-000302,,,",
            "2026-11-10,10.00,USD,cash,,F-000301,,,",
            "2026-11-10,10.00,PEN,cash,,F-999999,,,",
            "2026-11-10,10.00,PEN,cash,,,Pacífico,,",
            "2026-11-10,10.00,PEN,cash,,,ICBC,,7001",
            "2026-11-10,10.00,PEN,cash,,,,99999999,",
            "2026-11-10,10.00,PEN,cash,,,,,",
        )
    )

    result = runner.invoke(args=["import", "payments", str(path)])

    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("row ")]
    assert errors == [
        "row 3, column date: 2026-11-31 is not a day of the calendar",
        "row 3, column amount: must be more than zero, got 0",
        "row 3, column currency: EUR is not one of the practice's currencies (PEN, USD)",
        "row 3, column method: bitcoin is not one of: autre, card, carte, cash, check, cheque, chèque, "
        "efectivo, espèces, other, otro, tarjeta, transfer, transferencia, virement",
        "row 4, column invoice_number: F-000301 is in PEN, not USD",
        "row 5, column invoice_number: no invoice has the number F-999999",
        "row 6, column payer: no payer is named Pacífico",
        "row 7, column payer: give either the payer (or its invoice) or the client, not both",
        "row 8, column client_national_id: no client has the national ID 99999999",
        "row 9, column invoice_number: say who paid: invoice_number, payer, or the client's client_national_id "
        "or client_number (factura, pagador, dni, numero_cliente)",
    ]
    assert "10 error(s) in pagos.csv: nothing was written." in result.output
    assert (count(Payment), count(Allocation)) == (0, 0)


def test_a_file_naming_nobody_who_pays_is_refused_on_its_header(practice):
    plan = imports.run(
        db.session, "payments", csv_bytes("2026-11-10,10,PEN,cash", header="date,amount,currency,method"), "p.csv"
    )

    assert [str(error) for error in plan.errors] == [
        "row 1, column invoice_number: say who paid: invoice_number, payer, or the client's client_national_id "
        "or client_number (factura, pagador, dni, numero_cliente)"
    ]
