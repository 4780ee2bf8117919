"""The therapist portal's clients: a therapist's own clients, nothing else.

The list and every client lookup go through `client_visible_to_therapist` (see
`views.platform.portal` for the scoping every portal list shares).

Each row shows the client's line of the therapist's caseload (`services.people.caseload`: kind,
payment source, current authorization, colour and its reasons, last and next appointment with this
therapist), read for the whole page in the service's five statements (`rows_loaded`), so the portal
colours a client exactly as the staff's caseloads tab does. The details page has the office's notes
(read only), the client's authorizations and *Ask to activate* / *Ask to deactivate*
(`services.tasks.client_requests`).
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from markupsafe import Markup

from admin_app.extensions import db
from admin_app.models import Client, RequestAction
from admin_app.services.billing.authorizations import authorization_rows
from admin_app.services.people import records as people
from admin_app.services.people.caseload import CaseloadClient, Colour, therapist_clients
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import choice_label
from admin_app.services.tasks import client_requests
from admin_app.views.audit.reads import AuditedReads
from admin_app.views.billing.colours import authorizations_table, status_label
from admin_app.views.people.caseload import ROW_CLASSES, local_when, reason_badges
from admin_app.views.people.clinical_notes import ClinicalNotesInPortal
from admin_app.views.people.records import RecordLoader
from admin_app.views.platform.filters import LiveOptions
from admin_app.views.platform.formatting import NO_VALUE, medium_date
from admin_app.views.platform.portal import TherapistScopedView, current_therapist_id
from admin_app.views.reports.monthly import reader_language

COLOURS = {
    Colour.RED: _l("Red: needs action"),
    Colour.PINK: _l("Pink: extension requested"),
    Colour.NONE: _l("No colour"),
}


class OwnClientsLoader(RecordLoader):
    """Ajax client lookup limited to the signed-in therapist's clients."""

    def get_query(self):
        return super().get_query().filter(people.client_visible_to_therapist(current_therapist_id()))


def _line(client: Client) -> CaseloadClient | None:
    """The client's caseload line, read with its page (`MyClientsView.rows_loaded`)."""
    return g.get("caseload_lines", {}).get(client.id)


def _cell(read):
    """A list cell of the caseload line; an empty one for a client without a line."""

    def cell(_view, _context, client: Client, _name):
        line = _line(client)
        return "" if line is None else read(line)

    return cell


def _payment_source(line: CaseloadClient) -> str:
    return ", ".join([*line.payers, *([gettext("Self-pay")] if line.self_pay else [])])


def _remaining(line: CaseloadClient) -> str:
    a = line.authorization
    return (
        "" if a is None else gettext("%(remaining)s of %(approved)s", remaining=a.remaining, approved=a.counts.approved)
    )


def _authorization(read):
    return lambda line: "" if line.authorization is None else read(line.authorization)


CELLS = {
    "kind": lambda line: str(choice_label(line.kind)),
    "payment_source": _payment_source,
    "authorization": _authorization(lambda a: a.reference or NO_VALUE),
    "remaining": _remaining,
    "valid_until": _authorization(lambda a: medium_date(a.valid_until)),
    "authorization_status": _authorization(lambda a: status_label(a.status)),
    "last_appointment": lambda line: local_when(line.last_appointment, reader_language()),
    "next_appointment": lambda line: local_when(line.next_appointment, reader_language()),
}


class ColourFilter(BaseSQLAFilter):
    """The clients of one colour. The colour is no column: it is the caseload service's rule over all
    the therapist's clients (its five statements), and the list keeps those ids."""

    def __init__(self, name) -> None:
        super().__init__(
            Client.id,
            name,
            options=LiveOptions(lambda: [(colour.value, str(label)) for colour, label in COLOURS.items()]),
        )

    def validate(self, value) -> bool:
        return value in {colour.value for colour in Colour}

    def apply(self, query, value, alias=None):
        lines = therapist_clients(db.session, current_therapist_id())
        return query.filter(Client.id.in_(sorted(c for c, line in lines.items() if line.colour == value)))

    def operation(self):
        return _l("is")


def _authorizations(_view, _context, client: Client, _name) -> Markup:
    return authorizations_table(authorization_rows(db.session, client_id=client.id))


class MyClientsView(AuditedReads, ClinicalNotesInPortal, TherapistScopedView):
    prepare = staticmethod(people.prepare_client)
    list_template = "portal/my_clients.html"
    details_template = "portal/client_details.html"
    column_list = (
        "client_number",
        "full_name",
        "kind",
        "payment_source",
        "authorization",
        "remaining",
        "valid_until",
        "authorization_status",
        "attention",
        "last_appointment",
        "next_appointment",
        "national_id",
        "email",
        "phone",
        "preferred_language",
        "active",
    )
    column_searchable_list = ("full_name", "client_number", "national_id", "email", "phone")
    column_filters = ("active", ColourFilter(_l("Colour")))
    column_default_sort = ("full_name", False)
    column_formatters = {name: _cell(read) for name, read in CELLS.items()} | {"attention": _cell(reason_badges)}
    column_formatters_export = {name: _cell(read) for name, read in CELLS.items()} | {
        "attention": _cell(lambda line: reason_badges(line).striptags())
    }
    column_details_list = (
        "client_number",
        "full_name",
        "national_id",
        "email",
        "phone",
        "birth_date",
        "preferred_language",
        "reminder_preference",
        "active",
        "notes",
        "authorizations",
    )
    column_formatters_detail = {"authorizations": _authorizations}
    # The office's notes are the office's: shown on the details page, never edited here.
    form_columns = ("email", "phone", "preferred_language", "reminder_preference")

    def scope(self, query):
        return query.filter(people.client_visible_to_therapist(current_therapist_id()))

    def rows_loaded(self, session, records) -> None:
        g.caseload_lines = therapist_clients(session, current_therapist_id(), [client.id for client in records])

    def row_class(self, client: Client) -> str:
        line = _line(client)
        return "" if line is None else ROW_CLASSES.get(line.colour, "")

    @expose("/request/", methods=("POST",))
    def ask_view(self):
        """*Ask to activate* / *Ask to deactivate* (a POST with CSRF from the details page): the
        request for the office; a client not in my care is not found, as one that does not exist."""
        client = self.get_one(request.form.get("id", ""))
        try:
            action = RequestAction(request.form.get("action", ""))
        except ValueError:
            abort(400)
        therapist = current_user.therapist
        try:
            client_requests.ask(
                db.session, therapist=therapist, client=client, action=action, reason=request.form.get("reason", "")
            )
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(gettext("Your request was sent to the office; its answer will come as a notification."), "success")
        return redirect(url_for(".details_view", id=client.id))
