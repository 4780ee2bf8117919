"""Ageing (what is owed by days since the invoice date) and the invoice listing.

Read on 15 January 2027 (Lima). Sessions of October 2026, invoiced and issued with these dates:
- ICBC for Ana, 120.00 PEN, dated 10 Jan 2027 (5 days) → ICBC 0–30: 120.00;
- ICBC for Ben, 150.00 PEN, dated 30 Nov 2026 (46 days); ICBC paid 50.00 and 30.00 was moved to Ben →
  ICBC 31–60: 70.00, Ben 31–60: 30.00;
- Acme EAP (per period) for Dan, 220.00 PEN, dated 20 Oct 2026 (87 days) → Acme 61–90: 220.00;
- Carla herself, 90.00 PEN dated 10 Oct 2026 (97 days) → Carla 90+: 90.00; 100.00 USD dated 20 Dec
  2026 (26 days) → Carla 0–30: 100.00 USD.
Totals PEN: 0–30 120.00, 31–60 100.00, 61–90 220.00, 90+ 90.00, total 530.00; USD: 0–30 100.00.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Allocation, AllocationKind, Invoice, InvoiceGrouping, Payment, PaymentMethod
from admin_app.services.billing import ageing, drafts, issuing
from admin_app.services.billing.ageing import ageing_rows, ageing_totals
from admin_app.services.billing.invoice_run import commit_run
from tests.factories import book, make_client, make_payer, make_therapist
from tests.pages import flashed, table_rows
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2027-01-15T17:00Z"], indirect=True)
AS_OF = dt.date(2027, 1, 15)
D = Decimal


@pytest.fixture
def owed(app):
    therapist = make_therapist(full_name="Lucía Torres")
    icbc = make_payer("ICBC")
    acme = make_payer("Acme EAP", invoice_grouping=InvoiceGrouping.PER_PERIOD)
    people = {name: make_client(therapist, full_name=name) for name in ("Ana", "Ben", "Carla", "Dan")}
    for day, name, fee, currency, payer in [
        (6, "Ana", "120.00", "PEN", icbc),
        (8, "Ben", "150.00", "PEN", icbc),
        (9, "Carla", "90.00", "PEN", None),
        (12, "Carla", "100.00", "USD", None),
        (13, "Dan", "220.00", "PEN", acme),
    ]:
        book(therapist, [people[name]], dt.datetime(2026, 10, day, 10), fee=fee, currency=currency, payer=payer)
    db.session.commit()
    commit_run(db.session, through=dt.date(2026, 10, 31))
    dates = {
        ("ICBC", "Ana", "PEN"): dt.date(2027, 1, 10),
        ("ICBC", "Ben", "PEN"): dt.date(2026, 11, 30),
        ("Acme EAP", None, "PEN"): dt.date(2026, 10, 20),
        (None, "Carla", "PEN"): dt.date(2026, 10, 10),
        (None, "Carla", "USD"): dt.date(2026, 12, 20),
    }
    invoices = {}
    for invoice in db.session.scalars(select(Invoice)):
        key = (invoice.payer and invoice.payer.name, invoice.client and invoice.client.full_name, invoice.currency)
        drafts.set_invoice_date(invoice, dates[key])
        invoices[key] = invoice
    issuing.issue(db.session, issuing.all_drafts(db.session))
    ben_line = invoices[("ICBC", "Ben", "PEN")].lines[0]
    payment = Payment(
        payer=icbc, received_on=dt.date(2027, 1, 5), amount=D("50.00"), currency="PEN", method=PaymentMethod.TRANSFER
    )
    db.session.add(payment)
    for kind, amount, reason in [
        (AllocationKind.PAID, "50.00", None),
        (AllocationKind.MOVED_TO_CLIENT, "30.00", "Co-pay"),
    ]:
        db.session.add(
            Allocation(
                participant_id=ben_line.participant_id,
                payment=payment if kind == AllocationKind.PAID else None,
                kind=kind,
                amount=D(amount),
                currency="PEN",
                applied_on=dt.date(2027, 1, 5),
                reason=reason,
            )
        )
    db.session.commit()
    return invoices


def seen(rows):
    return [(row.debtor, row.name, row.currency, {k: v for k, v in row.buckets.items() if v}) for row in rows]


def test_each_payer_and_client_owes_by_days_since_the_invoice_date(owed):
    rows = ageing_rows(db.session, AS_OF)

    assert seen(rows) == [
        ("payer", "Acme EAP", "PEN", {"61-90": D("220.00")}),
        ("payer", "ICBC", "PEN", {"0-30": D("120.00"), "31-60": D("70.00")}),
        ("client", "Ben (2)", "PEN", {"31-60": D("30.00")}),
        ("client", "Carla (3)", "PEN", {"90+": D("90.00")}),
        ("client", "Carla (3)", "USD", {"0-30": D("100.00")}),
    ]
    assert ageing_totals(rows) == {
        "PEN": {
            "0-30": D("120.00"),
            "31-60": D("100.00"),
            "61-90": D("220.00"),
            "90+": D("90.00"),
            "total": D("530.00"),
        },
        "USD": {"0-30": D("100.00"), "31-60": D("0.00"), "61-90": D("0.00"), "90+": D("0.00"), "total": D("100.00")},
    }


def test_read_on_an_earlier_day_only_what_was_invoiced_and_paid_by_then_counts(owed):
    """On 4 Jan 2027 Ana's invoice (10 Jan) did not exist and ICBC's payment of 5 Jan had not come:
    ICBC owed Ben's 150.00 at 35 days; nothing had been moved to Ben yet."""
    rows = ageing_rows(db.session, dt.date(2027, 1, 4))

    icbc = next(row for row in rows if row.name == "ICBC")
    assert icbc.buckets == {"0-30": D("0.00"), "31-60": D("150.00"), "61-90": D("0.00"), "90+": D("0.00")}
    assert "Ben (2)" not in [row.name for row in rows]


