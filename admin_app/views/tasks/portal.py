"""The therapist portal's requests: what the therapist asked the office about their clients (*Ask to
activate* / *Ask to deactivate*, from a client's page in *My clients*), and the office's answer.

Read only, scoped like every portal list (`views.platform.portal`): another therapist's request
answers 404, as one that does not exist, and is in no export. A request about a client no longer in
the therapist's care does not name the client (the privacy hold); the names of a page are read in
one statement (`rows_loaded`).
"""

from __future__ import annotations

from flask import g

from admin_app.extensions import db
from admin_app.models import ClientRequest
from admin_app.services.platform.labels import FIELDS
from admin_app.services.tasks import client_requests
from admin_app.views.platform.portal import TherapistScopedView, current_therapist_id

COLUMNS = ("created_at", "client", "action", "reason", "status", "answered_at", "answer_note")


def _client(_view, _context, request: ClientRequest, _name) -> str:
    names = g.setdefault("request_client_names", {})
    if request.client_id not in names:  # a details page: read for this request alone
        names.update(client_requests.client_names(db.session, current_therapist_id(), [request.client_id]))
    return names.get(request.client_id) or f"#{request.client_id}"


class MyRequestsView(TherapistScopedView):
    can_edit = False
    column_list = COLUMNS
    column_details_list = COLUMNS
    column_labels = {**FIELDS, "created_at": FIELDS["asked_on"]}
    column_default_sort = ("created_at", True)
    column_filters = ("status", "action")
    column_formatters = column_formatters_detail = column_formatters_export = {"client": _client}

    def scope(self, query):
        return query.filter(ClientRequest.therapist_id == current_therapist_id())

    def rows_loaded(self, session, records) -> None:
        g.request_client_names = client_requests.client_names(
            session, current_therapist_id(), {request.client_id for request in records}
        )
