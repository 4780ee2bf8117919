"""Appointment and participant screens for the practice staff."""

from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_admin.model.form import InlineFormAdmin
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.validators import Optional

from admin_app.extensions import db
from admin_app.models import Appointment, Participant, Therapist
from admin_app.services import attendance, people
from admin_app.services.errors import RuleViolation
from admin_app.services.labels import FIELDS, choice_label
from admin_app.views.base import PracticeModelView
from admin_app.views.filters import LiveOptions, MonthFilter, ParticipantClientFilter
from admin_app.views.people import client_loader, therapist_loader
from admin_app.views.series import SeriesRowAction


def therapist_options():
    rows = db.session.execute(select(Therapist.id, Therapist.full_name).order_by(Therapist.full_name))
    return [(str(row.id), row.full_name) for row in rows]


def participants_summary(_view, _context, appointment: Appointment, _name) -> Markup:
    return Markup(
        "<br>".join(
            f"{escape(p.client.full_name)} · {escape(choice_label(p.attendance))}" for p in appointment.participants
        )
    )


def appointment_filters():
    return (
        MonthFilter(Appointment.starts_at, FIELDS["month"]),
        # An integer filter: PostgreSQL will not compare the id column with the URL's text.
        IntEqualFilter(Appointment.therapist_id, FIELDS["therapist"], options=LiveOptions(therapist_options)),
        ParticipantClientFilter(Appointment.id, FIELDS["client"]),
        "modality",
        "status",
        "kind",
        "starts_at",
    )


class AppointmentView(PracticeModelView):
    prepare = staticmethod(attendance.prepare_attendance)
    ensure_deletable = staticmethod(people.ensure_appointment_deletable)
    # An occurrence of a series links to the series: cancel or move it, or it and the following.
    column_extra_row_actions = [SeriesRowAction()]

    column_list = (
        "starts_at",
        "ends_at",
        "therapist",
        "participants",
        "kind",
        "modality",
        "room",
        "status",
    )
    column_default_sort = ("starts_at", True)
    column_filters = appointment_filters()
    column_formatters = {"participants": participants_summary}
    column_formatters_export = {
        "participants": lambda _v, _c, a, _n: "; ".join(p.client.full_name for p in a.participants)
    }
    column_details_list = (*column_list, "video_link", "notes", "created_at")
    column_formatters_detail = {"participants": participants_summary}
    form_columns = (
        "therapist",
        "starts_at",
        "ends_at",
        "kind",
        "modality",
        "room",
        "status",
        "video_link",
        "notes",
    )
    # The column is NOT NULL, so Flask-Admin would require it; empty means the default duration.
    form_args = {"ends_at": {"description": _l("Empty: the default duration"), "validators": [Optional()]}}
    form_widget_args = {"ends_at": {"required": False}}
    form_ajax_refs = {"therapist": therapist_loader("therapist")}
    inline_models = (
        InlineFormAdmin(
            Participant,
            form_columns=(
                "id",
                "client",
                "attendance",
                "cancelled_by",
                "cancellation_reason",
                "fee",
                "currency",
                "billed_to",
                "payer",
            ),
            form_ajax_refs={"client": client_loader("participants-client")},
        ),
    )

    @action(
        "mark_attended",
        _l("Mark attended"),
        _l("Mark every participant still expected in the selected appointments as attended?"),
    )
    def action_mark_attended(self, ids):
        """The day's list, filtered and all selected: everyone still expected came."""
        try:
            marked = attendance.mark_attended(db.session, appointment_ids=ids)
            db.session.commit()
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
            return
        flash(
            ngettext("%(num)d participant marked attended.", "%(num)d participants marked attended.", marked),
            "success",
        )

    def get_query(self):
        return (
            super()
            .get_query()
            .options(
                joinedload(Appointment.therapist),
                selectinload(Appointment.participants).joinedload(Participant.client),
            )
        )


class ParticipantView(PracticeModelView):
    """Charges one by one; participants are added from their appointment's form."""

    can_create = False
    column_list = (
        "appointment.starts_at",
        "client",
        "appointment.therapist",
        "attendance",
        "fee",
        "currency",
        "billed_to",
        "payer",
    )
    column_labels = {
        **PracticeModelView.column_labels,
        "appointment.starts_at": FIELDS["starts_at"],
        "appointment.therapist": FIELDS["therapist"],
    }
    column_filters = ("attendance", "currency", "billed_to")
    column_searchable_list = ("client.full_name", "client.national_id")
    column_sortable_list = ("attendance", "fee", "currency")
    column_default_sort = ("id", True)
    form_columns = ("attendance", "cancelled_by", "cancellation_reason", "fee", "currency", "billed_to", "payer")

    def on_model_change(self, form, model, is_created) -> None:
        self._run_rule(attendance.prepare_participant_attendance, model)

    def get_query(self):
        return (
            super()
            .get_query()
            .options(
                joinedload(Participant.client),
                joinedload(Participant.appointment).joinedload(Appointment.therapist),
                joinedload(Participant.payer),
            )
        )
