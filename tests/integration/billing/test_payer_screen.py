"""Payer settings on the staff screen: every field saved; a wrong value named, nothing saved."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import InvoiceGrouping, Payer, PayerKind
from tests.pages import body, list_rows

FORM = {
    "name": "WorkSafeBC",
    "kind": "public",
    "billing_email": "Invoices@WorkSafeBC.example.com",
    "billing_address": "PO Box 5350, Vancouver BC",
    "provider_number": " V-12345 ",
    "payment_terms_days": "45",
    "invoice_grouping": "per_period",
    "counts_missed_sessions": "y",
    "refuses_over_approved": "y",
    "active": "y",
}


def test_staff_set_every_payer_setting(admin_client):
    response = admin_client.post("/admin/payer/new/?url=/admin/payer/", data=FORM, follow_redirects=True)

    payer = db.session.scalar(select(Payer))
    assert (payer.kind, payer.billing_email, payer.provider_number, payer.payment_terms_days) == (
        PayerKind.PUBLIC,
        "invoices@worksafebc.example.com",
        "V-12345",
        45,
    )
    assert payer.invoice_grouping == InvoiceGrouping.PER_PERIOD
    assert payer.counts_missed_sessions and payer.refuses_over_approved
    [row] = list_rows(response)
    assert row["provider_number"] == "V-12345"
    assert row["invoice_grouping"] == "One invoice per period"


def test_a_wrong_billing_email_or_terms_are_refused_by_name(admin_client):
    wrong_email = admin_client.post("/admin/payer/new/", data={**FORM, "billing_email": "not-an-email"})
    long_terms = admin_client.post("/admin/payer/new/", data={**FORM, "payment_terms_days": "400"})

    assert "Billing email: not-an-email is not a valid email address" in body(wrong_email)
    assert "Payment terms (days): from 0 to 365 days" in body(long_terms)
    assert db.session.scalar(select(Payer)) is None
