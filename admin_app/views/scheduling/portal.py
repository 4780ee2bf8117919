"""The therapist portal's appointments: a therapist's own, with the attendance they record.

Scoped like every portal list (`views.platform.portal`); the participants' client lookup offers
only the therapist's own clients, and a participant whose client is no longer in the therapist's
care shows by initials (the privacy hold), as on the portal home.
"""

from __future__ import annotations

from flask import g
from flask_admin.model.form import InlineFormAdmin
from markupsafe import Markup

from admin_app.extensions import db
from admin_app.models import Appointment, Client, Participant
from admin_app.services.people.records import clients_in_care_now
from admin_app.services.platform.labels import FIELDS, choice_label
from admin_app.services.scheduling import portal_day
from admin_app.views.people.portal import OwnClientsLoader
from admin_app.views.people.records import CLIENT_LOOKUP
from admin_app.views.platform.filters import MonthFilter
from admin_app.views.platform.portal import TherapistScopedView, current_therapist_id
from admin_app.views.scheduling.appointments import APPOINTMENT_ROW_LOADS


def _in_care() -> set[int]:
    """The clients in the signed-in therapist's care now, read once per request."""
    if "portal_in_care" not in g:
        g.portal_in_care = set(db.session.scalars(clients_in_care_now(current_therapist_id())))
    return g.portal_in_care


def _names(appointment: Appointment) -> list[tuple[str, Participant]]:
    return [(portal_day.shown_name(p.client.full_name, p.client_id in _in_care()), p) for p in appointment.participants]


def _participants(_view, _context, appointment: Appointment, _name) -> Markup:
    return Markup("<br>").join(
        Markup("{} · {}").format(name, choice_label(p.attendance)) for name, p in _names(appointment)
    )


class MyAppointmentsView(TherapistScopedView):
    # The status is not on this form: it follows the attendance the therapist records, once the
    # appointment has started.
    prepare = staticmethod(portal_day.prepare_my_appointment)
    column_list = ("starts_at", "ends_at", "participants", "kind", "modality", "room", "status")
    column_default_sort = ("starts_at", True)
    column_auto_select_related = False  # APPOINTMENT_ROW_LOADS loads the rows' room
    column_filters = (MonthFilter(Appointment.starts_at, FIELDS["month"]), "modality", "status")
    column_formatters = {"participants": _participants}
    column_formatters_export = {"participants": lambda _v, _c, a, _n: "; ".join(name for name, _p in _names(a))}
    column_details_list = (*column_list, "video_link", "notes")
    column_formatters_detail = {"participants": _participants}
    form_columns = ("video_link", "notes")
    inline_models = (
        InlineFormAdmin(
            Participant,
            form_columns=("id", "client", "attendance", "cancelled_by", "cancellation_reason"),
            form_ajax_refs={"client": OwnClientsLoader("participants-client", db, Client, **CLIENT_LOOKUP)},
        ),
    )

    def scope(self, query):
        return query.filter(Appointment.therapist_id == current_therapist_id())

    def get_query(self):
        return super().get_query().options(*APPOINTMENT_ROW_LOADS)