def test_ageing_is_one_statement(owed):
    with counted_queries() as statements:
        ageing_rows(db.session, AS_OF)
    assert len(statements) == 1


def test_the_report_command_gives_the_same_figures_as_json_and_csv(owed, runner):
    as_json = runner.invoke(args=["report", "ageing", "--as-of", "2027-01-15"])
    as_csv = runner.invoke(args=["report", "ageing", "--as-of", "2027-01-15", "--format", "csv"])

    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert report["totals"]["PEN"] == {
        "0-30": "120.00",
        "31-60": "100.00",
        "61-90": "220.00",
        "90+": "90.00",
        "total": "530.00",
    }
    assert report["rows"][1] == {
        "debtor": "payer",
        "name": "ICBC",
        "currency": "PEN",
        "0-30": "120.00",
        "31-60": "70.00",
        "61-90": "0.00",
        "90+": "0.00",
        "total": "190.00",
    }
    table = list(csv.DictReader(io.StringIO(as_csv.output.lstrip("\ufeff"))))
    assert [(row["name"], row["currency"], row["total"]) for row in table] == [
        ("Acme EAP", "PEN", "220.00"),
        ("ICBC", "PEN", "190.00"),
        ("Ben (2)", "PEN", "30.00"),
        ("Carla (3)", "PEN", "90.00"),
        ("Carla (3)", "USD", "100.00"),
    ]
    bad = runner.invoke(args=["report", "ageing", "--as-of", "2027-02-30"])
    assert bad.exit_code == 2 and "is not a date" in bad.output


def test_the_listing_has_one_entry_per_invoice_and_credit_note_with_its_figures(owed, runner):
    ana = owed[("ICBC", "Ana", "PEN")]
    issuing.void(db.session, ana, "Wrong claim number")
    db.session.commit()

    result = runner.invoke(args=["billing", "invoices"])

    assert result.exit_code == 0, result.output
    entries = {entry["number"]: entry for entry in json.loads(result.output)}
    ben = entries["INV-000002"]
    assert {key: ben[key] for key in ("kind", "bill_to", "currency", "total", "paid", "status", "issued_on")} == {
        "kind": "invoice",
        "bill_to": "ICBC",
        "currency": "PEN",
        "total": "150.00",
        "paid": "50.00",
        "status": "partly_paid",
        "issued_on": "2026-11-30",
    }
    assert ben["client_number"] == owed[("ICBC", "Ben", "PEN")].client.client_number
    assert ben["lines"] == [
        {
            "date_of_service": "2026-10-08",
            "client_number": ben["client_number"],
            "reference": None,
            "description": "Individual therapy session, 50 min",
            "amount": "150.00",
            "tax": "0.00",
            "total": "150.00",
        }
    ]
    assert entries["INV-000001"]["status"] == "void"
    credit = entries["CN-000001"]
    assert (credit["kind"], credit["total"], credit["status"]) == ("credit_note", "-120.00", "issued")
    only_void = runner.invoke(args=["billing", "invoices", "--status", "void", "--format", "csv"])
    table = list(csv.DictReader(io.StringIO(only_void.output.lstrip("\ufeff"))))
    assert [(row["number"], row["status"], row["lines"]) for row in table] == [("INV-000001", "void", "1")]


