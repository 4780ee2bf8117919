"""Appointment and participant screens for the practice staff."""

from __future__ import annotations

import datetime as dt

from flask import current_app, flash, request
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import Boolean, Numeric, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from admin_app.extensions import db
from admin_app.models import Appointment, Authorization, Participant, Room
from admin_app.services.audit import trail as audit
from admin_app.services.billing import booking as billing_booking
from admin_app.services.people import records as people
from admin_app.services.people.choices import therapist_filter_choices
from admin_app.services.platform import bounds
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.labels import FIELDS, choice_label, field_label
from admin_app.services.platform.money import format_money
from admin_app.services.rooms import booking as rooms_booking
from admin_app.services.rooms.choices import booking_rooms
from admin_app.services.scheduling import booking, rules
from admin_app.views.people.records import client_loader, therapist_loader
from admin_app.views.platform.base import PracticeModelView, id_arg, instant_arg, local_path
from admin_app.views.platform.filters import LiveOptions, MonthFilter, ParticipantClientFilter
from admin_app.views.platform.formatting import LOCAL_FORMAT, money_column
from admin_app.views.platform.rules import commit_or_flash, flash_warnings
from admin_app.views.rooms.booking import booking_span, room_lookup_args
from admin_app.views.scheduling.series import SeriesRowAction


def therapist_options():
    """The therapist filter's options (text ids, as a list filter compares them)."""
    return [(str(id_), name) for id_, name in therapist_filter_choices(db.session)]


def participants_summary(_view, _context, appointment: Appointment, _name) -> Markup:
    return Markup(
        "<br>".join(
            f"{escape(p.client.full_name)} · {escape(choice_label(p.attendance))}" for p in appointment.participants
        )
    )


def participants_with_fees(_view, _context, appointment: Appointment, _name) -> Markup:
    return Markup(
        "<br>".join(
            " · ".join(
                escape(part)
                for part in (p.client.full_name, choice_label(p.attendance), format_money(p.fee, p.currency))
            )
            for p in appointment.participants
        )
    )


def appointment_history(_view, _context, appointment: Appointment, _name) -> Markup:
    """Who changed what and when (field names only, as the audit trail keeps them): the newest changes,
    the older ones left to the audit trail."""
    history = audit.appointment_history(db.session, appointment=appointment)
    lines = [
        f"{escape(to_local(e.occurred_at).strftime(LOCAL_FORMAT))} · {escape(e.actor)} · "
        f"{escape(choice_label(e.action))} · {escape(field_label(e.entity))}"
        + (f" ({escape(', '.join(str(field_label(f)) for f in e.changed_fields))})" if e.changed_fields else "")
        for e in history.events
    ]
    if history.older:
        older = gettext("Older changes are in the audit trail.")
        lines.append(Markup("<i>{}</i>").format(older))
    return Markup("<br>".join(lines))


# What a row of an appointment list shows (the room's name includes its site's), loaded with the rows:
# not one query per row, on a page of 50 nor in an export of 12,000. Each by a query of its own for the
# page's rows: joined to the list's query, PostgreSQL joins every row a deep page skips (page 1000 of
# the appointments: 373 ms, against 45 ms for the offset alone).
APPOINTMENT_ROW_LOADS = (
    selectinload(Appointment.therapist),
    selectinload(Appointment.room).joinedload(Room.site),
    selectinload(Appointment.participants).joinedload(Participant.client),
)


