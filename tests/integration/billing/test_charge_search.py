"""The appointment search for billing: October's charges of test_invoices.py (today is 5 November
2026 in Lima, missed sessions at 50 %): Ana 6 Oct 120.00 to ICBC and 7 Oct 50.00 no-show fee to
herself, Ben 8 Oct 150.00 to ICBC, Carla 9 Oct 90.00 PEN and 12 Oct 100.00 USD to herself, Dan and
Eva 13 and 14 Oct 110.00 each to Acme EAP: 7 charges, 630.00 PEN and 100.00 USD. Ana's 2 November
session is outside the default period (the previous month).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Invoice, Participant, PaymentMethod
from admin_app.services.billing import issuing, payments
from admin_app.services.billing.charge_search import ChargeSearch, search_charges
from admin_app.services.billing.invoice_run import commit_run
from tests.factories import book, make_client, make_therapist
from tests.integration.billing.test_invoices import NOW, OCTOBER_END
from tests.pages import body, flashed, list_rows, text_of
from tests.queries import counted_queries

SEARCH = "/admin/billing/charges/"
pytestmark = pytest.mark.parametrize("clock", [NOW], indirect=True)


def charges_shown(response) -> list[tuple[str, str, str, str, str]]:
    """(date, client, bill-to, amount, status) of each row of the page."""
    table = re.search(r'<table[^>]*id="charges">(.*?)</table>', body(response), re.S).group(1)
    rows = []
    for row in re.findall(r'<tr data-participant="\d+">(.*?)</tr>', table, re.S):
        cells = {
            name: text_of(value) for name, value in re.findall(r'<td class="col-([\w-]+)[^"]*">(.*?)</td>', row, re.S)
        }
        rows.append((cells["date"], cells["client"], cells["bill-to"], cells["amount"], cells["state"]))
    return rows


def totals_shown(response) -> dict[str, str]:
    return {
        currency: text_of(total)
        for currency, total in re.findall(
            r'<span class="charge-total" data-currency="(\w+)">(.*?)</span>', body(response)
        )
    }


def test_the_previous_month_is_shown_with_its_totals_per_currency(admin_client, october):
    response = admin_client.get(SEARCH)

    assert charges_shown(response) == [
        ("2026-10-06", "Ana", "ICBC", "PEN 120.00", "Uninvoiced"),
        ("2026-10-07", "Ana", "Client", "PEN 50.00", "Uninvoiced"),
        ("2026-10-08", "Ben", "ICBC", "PEN 150.00", "Uninvoiced"),
        ("2026-10-09", "Carla", "Client", "PEN 90.00", "Uninvoiced"),
        ("2026-10-12", "Carla", "Client", "$100.00", "Uninvoiced"),
        ("2026-10-13", "Dan", "Acme EAP", "PEN 110.00", "Uninvoiced"),
        ("2026-10-14", "Eva", "Acme EAP", "PEN 110.00", "Uninvoiced"),
    ]
    assert totals_shown(response) == {"PEN": "PEN 630.00", "USD": "$100.00"}
    assert "7 charges" in text_of(body(response))


def test_search_and_filters_narrow_the_rows_and_the_totals(admin_client, october):
    carla = admin_client.get(SEARCH, query_string={"client": "carl"})
    assert [row[1] for row in charges_shown(carla)] == ["Carla", "Carla"]
    assert totals_shown(carla) == {"PEN": "PEN 90.00", "USD": "$100.00"}

    icbc = admin_client.get(SEARCH, query_string={"payer": october["icbc"].id})
    assert [row[1] for row in charges_shown(icbc)] == ["Ana", "Ben"]
    assert totals_shown(icbc) == {"PEN": "PEN 270.00"}

    clients = admin_client.get(SEARCH, query_string={"bill_to": "client"})
    assert [(row[1], row[3]) for row in charges_shown(clients)] == [
        ("Ana", "PEN 50.00"),
        ("Carla", "PEN 90.00"),
        ("Carla", "$100.00"),
    ]
    week = admin_client.get(SEARCH, query_string={"since": "2026-10-08", "until": "2026-10-12"})
    assert [row[0] for row in charges_shown(week)] == ["2026-10-08", "2026-10-09", "2026-10-12"]
    november = admin_client.get(SEARCH, query_string={"since": "2026-11-01", "until": "2026-11-30"})
    assert [row[:2] for row in charges_shown(november)] == [("2026-11-02", "Ana")]
    other = make_therapist(full_name="Rosa Mendoza")
    book(other, [make_client(other, full_name="Zoe")], dt.datetime(2026, 10, 20, 9), fee="80.00", currency="PEN")
    db.session.commit()
    rosa = admin_client.get(SEARCH, query_string={"therapist": other.id})
    assert charges_shown(rosa) == [("2026-10-20", "Zoe", "Client", "PEN 80.00", "Uninvoiced")]


def test_each_charge_says_where_it_stands(admin_client, october):
    commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    ben = db.session.scalars(select(Invoice).where(Invoice.client_id == october["Ben"].id)).one()
    issuing.issue(db.session, [ben.id])
    db.session.commit()

    shown = {row[0]: row[4] for row in charges_shown(admin_client.get(SEARCH))}

    assert (shown["2026-10-06"], shown["2026-10-08"], shown["2026-10-07"]) == (
        "On a draft",
        "On invoice ICBC-000001",
        "Uninvoiced",
    )
    on_drafts = admin_client.get(SEARCH, query_string={"state": "draft"})
    assert [row[:2] for row in charges_shown(on_drafts)] == [("2026-10-06", "Ana")]
    uninvoiced = admin_client.get(SEARCH, query_string={"state": "uninvoiced"})
    assert len(charges_shown(uninvoiced)) == 5
    numbered = admin_client.get(SEARCH, query_string={"invoice": "icbc-000001"})
    assert [row[:2] for row in charges_shown(numbered)] == [("2026-10-08", "Ben")]


def test_invoice_selected_drafts_the_chosen_charges_and_shows_the_drafts(admin_client, october):
    page = admin_client.get(SEARCH, query_string={"client": "a"})
    chosen = db.session.scalars(
        select(Participant.id).where(Participant.client_id.in_([october["Dan"].id, october["Carla"].id]))
    ).all()
    assert all(f'name="participant" value="{key}"' in body(page) for key in chosen)

    response = admin_client.post(
        f"{SEARCH}invoice/",
        data={"participant": [str(key) for key in chosen], "through": "2026-10-31", "back": f"{SEARCH}?client=a"},
        follow_redirects=True,
    )

    assert "3 new drafts, 0 drafts extended, 3 charges invoiced." in flashed(response)
    assert sorted((row["bill_to"], row["total"]) for row in list_rows(response)) == [
        ("Acme EAP", "PEN 110.00"),
        ("Carla", "$100.00"),
        ("Carla", "PEN 90.00"),
    ]
    again = admin_client.post(
        f"{SEARCH}invoice/", data={"participant": [str(key) for key in chosen], "through": "2026-10-31"}
    )
    assert again.status_code == 302
    assert db.session.scalar(select(func.count(Invoice.id))) == 3
    nothing = admin_client.post(f"{SEARCH}invoice/", data={"through": "2026-10-31"}, follow_redirects=True)
    assert "Select the sessions to invoice." in flashed(nothing)


def test_a_wrong_date_in_the_address_is_named_and_the_month_shown(admin_client, october):
    response = admin_client.get(SEARCH, query_string={"since": "2026-13-01", "bill_to": "nobody"})

    assert response.status_code == 200
    assert "From: expected a date as YYYY-MM-DD, got 2026-13-01" in flashed(response)
    assert "Billed to: not a valid choice." in flashed(response)
    assert len(charges_shown(response)) == 7


def test_the_search_costs_the_same_queries_for_7_and_40_charges(admin_client, october):
    admin_client.get(SEARCH)  # warm: the first request loads the login and the translations
    with counted_queries() as few:
        assert len(charges_shown(admin_client.get(SEARCH))) == 7
    therapist = make_therapist(full_name="Rosa Mendoza")
    for day in range(1, 31):
        client = make_client(therapist, full_name=f"Client {day}")
        book(therapist, [client], dt.datetime(2026, 10, day, 16), fee="80.00", currency="USD")
    commit_run(db.session, through=dt.date(2026, 10, 15))
    db.session.commit()
    with counted_queries() as many:
        response = admin_client.get(SEARCH)

    assert len(charges_shown(response)) == 37
    assert totals_shown(response) == {"PEN": "PEN 630.00", "USD": "$2,500.00"}
    assert len(many) == len(few)


def test_each_charge_shows_the_ledgers_state_and_the_state_filter_uses_it(admin_client, october):
    """ICBC's invoices through October issued (Ana's 6 Oct 120.00 on ICBC-000001, Ben's 8 Oct
    150.00 on ICBC-000002); ICBC pays 100.00 of Ana's and all of Ben's on 5 November, the rest of
    Ana's is written off; Carla pays her 9 Oct 90.00 PEN in cash before it is invoiced."""
    commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    issued = issuing.issue(db.session, db.session.scalars(select(Invoice.id).order_by(Invoice.id)).all())
    ana, ben = sorted(
        (db.session.get(Invoice, each.id) for each in issued), key=lambda invoice: invoice.client.full_name
    )
    paid_on = dt.date(2026, 11, 5)
    common = {"received_on": paid_on, "currency": "PEN", "method": PaymentMethod.TRANSFER}
    payments.record_payer_payment(
        db.session, payer_id=october["icbc"].id, amount=Decimal("100.00"), invoice_ids=[ana.id], **common
    )
    payments.record_payer_payment(
        db.session, payer_id=october["icbc"].id, amount=Decimal("150.00"), invoice_ids=[ben.id], **common
    )
    payments.record_client_payment(db.session, client_id=october["Carla"].id, amount=Decimal("40.00"), **common)
    db.session.commit()

    shown = {row[0]: row[4] for row in charges_shown(admin_client.get(SEARCH))}
    assert (shown["2026-10-06"], shown["2026-10-08"], shown["2026-10-09"]) == (
        f"Partly paid, {ana.number}",
        f"Paid on 2026-11-05, {ben.number}",
        "Partly paid",
    )
    payments.write_off_rest(db.session, invoice_id=ana.id, reason="Plan maximum", on=paid_on)
    db.session.commit()
    shown = {row[0]: row[4] for row in charges_shown(admin_client.get(SEARCH))}
    assert shown["2026-10-06"] == f"Written off, {ana.number}"
    paid = admin_client.get(SEARCH, query_string={"state": "paid"})
    assert [row[:2] for row in charges_shown(paid)] == [("2026-10-08", "Ben")]
    partly = admin_client.get(SEARCH, query_string={"state": "partly_paid"})
    assert [row[:2] for row in charges_shown(partly)] == [("2026-10-09", "Carla")]
    assert totals_shown(partly) == {"PEN": "PEN 90.00"}


