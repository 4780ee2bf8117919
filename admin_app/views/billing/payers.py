"""Payers and the clients' payment sources."""

from __future__ import annotations

from admin_app.views.people.records import client_loader
from admin_app.views.platform.base import PracticeModelView


class PayerView(PracticeModelView):
    column_list = ("name", "kind", "billing_email", "active")
    column_searchable_list = ("name", "billing_email")
    column_filters = ("kind", "active")
    form_columns = ("name", "kind", "billing_email", "billing_address", "active")


class PaymentSourceView(PracticeModelView):
    column_list = ("client", "payer", "member_number", "policy_number", "active")
    column_filters = ("active", "payer")
    column_searchable_list = ("client.full_name", "client.client_number", "client.national_id", "member_number")
    form_columns = ("client", "payer", "member_number", "policy_number", "active")
    form_ajax_refs = {"client": client_loader("client")}
