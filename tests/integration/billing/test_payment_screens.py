"""The payment screens as the staff use them, on Bruno's invoices of test_payments.py (today is
10 November 2026 in Lima): Pacífico owes INV-000201 200.00 PEN (1 and 2 Oct), INV-000202 150.00 PEN
(20 Oct) and INV-000203 60.00 USD (21 Oct); Bruno owes 3 Oct 70.00 PEN, 4 Oct 40.00 USD and 5 Oct
30.00 PEN himself.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Allocation, AuditEvent, OutboundMessage, Payment, PaymentMethod
from admin_app.services.billing import payments
from tests.conftest import sign_in_therapist
from tests.factories import book, issued_invoice, make_client, make_payer, make_therapist
from tests.pages import body, field_errors, flashed, list_rows, table_rows, text_of
from tests.queries import counted_queries

NOW = "2026-11-10T15:00Z"
PAYMENTS = "/admin/payments/"
PAYER_FORM = "/admin/payer-payment/"
CLIENT_FORM = "/admin/client-payment/"
pytestmark = pytest.mark.parametrize("clock", [NOW], indirect=True)


@pytest.fixture
def books(bruno):
    """Bruno's practice, committed: (client, payer, invoices)."""
    db.session.commit()
    return bruno


def payer_payment(pacifico, amount, invoices=(), **fields):
    form = {"payer": pacifico.id, "received_on": "2026-11-10", "amount": amount, "currency": "PEN"}
    form |= {"method": "transfer", "reference": "EFT 5531", "invoices": [str(invoice.id) for invoice in invoices]}
    return form | fields


def ledger_shown(response) -> dict[str, str]:
    """The invoice page's figures: Total, Paid, Written off, Moved to the client, Open, Status."""
    return {row[0]: row[1] for row in _header_rows(response, "invoice-ledger")}


def _header_rows(response, table_id):
    table = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', body(response), re.S).group(1)
    return [
        (text_of(head), text_of(cell))
        for head, cell in re.findall(r"<th>(.*?)</th>\s*<td[^>]*>(.*?)</td>", table, re.S)
    ]


def invoice_page(client, invoice):
    return client.get(f"/admin/invoices/details/?id={invoice.id}")


def test_the_payer_form_lists_the_payers_open_invoices_and_ticks_the_one_asked_for(admin_client, books):
    _bruno, pacifico, (first, second, _in_usd) = books

    response = admin_client.get(PAYER_FORM, query_string={"payer": pacifico.id, "invoice": second.id})

    assert table_rows(response, "open-invoices") == [
        ["", "INV-000201", "2026-10-15", "Bruno Díaz", "PEN 200.00"],
        ["", "INV-000202", "2026-10-31", "Bruno Díaz", "PEN 150.00"],
        ["", "INV-000203", "2026-10-31", "Bruno Díaz", "$60.00"],
    ]
    assert f'value="{second.id}" id="invoice-{second.id}" checked' in body(response)
    assert f'value="{first.id}" id="invoice-{first.id}">' in body(response)
    assert re.search(r'<input[^>]*id="received_on"[^>]*value="2026-11-10"', body(response))
    assert "open-invoices" not in body(admin_client.get(PAYER_FORM))


def test_a_payers_payment_of_two_ticked_invoices_pays_them_and_keeps_the_rest_as_credit(admin_client, books):
    _bruno, pacifico, (first, second, _in_usd) = books

    response = admin_client.post(
        PAYER_FORM, data=payer_payment(pacifico, "400.00", [first, second]), follow_redirects=True
    )

    assert flashed(response) == [
        "Payment recorded: applied to INV-000201 PEN 200.00, INV-000202 PEN 150.00.",
        "PEN 50.00 was not applied: it stays on the payment as credit.",
    ]
    [row] = list_rows(response)
    assert (row["from"], row["amount"], row["method"], row["reference"]) == (
        "Pacífico",
        "PEN 400.00",
        "Bank transfer",
        "EFT 5531",
    )
    assert (row["applied"], row["unapplied"], row["receipt_number"]) == ("PEN 350.00", "PEN 50.00", "—")
    for invoice in (first, second):
        shown = ledger_shown(invoice_page(admin_client, invoice))
        assert (shown["Paid"], shown["Open"], shown["Status"]) == (shown["Total"], "PEN 0.00", "Paid")
        assert 'id="record-payment"' not in body(invoice_page(admin_client, invoice))