def test_the_charge_search_posts_the_clients_name(admin_client, october):
    response = admin_client.post(f"{SEARCH}search/", data={"client": "carl", "since": "2026-10-01", "payer": ""})

    location = urlsplit(response.headers["Location"])
    assert location.path == SEARCH and "carl" not in response.headers["Location"]
    arguments = parse_qs(location.query)
    assert arguments["since"] == ["2026-10-01"] and "payer" not in arguments
    assert [row[1] for row in charges_shown(admin_client.get(response.headers["Location"]))] == ["Carla", "Carla"]


def test_pages_follow_one_another_in_start_order_with_the_totals_of_them_all(app, october):
    """Each page names its own charges; the count and totals are those of the whole search."""
    search = ChargeSearch(since=dt.date(2026, 10, 1), until=OCTOBER_END)
    pages = [search_charges(db.session, search, page=page, per_page=3) for page in range(3)]

    shown = [(charge.date_of_service.day, charge.client_name) for page in pages for charge in page.charges]
    assert shown == [(6, "Ana"), (7, "Ana"), (8, "Ben"), (9, "Carla"), (12, "Carla"), (13, "Dan"), (14, "Eva")]
    assert {(page.count, page.pages) for page in pages} == {(7, 3)}
    assert {tuple(page.totals.items()) for page in pages} == {(("PEN", Decimal("630.00")), ("USD", Decimal("100.00")))}
    carla = search_charges(db.session, dataclasses.replace(search, client="CARL"), per_page=1)
    assert [charge.client_name for charge in carla.charges] == ["Carla"]
    assert (carla.count, carla.totals) == (2, {"PEN": Decimal("90.00"), "USD": Decimal("100.00")})