def test_the_screen_and_its_pdf_and_workbook_show_the_same_figures(owed, admin_client):
    page = admin_client.get("/admin/billing/ageing/?as_of=2027-01-15")
    pdf = admin_client.get("/admin/billing/ageing/ageing.pdf?as_of=2027-01-15")
    workbook = admin_client.get("/admin/billing/ageing/ageing.xlsx?as_of=2027-01-15")

    shown = table_rows(page, "ageing")
    assert shown == [
        ["Acme EAP (payer)", "PEN", "PEN 0.00", "PEN 0.00", "PEN 220.00", "PEN 0.00", "PEN 220.00"],
        ["ICBC (payer)", "PEN", "PEN 120.00", "PEN 70.00", "PEN 0.00", "PEN 0.00", "PEN 190.00"],
        ["Ben (2) (client)", "PEN", "PEN 0.00", "PEN 30.00", "PEN 0.00", "PEN 0.00", "PEN 30.00"],
        ["Carla (3) (client)", "PEN", "PEN 0.00", "PEN 0.00", "PEN 0.00", "PEN 90.00", "PEN 90.00"],
        ["Carla (3) (client)", "USD", "$100.00", "$0.00", "$0.00", "$0.00", "$100.00"],
        ["Total", "PEN", "PEN 120.00", "PEN 100.00", "PEN 220.00", "PEN 90.00", "PEN 530.00"],
        ["Total", "USD", "$100.00", "$0.00", "$0.00", "$0.00", "$100.00"],
    ]
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="ageing-2027-01-15.pdf"'
    text = " ".join(pdf_text(pdf.get_data()).split())
    for row in shown[:-2]:
        assert f"{row[0]} {row[1]} {' '.join(row[2:])}" in text
    assert "Total: PEN 530.00" in text and "Total: $100.00" in text
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.get_data())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Owed by", "Name", "Currency", "0–30 days", "31–60 days", "61–90 days", "over 90 days", "Total"]
    assert rows[2] == ["Payer", "ICBC", "PEN", 120, 70, 0, 0, 190]
    assert rows[-2:] == [["Total", None, "PEN", 120, 100, 220, 90, 530], ["Total", None, "USD", 100, 0, 0, 0, 100]]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_wrong_day_is_named_and_no_document_is_made(owed, admin_client):
    page = admin_client.get("/admin/billing/ageing/?as_of=2027-02-30")
    assert flashed(page) == ["As of: 2027-02-30 is not a date (YYYY-MM-DD)."]
    assert table_rows(page, "ageing")[-2][0] == "Total"  # today's ageing instead

    pdf = admin_client.get("/admin/billing/ageing/ageing.pdf?as_of=yesterday", follow_redirects=True)

    assert (pdf.mimetype, flashed(pdf)) == ("text/html", ["As of: yesterday is not a date (YYYY-MM-DD)."])


def test_the_screen_shows_a_page_of_rows_with_the_totals_of_all(owed, admin_client, monkeypatch):
    monkeypatch.setattr(ageing, "PAGE_SIZE", 2)

    first = admin_client.get("/admin/billing/ageing/?as_of=2027-01-15")
    last = admin_client.get("/admin/billing/ageing/?as_of=2027-01-15&page=2")
    beyond = admin_client.get("/admin/billing/ageing/?as_of=2027-01-15&page=99")

    totals = [
        ["Total", "PEN", "PEN 120.00", "PEN 100.00", "PEN 220.00", "PEN 90.00", "PEN 530.00"],
        ["Total", "USD", "$100.00", "$0.00", "$0.00", "$0.00", "$100.00"],
    ]
    first_rows, last_rows = table_rows(first, "ageing"), table_rows(last, "ageing")
    assert [row[:2] for row in first_rows[:-2]] == [["Acme EAP (payer)", "PEN"], ["ICBC (payer)", "PEN"]]
    assert first_rows[-2:] == totals
    assert last_rows == [["Carla (3) (client)", "USD", "$100.00", "$0.00", "$0.00", "$0.00", "$100.00"], *totals]
    assert table_rows(beyond, "ageing") == table_rows(last, "ageing")
    page = first.get_data(as_text=True)
    assert "Page 1 of 3" in page and "The totals are of all 5 rows; the PDF and Excel have every one." in page
    assert 'href="/admin/billing/ageing/?as_of=2027-01-15&amp;page=1"' in page
    assert "Page 3 of 3" in last.get_data(as_text=True)
