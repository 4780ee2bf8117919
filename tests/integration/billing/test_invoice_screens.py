"""The invoice screens as the staff use them: the list with its totals, bulk *Issue*, the invoice page
where a draft is edited through its forms (bad input refused beside the field, nothing written),
*Void* with a reason, and the invoice run screen. October's practice of test_invoices.py: a run
through 31 October gives 6 drafts (ICBC/Ana 120.00, Ana 50.00, ICBC/Ben 150.00, Carla 90.00 PEN,
Carla 100.00 USD, Acme 220.00); today is 5 November 2026 in Lima.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AuditEvent, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, PaymentMethod
from admin_app.services.billing import issuing, payments
from admin_app.services.billing.invoice_run import commit_run
from tests.conftest import sign_in_therapist
from tests.factories import make_therapist
from tests.integration.billing.test_invoices import NOW, OCTOBER_END
from tests.pages import body, field_errors, flashed, list_rows, run_link, run_result, text_of
from tests.queries import counted_queries

LIST = "/admin/invoices/"
pytestmark = pytest.mark.parametrize("clock", [NOW], indirect=True)


def page_of(invoice: Invoice) -> str:
    return f"{LIST}details/?id={invoice.id}"


def drafted(october) -> dict[str, Invoice]:
    """The run through October, committed; the drafts by what they bill."""
    commit_run(db.session, through=OCTOBER_END)
    found = {}
    for invoice in db.session.scalars(select(Invoice).order_by(Invoice.id)):
        key = invoice.payer.name if invoice.payer else invoice.client.full_name
        if invoice.payer and invoice.client:
            key += f"/{invoice.client.full_name}"
        found[f"{key} {invoice.currency}"] = invoice
    return found


def lines_shown(response) -> list[dict[str, str]]:
    table = re.search(r'<table[^>]*id="invoice-lines">(.*?)</table>', body(response), re.S).group(1)
    rows = []
    for row in re.findall(r'<tr data-line="\d+">(.*?)</tr>', table, re.S):
        cells = dict(re.findall(r'<td class="col-([\w-]+)[^"]*">(.*?)</td>', row, re.S))
        rows.append({name: text_of(value) for name, value in cells.items() if name != "change"})
    return rows


def shown(response, element_id: str) -> str:
    return text_of(re.search(rf'id="{element_id}"[^>]*>(.*?)</', body(response), re.S).group(1))


def state_of(invoice: Invoice) -> tuple:
    db.session.expire_all()
    lines = db.session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.id))
    return (
        db.session.get(Invoice, invoice.id).status,
        db.session.get(Invoice, invoice.id).notes,
        db.session.get(Invoice, invoice.id).invoice_date,
        [(line.amount, line.adjustment_reason, line.tax) for line in lines],
    )


def test_the_list_shows_each_draft_with_its_bill_to_and_total(admin_client, october):
    drafted(october)

    rows = list_rows(admin_client.get(LIST))

    seen = sorted((row["bill_to"], row["client"], row["currency"], row["total"], row["number"]) for row in rows)
    assert seen == [
        ("Acme EAP", "—", "PEN", "PEN 220.00", "Draft"),
        ("Ana", "Ana", "PEN", "PEN 50.00", "Draft"),
        ("Carla", "Carla", "PEN", "PEN 90.00", "Draft"),
        ("Carla", "Carla", "USD", "$100.00", "Draft"),
        ("ICBC", "Ana", "PEN", "PEN 120.00", "Draft"),
        ("ICBC", "Ben", "PEN", "PEN 150.00", "Draft"),
    ]
    assert {(row["status"], row["kind"], row["sent"]) for row in rows} == {("Draft", "Invoice", "No")}


def test_the_list_costs_the_same_queries_for_2_and_6_invoices(admin_client, october):
    commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    admin_client.get(LIST)  # warm: the first request loads the login and the translations
    with counted_queries() as two:
        assert len(list_rows(admin_client.get(LIST))) == 2
    commit_run(db.session, through=OCTOBER_END)
    with counted_queries() as six:
        assert len(list_rows(admin_client.get(LIST))) == 6

    assert len(six) == len(two)


def test_bulk_issue_numbers_the_drafts_or_refuses_them_all(admin_client, october, clock):
    drafts = drafted(october)
    late = drafts["Acme EAP PEN"]
    late.invoice_date = dt.date(2026, 10, 13)  # before its last date of service, 14 October
    db.session.commit()
    chosen = [str(invoice.id) for invoice in drafts.values()]

    refused = admin_client.post(f"{LIST}action/", data={"action": "issue", "rowid": chosen}, follow_redirects=True)

    assert any("Nothing was issued: 1 problem." in message for message in flashed(refused))
    assert db.session.scalar(select(func.count()).where(Invoice.number.is_not(None))) == 0
    late.invoice_date = dt.date(2026, 11, 5)
    db.session.commit()
    issued = admin_client.post(f"{LIST}action/", data={"action": "issue", "rowid": chosen}, follow_redirects=True)
    assert "Issued 6 invoices: ICBC-000001, INV-000001, ICBC-000002, INV-000002, INV-000003, INV-000004." in flashed(
        issued
    )
    assert {row["status"] for row in list_rows(issued)} == {"Issued"}


def test_the_invoice_page_shows_the_header_lines_and_totals(admin_client, october):
    october["icbc"].provider_number = "VN-4471"
    october["icbc"].tax_rate = Decimal("5")
    db.session.commit()
    ben = drafted(october)["ICBC/Ben PEN"]

    response = admin_client.get(page_of(ben))

    assert response.status_code == 200
    assert lines_shown(response) == [
        {
            "date": "2026-10-08",
            "client": "Ben",
            "therapist": "Lucía Torres",
            "description": "Individual therapy session, 50 min",
            "amount": "PEN 150.00",
            "reason": "",
            "tax": "PEN 7.50 (5.00 %)",
            "total": "PEN 157.50",
        }
    ]
    assert (shown(response, "subtotal"), shown(response, "tax-total"), shown(response, "invoice-total")) == (
        "PEN 150.00",
        "PEN 7.50",
        "PEN 157.50",
    )
    assert "VN-4471" in text_of(body(response))
    viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.entity == "invoice"))
    assert [event.entity_id for event in viewed] == [ben.id]


def test_a_draft_is_edited_through_its_forms(admin_client, october):
    acme = drafted(october)["Acme EAP PEN"]
    dan, eva = acme.lines

    adjusted = admin_client.post(
        f"{LIST}adjust-line/?id={acme.id}&line={dan.id}",
        data={f"line-{dan.id}-amount": "100.00", f"line-{dan.id}-adjustment_reason": "Agreed EAP rate"},
        follow_redirects=True,
    )
    assert "The line's amount was changed." in flashed(adjusted)
    removed = admin_client.post(f"{LIST}remove-line/?id={acme.id}&line={eva.id}", follow_redirects=True)
    assert "The line was removed; its session is uninvoiced again." in flashed(removed)
    admin_client.post(f"{LIST}notes/?id={acme.id}", data={"notes": "PO 4471"})
    dated = admin_client.post(
        f"{LIST}invoice-date/?id={acme.id}", data={"invoice_date": "2026-11-02"}, follow_redirects=True
    )

    assert [(row["amount"], row["reason"]) for row in lines_shown(dated)] == [("PEN 100.00", "Agreed EAP rate")]
    assert shown(dated, "invoice-total") == "PEN 100.00"
    assert state_of(acme) == (
        InvoiceStatus.DRAFT,
        "PO 4471",
        dt.date(2026, 11, 2),
        [(Decimal("100.00"), "Agreed EAP rate", Decimal("0.00"))],
    )


@pytest.mark.parametrize(
    ("amount", "reason", "field", "message"),
    [
        ("abc", "Agreed rate", "amount", "Enter the amount as a number, 0 or more."),
        ("-5", "Agreed rate", "amount", "Enter the amount as a number, 0 or more."),
        ("10.001", "Agreed rate", "amount", "The amount has too many decimals or digits."),
        ("100.00", " ", "adjustment_reason", "Give the reason for changing the amount."),
    ],
)
def test_a_wrong_adjustment_is_refused_beside_its_field_and_nothing_changes(
    admin_client, october, amount, reason, field, message
):
    acme = drafted(october)["Acme EAP PEN"]
    dan = acme.lines[0]
    before = state_of(acme)

    response = admin_client.post(
        f"{LIST}adjust-line/?id={acme.id}&line={dan.id}",
        data={f"line-{dan.id}-amount": amount, f"line-{dan.id}-adjustment_reason": reason},
    )

    assert response.status_code == 200
    assert field_errors(response)[f"line-{dan.id}-{field}"] == [message]
    assert f'value="{amount}"' in body(response)  # what was typed comes back
    assert state_of(acme) == before


def test_a_wrong_invoice_date_is_refused_beside_the_field(admin_client, october):
    acme = drafted(october)["Acme EAP PEN"]
    before = state_of(acme)

    response = admin_client.post(f"{LIST}invoice-date/?id={acme.id}", data={"invoice_date": "31/02/2026"})

    assert field_errors(response)["invoice_date"] == ["Not a valid date value."]
    assert state_of(acme) == before


def test_an_issued_invoice_has_no_edit_forms_and_refuses_edits(admin_client, october):
    ben = drafted(october)["ICBC/Ben PEN"]
    admin_client.post(f"{LIST}action/", data={"action": "issue", "rowid": [str(ben.id)]})
    line = ben.lines[0]
    before = state_of(ben)

    page = admin_client.get(page_of(ben))

    for form in ("adjust-form", "remove-form", "notes-form", "invoice-date-form", 'id="issue"', 'id="discard"'):
        assert form not in body(page)
    assert 'id="void-form"' in body(page)
    edits = [
        (f"remove-line/?id={ben.id}&line={line.id}", {}),
        (f"adjust-line/?id={ben.id}&line={line.id}", {f"line-{line.id}-amount": "1.00"}),
        (f"notes/?id={ben.id}", {"notes": "changed"}),
        (f"invoice-date/?id={ben.id}", {"invoice_date": "2026-11-01"}),
    ]
    for path, data in edits:
        refused = admin_client.post(f"{LIST}{path}", data=data, follow_redirects=True)
        assert "Invoice ICBC-000001 is issued and can no longer change; void it instead." in flashed(refused), path
    discarded = admin_client.post(
        f"{LIST}action/", data={"action": "discard", "rowid": [str(ben.id)]}, follow_redirects=True
    )
    assert "Invoice ICBC-000001 is issued and can no longer change; void it instead." in flashed(discarded)
    assert state_of(ben) == before


def test_discard_draft_gives_the_sessions_back(admin_client, october):
    acme = drafted(october)["Acme EAP PEN"]

    response = admin_client.post(
        f"{LIST}action/", data={"action": "discard", "rowid": [str(acme.id)]}, follow_redirects=True
    )

    assert "1 draft discarded." in flashed(response)
    assert db.session.get(Invoice, acme.id) is None
    assert len(list_rows(response)) == 5


def test_void_needs_a_reason_and_then_shows_the_credit_note(admin_client, october):
    ben = drafted(october)["ICBC/Ben PEN"]
    admin_client.post(f"{LIST}action/", data={"action": "issue", "rowid": [str(ben.id)]})

    refused = admin_client.post(f"{LIST}void/?id={ben.id}", data={"void_reason": "  "})

    assert field_errors(refused)["void_reason"] == ["Give the reason for voiding the invoice."]
    assert db.session.scalar(select(func.count()).where(Invoice.kind == InvoiceKind.CREDIT_NOTE)) == 0
    voided = admin_client.post(
        f"{LIST}void/?id={ben.id}", data={"void_reason": "Wrong claim number"}, follow_redirects=True
    )
    assert "Invoice ICBC-000001 is void; credit note CN-000001 was issued." in flashed(voided)
    assert "Voided by credit note CN-000001" in text_of(body(voided))
    credit = db.session.scalars(select(Invoice).where(Invoice.kind == InvoiceKind.CREDIT_NOTE)).one()
    credit_page = admin_client.get(page_of(credit))
    assert "Credit note for invoice ICBC-000001" in text_of(body(credit_page))
    assert shown(credit_page, "invoice-total") == "-PEN 150.00"
    assert 'id="void-form"' not in body(credit_page)


def test_the_invoice_run_screen_makes_drafts_once(admin_client, october):
    page = admin_client.get("/admin/invoice-run/")
    assert 'value="2026-10-31"' in body(page)  # the last day of the previous month

    ran = admin_client.post(
        "/admin/invoice-run/", data={"through": "2026-10-31", "payer": str(october["icbc"].id)}, follow_redirects=True
    )

    assert run_result(ran) == "2 new drafts, 0 drafts extended, 2 charges invoiced."
    back = admin_client.get(run_link(ran, "job-run-back"))
    drafts_link = re.search(r'id="run-drafts" href="([^"]+)"', body(back)).group(1)
    listed = admin_client.get(drafts_link, follow_redirects=True)
    assert sorted(row["client"] for row in list_rows(listed)) == ["Ana", "Ben"]
    again = admin_client.post(
        "/admin/invoice-run/", data={"through": "2026-10-31", "payer": str(october["icbc"].id)}, follow_redirects=True
    )
    assert run_result(again) == "Nothing to invoice through 2026-10-31."
    assert db.session.scalar(select(func.count(Invoice.id))) == 2


def test_the_invoice_run_screen_refuses_a_missing_date(admin_client, october):
    response = admin_client.post("/admin/invoice-run/", data={"through": "", "payer": "all"})

    assert field_errors(response)["through"]
    assert db.session.scalar(select(func.count(Invoice.id))) == 0


def test_therapists_get_none_of_the_billing_screens(client, october):
    sign_in_therapist(client, make_therapist(full_name="Rosa Mendoza"))
    ana = drafted(october)["ICBC/Ana PEN"]

    for path in (LIST, page_of(ana), "/admin/invoice-run/", "/admin/billing/charges/"):
        assert client.get(path).status_code == 403, path
    refused = client.post(f"{LIST}action/", data={"action": "issue", "rowid": [str(ana.id)]})
    assert refused.status_code == 403
    assert db.session.get(Invoice, ana.id).status == InvoiceStatus.DRAFT


def test_the_list_is_searched_by_number_or_client_and_filtered(admin_client, october):
    drafts = drafted(october)
    admin_client.post(f"{LIST}action/", data={"action": "issue", "rowid": [str(drafts["ICBC/Ben PEN"].id)]})

    by_number = admin_client.get(LIST, query_string={"search": "ICBC-000001"})
    by_client = admin_client.get(LIST, query_string={"search": "carla"})
    listed = admin_client.get(LIST)
    groups = json.loads(html.unescape(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', body(listed)).group(1)))
    [issued_arg] = [f["arg"] for f in groups["Status"] if f["operation"] == "equals"]
    issued = admin_client.get(LIST, query_string={f"flt0_{issued_arg}": "ISSUED"})

    assert [(row["number"], row["client"]) for row in list_rows(by_number)] == [("ICBC-000001", "Ben")]
    assert sorted(row["currency"] for row in list_rows(by_client)) == ["PEN", "USD"]
    assert [row["number"] for row in list_rows(issued)] == ["ICBC-000001"]


def test_a_missing_invoice_is_said_so(admin_client, october):
    response = admin_client.get(f"{LIST}details/?id=999", follow_redirects=True)

    assert "Record does not exist." in flashed(response)


def test_the_list_and_the_invoice_page_show_what_is_paid_and_open(admin_client, october):
    """ICBC pays 100.00 of Ben's 150.00 invoice: the list and the page say 50.00 is open."""
    commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    ben = db.session.scalars(select(Invoice).where(Invoice.client_id == october["Ben"].id)).one()
    issuing.issue(db.session, [ben.id])
    payments.record_payer_payment(
        db.session,
        payer_id=october["icbc"].id,
        received_on=dt.date(2026, 11, 5),
        amount=Decimal("100.00"),
        currency="PEN",
        method=PaymentMethod.CHEQUE,
    )
    db.session.commit()

    rows = {row["client"]: (row["number"], row["paid"], row["open"]) for row in list_rows(admin_client.get(LIST))}
    page = admin_client.get(page_of(ben))

    assert rows == {"Ana": ("Draft", "PEN 0.00", "PEN 0.00"), "Ben": ("ICBC-000001", "PEN 100.00", "PEN 50.00")}
    assert shown(page, "ledger-open") == "PEN 50.00"
    assert shown(page, "ledger-status") == "Partly paid"
    assert 'id="move-form"' in body(page) and 'id="write-off-form"' in body(page)