def authorization_label(authorization: Authorization) -> str:
    return f"{authorization} ({authorization.valid_from.isoformat()} – {authorization.valid_until.isoformat()})"


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
    prepare = staticmethod(rules.prepare_attendance)
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
    column_auto_select_related = False  # APPOINTMENT_ROW_LOADS loads the rows' therapist and room
    column_filters = appointment_filters()
    column_formatters = {"participants": participants_summary}
    column_formatters_export = {
        "participants": lambda _v, _c, a, _n: "; ".join(p.client.full_name for p in a.participants)
    }
    column_details_list = (*column_list, "video_link", "notes", "created_at", "history")
    column_formatters_detail = {"participants": participants_with_fees, "history": appointment_history}
    form_columns = (
        "therapist",
        "starts_at",
        "duration_minutes",
        "ends_at",
        "kind",
        "modality",
        "room",
        "status",
        "video_link",
        "notes",
    )
    form_extra_fields = {
        "duration_minutes": IntegerField(
            _l("Duration (minutes)"), validators=[Optional(), NumberRange(5, bounds.MAX_APPOINTMENT_MINUTES)]
        )
    }
    # The column is NOT NULL, so Flask-Admin would require it; empty means start + duration.
    form_args = {
        "ends_at": {"description": _l("Empty: the start plus the duration"), "validators": [Optional()]},
        "room": {"blank_text": "—"},
    }
    create_template = "admin/appointment_create.html"
    edit_template = "admin/appointment_edit.html"
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
            form_args={
                "payer": {"blank_text": "—"},
                "fee": {
                    "validators": [Optional()],
                    "description": _l("Empty: the therapist's fee, split between the clients of a new appointment"),
                },
            },
            # The fee column is NOT NULL, so Flask-Admin would require it; the service fills an empty one.
            form_optional_types=(Boolean, Numeric),
        ),
    )

    @action(
        "mark_attended",
        _l("Mark attended"),
        _l("Mark every participant still expected in the selected appointments as attended?"),
    )
    def action_mark_attended(self, ids):
        """The day's list, filtered and all selected: everyone still expected came."""
        with commit_or_flash() as outcome:
            marked = rules.mark_attended(db.session, appointment_ids=ids)
        if outcome.refusal:
            return
        flash(
            ngettext("%(num)d participant marked attended.", "%(num)d participants marked attended.", marked),
            "success",
        )

    def _offer_rooms(self, form, selected: int | None = None) -> None:
        """The room select in the booking's order: the rooms the therapist has reserved at the
        form's time first (marked so), then the other active rooms by site (room-choices.js
        keeps it so as the therapist or the time change)."""
        therapist = form.therapist.data
        start, end = booking_span(form.starts_at.data, form.ends_at.data, form.duration_minutes.data)
        options = booking_rooms(
            db.session,
            therapist_id=getattr(therapist, "id", None),
            start=to_local(start) if start else None,
            end=to_local(end) if end else None,
            selected=selected,
        )
        rooms = {room.id: room for room in db.session.scalars(select(Room).where(Room.id.in_([o.id for o in options])))}
        labels = {option.id: option.label for option in options}
        form.room.query_factory = lambda: [rooms[option.id] for option in options]
        form.room.get_label = lambda room: labels.get(room.id, str(room))
        form.room._object_list = None
        form.room.render_kw = {
            **(form.room.render_kw or {}),
            **room_lookup_args(
                therapist="#therapist",
                start="#starts_at",
                end="#ends_at",
                duration="#duration_minutes",
                modality="#modality",
            ),
        }

    def create_form(self, obj=None):
        """A new appointment starts with the default duration; from a client's page (`?client=ID`),
        with that client, their therapist, and the therapist's fee and currency; from an empty slot
        of the book (`?therapist=ID&starts_at=YYYY-MM-DDTHH:MM`), with that therapist and start."""
        form = super().create_form(obj)
        if request.method != "GET":
            self._offer_rooms(form)
            return form
        form.duration_minutes.data = current_app.config["DEFAULT_APPOINTMENT_MINUTES"]
        therapist = booking.bookable_therapist(db.session, id_arg("therapist"))
        client_id = id_arg("client")
        defaults = (
            booking.booking_defaults(db.session, client_id=client_id, therapist_id=getattr(therapist, "id", None))
            if client_id
            else None
        )
        form.therapist.data = therapist or getattr(defaults, "therapist", None)
        form.starts_at.data = instant_arg("starts_at")
        if defaults is not None:
            participant = form.participants.append_entry().form
            participant.client.data = defaults.client
            participant.fee.data = defaults.fee
            participant.currency.data = defaults.currency
            # Filled in, not typed: the form's script may replace it with the client's share
            # once a partner or relative joins (appointment-form.js).
            if defaults.fee is not None:
                participant.fee.render_kw = {**(participant.fee.render_kw or {}), "data-auto": f"{defaults.fee:.2f}"}
        self._offer_rooms(form)
        return form

    def blank_participant(self, form, prefix: str = ""):
        """A participant's fields, empty, for the form's template: with no `prefix`, the row the
        form's script copies for each further participant (Flask-Admin's inline template); with
        `participants-0`, the first participant of a form posted without one."""
        field = form.participants
        row = field.unbound_field.bind(form=None, name=prefix, _meta=field.meta)
        if not prefix:
            row.separator = ""
        row.process(None)
        return row

    def get_save_return_url(self, model, is_created=False) -> str:
        """Back where the form was opened from (`url`: the book's day, a client's page), when it is
        a path of this site; Flask-Admin would follow any address on this host."""
        return local_path(request.values.get("url")) or self.get_url(".index_view")

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if request.method == "GET" and obj is not None:
            form.duration_minutes.data = int((obj.ends_at - obj.starts_at).total_seconds() // 60)
        self._offer_rooms(form, selected=getattr(obj, "room_id", None))
        return form

    def on_model_change(self, form, model, is_created) -> None:
        """A duration typed without an end time sets the end; the rules then run as usual."""
        end_typed = form.ends_at.data is not None and form.ends_at.data != form.ends_at.object_data
        if form.duration_minutes.data and model.starts_at and not end_typed:
            model.ends_at = model.starts_at + dt.timedelta(minutes=form.duration_minutes.data)
        super().on_model_change(form, model, is_created)

    def after_model_change(self, form, model, is_created) -> None:
        """Saved: what it leaves beyond an authorization's approved sessions, and a room another
        therapist has reserved then, are warnings."""
        flash_warnings(billing_booking.booking_warnings(db.session, [model.id]))
        flash_warnings(rooms_booking.reserved_by_others(db.session, [model.id]))

    def get_query(self):
        return super().get_query().options(*APPOINTMENT_ROW_LOADS)


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
        "authorization",
    )
    column_labels = {
        **PracticeModelView.column_labels,
        "appointment.starts_at": FIELDS["starts_at"],
        "appointment.therapist": FIELDS["therapist"],
    }
    column_filters = ("attendance", "currency", "billed_to")
    column_searchable_list = ("client.full_name", "client.client_number", "client.national_id")
    column_sortable_list = ("attendance", "fee", "currency")
    column_formatters = {"fee": money_column("currency")}
    column_formatters_export = {}  # the plain number, beside its currency column
    column_default_sort = ("id", True)
    form_columns = (
        "attendance",
        "cancelled_by",
        "cancellation_reason",
        "fee",
        "currency",
        "billed_to",
        "payer",
        "authorization",
    )
    form_args = {
        "authorization": {
            "blank_text": _l("Automatic"),
            "description": _l(
                "Automatic: the earliest-ending authorization of this client from this payer that covers the "
                "date and has a session left. Choose one to keep it."
            ),
            "get_label": authorization_label,
        }
    }
    prepare = staticmethod(rules.prepare_participant_attendance)

    def edit_form(self, obj=None):
        """The authorization select offers the client's authorizations from the payer billed; it
        shows a staff choice only ("Automatic" while the rule picks)."""
        form = super().edit_form(obj)
        if obj is not None:
            choices = billing_booking.authorization_choices(db.session, obj)
            form.authorization.query_factory = lambda: choices
            if request.method == "GET" and not obj.authorization_chosen:
                form.authorization.data = None
        return form

    def on_model_change(self, form, model, is_created) -> None:
        billing_booking.choose_authorization(model, form.authorization.data)
        super().on_model_change(form, model, is_created)

    def after_model_change(self, form, model, is_created) -> None:
        flash_warnings(billing_booking.participant_warnings(db.session, model))

    def get_query(self):
        return (
            super()
            .get_query()
            .options(
                joinedload(Participant.client),
                joinedload(Participant.appointment).joinedload(Appointment.therapist),
                joinedload(Participant.payer),
                joinedload(Participant.authorization).joinedload(Authorization.payer),
            )
        )