def test_a_payment_naming_no_invoice_pays_the_oldest_and_the_invoice_list_shows_paid_and_open(admin_client, books):
    _bruno, pacifico, (first, second, in_usd) = books

    response = admin_client.post(PAYER_FORM, data=payer_payment(pacifico, "250.00"), follow_redirects=True)

    assert flashed(response) == ["Payment recorded: applied to INV-000201 PEN 200.00, INV-000202 PEN 50.00."]
    invoices = {row["number"]: (row["paid"], row["open"]) for row in list_rows(admin_client.get("/admin/invoices/"))}
    assert invoices == {
        "INV-000201": ("PEN 200.00", "PEN 0.00"),
        "INV-000202": ("PEN 50.00", "PEN 100.00"),
        "INV-000203": ("$0.00", "$60.00"),
    }
    shown = ledger_shown(invoice_page(admin_client, second))
    assert (shown["Paid"], shown["Open"], shown["Status"]) == ("PEN 50.00", "PEN 100.00", "Partly paid")


def test_a_clients_card_payment_shows_its_receipt_and_the_sessions_it_covers(admin_client, books):
    """Bruno pays 90.00 PEN by card: 70.00 for 3 Oct and 20.00 of 5 Oct's 30.00; his receipt is emailed."""
    bruno, _pacifico, _invoices = books

    response = admin_client.post(
        CLIENT_FORM,
        data={"client": bruno.id, "received_on": "2026-11-10", "amount": "90.00", "currency": "PEN", "method": "card"},
        follow_redirects=True,
    )

    payment = db.session.scalars(select(Payment)).one()
    assert flashed(response) == [
        f"Receipt {payment.receipt_number}: PEN 90.00; sessions covered: 2026-10-03, 2026-10-05."
    ]
    [row] = list_rows(response)
    assert (row["from"], row["method"], row["applied"], row["unapplied"]) == (
        "Bruno Díaz",
        "Card",
        "PEN 90.00",
        "PEN 0.00",
    )
    assert row["receipt_number"] == payment.receipt_number
    assert f'href="/admin/receipts/{payment.id}.pdf"' in body(response)
    assert db.session.scalar(select(func.count()).where(OutboundMessage.recipient == bruno.email)) == 1


