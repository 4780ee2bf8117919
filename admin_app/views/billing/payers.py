"""Payers (with their billing settings) and the clients' payment sources."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from admin_app.services.billing.payers import prepare_payer
from admin_app.views.people.records import client_loader
from admin_app.views.platform.base import PracticeModelView


class PayerView(PracticeModelView):
    prepare = staticmethod(prepare_payer)
    column_list = (
        "name",
        "kind",
        "billing_email",
        "provider_number",
        "payment_terms_days",
        "invoice_grouping",
        "counts_missed_sessions",
        "refuses_over_approved",
        "active",
    )
    column_searchable_list = ("name", "billing_email", "provider_number")
    column_filters = ("kind", "invoice_grouping", "counts_missed_sessions", "refuses_over_approved", "active")
    form_columns = (
        "name",
        "kind",
        "billing_email",
        "billing_address",
        "provider_number",
        "payment_terms_days",
        "invoice_grouping",
        "counts_missed_sessions",
        "refuses_over_approved",
        "active",
    )
    form_args = {
        "provider_number": {"description": _l("The vendor or provider number the practice holds with this payer")},
        "payment_terms_days": {"description": _l("Days the payer has to pay an invoice")},
        "counts_missed_sessions": {"description": _l("Unticked: a no-show or late cancellation uses no session")},
        "refuses_over_approved": {"description": _l("Unticked: such a booking is saved with a warning")},
    }


class PaymentSourceView(PracticeModelView):
    column_list = ("client", "payer", "member_number", "policy_number", "active")
    column_filters = ("active", "payer")
    column_searchable_list = ("client.full_name", "client.client_number", "client.national_id", "member_number")
    form_columns = ("client", "payer", "member_number", "policy_number", "active")
    form_ajax_refs = {"client": client_loader("client")}
