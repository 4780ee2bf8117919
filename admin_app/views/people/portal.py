"""The therapist portal: a therapist's own clients and appointments, nothing else.

Every query of these screens (list, count, details, edit, export and ajax lookups) goes
through one row filter; a record outside it answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from functools import partial

from flask import abort
from flask_admin.model.form import InlineFormAdmin
from flask_security import current_user

from admin_app.extensions import db
from admin_app.models import THERAPIST_ROLE, Appointment, Client, Participant
from admin_app.services.people import records as people
from admin_app.services.platform.labels import FIELDS
from admin_app.services.scheduling import rules
from admin_app.views.people.records import CLIENT_LOOKUP, RecordLoader
from admin_app.views.platform.base import PracticeModelView
from admin_app.views.platform.filters import MonthFilter
from admin_app.views.scheduling.appointments import APPOINTMENT_ROW_LOADS, participants_summary


def current_therapist_id() -> int:
    therapist = current_user.therapist if current_user.is_authenticated else None
    if therapist is None:
        abort(404)
    return therapist.id


class OwnClientsLoader(RecordLoader):
    """Ajax client lookup limited to the signed-in therapist's clients."""

    def get_query(self):
        return super().get_query().filter(people.client_visible_to_therapist(current_therapist_id()))


class TherapistScopedView(PracticeModelView):
    required_role = THERAPIST_ROLE
    can_create = False
    can_delete = False
    export_types = ["csv"]

    def is_accessible(self) -> bool:
        return super().is_accessible() and current_user.therapist is not None

    def scope(self, query):
        raise NotImplementedError

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        return self.scope(super().get_count_query())

    def get_one(self, id):
        record = super().get_one(id)
        if record is None:
            abort(404)
        return record


class MyClientsView(TherapistScopedView):
    prepare = staticmethod(people.prepare_client)
    column_list = ("client_number", "full_name", "national_id", "email", "phone", "preferred_language", "active")
    column_searchable_list = ("full_name", "client_number", "national_id", "email", "phone")
    column_filters = ("active",)
    column_default_sort = ("full_name", False)
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
    )
    form_columns = ("email", "phone", "preferred_language", "reminder_preference", "notes")

    def scope(self, query):
        return query.filter(people.client_visible_to_therapist(current_therapist_id()))


class MyAppointmentsView(TherapistScopedView):
    # The status is not on this form: it follows the attendance the therapist records.
    prepare = staticmethod(partial(rules.prepare_attendance, status_follows=True))
    column_list = ("starts_at", "ends_at", "participants", "kind", "modality", "room", "status")
    column_default_sort = ("starts_at", True)
    column_filters = (MonthFilter(Appointment.starts_at, FIELDS["month"]), "modality", "status")
    column_formatters = {"participants": participants_summary}
    column_formatters_export = {
        "participants": lambda _v, _c, a, _n: "; ".join(p.client.full_name for p in a.participants)
    }
    column_details_list = (*column_list, "video_link", "notes")
    column_formatters_detail = {"participants": participants_summary}
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