def test_the_client_form_offers_the_clients_it_finds_and_starts_with_the_one_asked_for(admin_client, books):
    bruno, _pacifico, _invoices = books

    found = admin_client.post(f"{CLIENT_FORM}ajax/lookup/?name=client", data={"query": "brun"})
    page = admin_client.get(CLIENT_FORM, query_string={"client": bruno.id})

    assert [name.split(" (")[0] for _id, name in found.get_json()] == ["Bruno Díaz"]
    assert f'id="client" name="client" type="hidden" value="{bruno.id}"' in body(page)


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("abc", "Not a valid decimal value."),
        ("-5", "Amount: must not be negative"),
        ("0", "Amount: must be more than zero"),
        ("", "This field is required."),
    ],
)
def test_a_bad_amount_is_named_beside_the_field_and_nothing_is_recorded(admin_client, books, amount, error):
    bruno, pacifico, _invoices = books

    for_payer = admin_client.post(PAYER_FORM, data=payer_payment(pacifico, amount))
    for_client = admin_client.post(
        CLIENT_FORM,
        data={"client": bruno.id, "received_on": "2026-11-10", "amount": amount, "currency": "PEN", "method": "cash"},
    )

    assert field_errors(for_payer)["amount"] == [error]
    assert field_errors(for_client)["amount"] == [error]
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_an_invoice_of_another_currency_is_refused_with_the_reason_and_nothing_is_recorded(admin_client, books):
    _bruno, pacifico, (_first, _second, in_usd) = books

    response = admin_client.post(PAYER_FORM, data=payer_payment(pacifico, "60.00", [in_usd]))

    assert flashed(response) == ["Invoices: INV-000203 is in USD, not PEN"]
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_the_rest_of_an_underpaid_invoice_is_written_off_with_a_reason(admin_client, books):
    _bruno, pacifico, (first, _second, _in_usd) = books
    payments.record_payer_payment(
        db.session, payer_id=pacifico.id, received_on=dt.date(2026, 11, 10), amount=Decimal("180.00"),
        currency="PEN", method=PaymentMethod.TRANSFER, invoice_ids=[first.id],
    )  # fmt: skip
    db.session.commit()
    page = invoice_page(admin_client, first)
    assert ledger_shown(page)["Status"] == "Partly paid"
    assert f'href="{PAYER_FORM}?payer={pacifico.id}&amp;invoice={first.id}"' in body(page)

    refused = admin_client.post(f"/admin/invoices/write-off/?id={first.id}", data={"write_off-reason": " "})

    assert field_errors(refused)["write_off-reason"] == ["Reason: give the reason"]
    assert db.session.scalar(select(func.count()).where(Allocation.payment_id.is_(None))) == 0
    done = admin_client.post(
        f"/admin/invoices/write-off/?id={first.id}",
        data={"write_off-reason": "Payer's maximum rate"},
        follow_redirects=True,
    )
    assert flashed(done) == ["PEN 20.00 written off."]
    shown = ledger_shown(done)
    assert (shown["Paid"], shown["Written off"], shown["Open"], shown["Status"]) == (
        "PEN 180.00",
        "PEN 20.00",
        "PEN 0.00",
        "Paid",
    )
    assert 'id="write-off-form"' not in body(done)


def test_the_rest_moved_to_the_client_is_the_clients_next_payment(admin_client, books):
    bruno, pacifico, (first, _second, _in_usd) = books
    admin_client.post(PAYER_FORM, data=payer_payment(pacifico, "170.00", [first]))

    refused = admin_client.post(f"/admin/invoices/move-to-client/?id={first.id}", data={"move-reason": ""})
    assert field_errors(refused)["move-reason"] == ["Reason: give the reason"]
    moved = admin_client.post(
        f"/admin/invoices/move-to-client/?id={first.id}",
        data={"move-reason": "Not covered: plan maximum"},
        follow_redirects=True,
    )

    assert flashed(moved) == ["PEN 30.00 is now the client's to pay."]
    shown = ledger_shown(moved)
    assert (shown["Moved to the client"], shown["Open"], shown["Status"]) == ("PEN 30.00", "PEN 0.00", "Paid")
    paid = admin_client.post(
        CLIENT_FORM,
        data={"client": bruno.id, "received_on": "2026-11-10", "amount": "30.00", "currency": "PEN", "method": "cash"},
        follow_redirects=True,
    )
    assert "sessions covered: 2026-10-02." in flashed(paid)[0]


def test_opening_a_payment_is_in_the_audit_trail(admin_client, books):
    _bruno, pacifico, _invoices = books
    admin_client.post(PAYER_FORM, data=payer_payment(pacifico, "10.00"))
    payment = db.session.scalars(select(Payment)).one()

    response = admin_client.get(f"{PAYMENTS}details/?id={payment.id}")

    assert response.status_code == 200 and "EFT 5531" in body(response)
    viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "payment", AuditEvent.action == "view"))
    assert [event.entity_id for event in viewed] == [payment.id]


def test_the_list_filters_and_searches_payments(admin_client, books):
    bruno, pacifico, _invoices = books
    admin_client.post(PAYER_FORM, data=payer_payment(pacifico, "10.00"))
    admin_client.post(
        CLIENT_FORM,
        data={"client": bruno.id, "received_on": "2026-11-09", "amount": "5.00", "currency": "USD", "method": "cash"},
    )

    by_reference = list_rows(admin_client.get(PAYMENTS, query_string={"search": "5531"}))
    by_client = list_rows(admin_client.get(PAYMENTS, query_string={"search": "bruno"}))

    assert [row["from"] for row in by_reference] == ["Pacífico"]
    assert [row["from"] for row in by_client] == ["Bruno Díaz"]
    assert [row["received_on"] for row in list_rows(admin_client.get(PAYMENTS))] == ["Nov 10, 2026", "Nov 9, 2026"]


def test_a_therapist_gets_none_of_the_payment_screens(client, books):
    _bruno, pacifico, (first, _second, _in_usd) = books
    sign_in_therapist(client, make_therapist(full_name="Rosa Mendoza"))

    assert client.get(PAYMENTS).status_code == 403
    assert client.get(PAYER_FORM, query_string={"payer": pacifico.id}).status_code == 403
    assert client.post(PAYER_FORM, data=payer_payment(pacifico, "10.00")).status_code == 403
    assert client.get(CLIENT_FORM).status_code == 403
    assert client.post(f"/admin/invoices/write-off/?id={first.id}", data={"write_off-reason": "x"}).status_code == 403
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert db.session.scalar(select(func.count(Allocation.id))) == 0


def test_the_list_and_the_payer_form_cost_the_same_queries_for_few_and_many(admin_client, books):
    bruno, pacifico, _invoices = books
    therapist = make_therapist()
    admin_client.post(PAYER_FORM, data=payer_payment(pacifico, "10.00"))
    admin_client.get(PAYMENTS)  # warm: the first request loads the login and the translations
    with counted_queries() as few:
        assert len(list_rows(admin_client.get(PAYMENTS))) == 1
        assert len(table_rows(admin_client.get(PAYER_FORM, query_string={"payer": pacifico.id}), "open-invoices")) == 3
    for day in range(1, 6):
        other = make_client(therapist, full_name=f"Client {day}")
        session = book(therapist, [other], dt.datetime(2026, 9, day, 10), fee="80.00", currency="PEN", payer=pacifico)
        issued_invoice(pacifico, session.participants, number=f"INV-00030{day}")
        payments.record_client_payment(
            db.session, client_id=bruno.id, received_on=dt.date(2026, 11, day), amount=Decimal("1.00"),
            currency="PEN", method=PaymentMethod.CASH,
        )  # fmt: skip
    make_payer("Rímac")
    db.session.commit()
    with counted_queries() as many:
        assert len(list_rows(admin_client.get(PAYMENTS))) == 6
        assert len(table_rows(admin_client.get(PAYER_FORM, query_string={"payer": pacifico.id}), "open-invoices")) == 8

    assert len(many) == len(few)


def filtered(admin_client, app, name: str, value) -> list[dict[str, str]]:
    """The list filtered by the filter labelled `name` with the `equals` operation."""
    [view] = [view for admin in app.extensions["admin"] for view in admin._views if view.endpoint == "payment"]
    [arg] = [
        arg
        for arg, (_index, flt) in view._filter_args.items()
        if str(flt.name) == name and str(flt.operation()) == "equals"
    ]
    return list_rows(admin_client.get(PAYMENTS, query_string={f"flt0_{arg}": value}))


def test_the_list_filters_by_payer_method_currency_and_date(admin_client, app, books):
    bruno, pacifico, _invoices = books
    admin_client.post(PAYER_FORM, data=payer_payment(pacifico, "10.00"))
    admin_client.post(
        CLIENT_FORM,
        data={"client": bruno.id, "received_on": "2026-11-09", "amount": "5.00", "currency": "USD", "method": "cash"},
    )

    assert [row["from"] for row in filtered(admin_client, app, "Method", "CASH")] == ["Bruno Díaz"]
    assert [row["from"] for row in filtered(admin_client, app, "Currency", "PEN")] == ["Pacífico"]
    assert [row["from"] for row in filtered(admin_client, app, "Received on", "2026-11-09")] == ["Bruno Díaz"]
    assert [row["from"] for row in filtered(admin_client, app, "Payer", "Pacífico")] == ["Pacífico"]


def test_a_payment_without_a_payer_is_refused_naming_the_field(admin_client, books):
    _bruno, pacifico, _invoices = books

    response = admin_client.post(PAYER_FORM, data=payer_payment(pacifico, "10.00", payer="nobody"))

    assert flashed(response) == ["Payer: choose the payer first."]
    assert db.session.scalar(select(func.count(Payment.id))) == 0
