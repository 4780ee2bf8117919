"""Recurring series for the practice staff: plan, preview the dates, create; cancel or move from one on.

The screens only read forms and show results: every rule (dates, daylight saving, conflicts,
all-or-nothing) is in `services.series`.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.form import BaseForm
from flask_admin.model.fields import AjaxSelectMultipleField
from flask_admin.model.template import EndpointLinkRowAction
from flask_babel import LazyString, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload
from wtforms import DateField, DecimalField, Field, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import TextInput

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    CancelledBy,
    Modality,
    Participant,
)
from admin_app.services.billing import booking as billing_booking
from admin_app.services.people.choices import therapist_choices
from admin_app.services.platform import races
from admin_app.services.platform.bounds import record_id
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import FIELDS, choice_label, choices_for
from admin_app.services.rooms import booking as rooms_booking
from admin_app.services.rooms.choices import booking_rooms
from admin_app.services.scheduling import series as series_service
from admin_app.views.people.records import client_loader
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.formatting import LOCAL_FORMAT, typed_format, typed_wall_time, wall_time
from admin_app.views.platform.rules import commit_or_flash, flash_warnings, show_rule
from admin_app.views.platform.search import lookup_response
from admin_app.views.rooms.booking import booking_span, room_lookup_args

CLIENT_LOADER = client_loader("clients")
# A rule names the field at fault; the form's name for it when it differs.
FORM_FIELDS = {"client": "clients", "therapist": "therapist_id", "room": "room_id"}


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class ClientsField(AjaxSelectMultipleField):
    """Clients picked through the lookup; empty is "nothing chosen", not an invalid choice."""

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        chosen = {value.strip() for value in self._formdata if value.strip()}
        # A key that is not a number is no client (and must not reach PostgreSQL as one).
        self._invalid_formdata = any(not value.isdigit() for value in chosen)
        self._formdata = {value for value in chosen if value.isdigit()}


class LocalWallTimeField(Field):
    """A naive clinic wall time, typed in the reader's format as the appointment form's start is
    (`typed_format`): the service turns each occurrence into UTC on its own date."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs["description"] = kwargs.get("description") or LazyString(lambda: str(typed_format().hint))
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime(typed_format().pattern) if self.data else ""

    def process_formdata(self, valuelist) -> None:
        self.data = None  # stays empty when the text is refused
        self.data = typed_wall_time(valuelist)


class SeriesForm(BaseForm):
    therapist_id = SelectField(FIELDS["therapist"], coerce=_optional_int, validators=[InputRequired()])
    clients = ClientsField(CLIENT_LOADER, FIELDS["clients"], validators=[InputRequired()])
    first_start = LocalWallTimeField(_l("First date and time"), validators=[InputRequired()])
    duration_minutes = IntegerField(
        _l("Duration (minutes)"),
        validators=[InputRequired(), NumberRange(min=1, max=series_service.MAX_DURATION_MINUTES)],
    )
    interval_weeks = SelectField(_l("Repeats"), coerce=int, choices=[])
    occurrences = IntegerField(
        _l("Number of times"),
        validators=[Optional()],
        description=_l("Fill in the number of times or the last date, not both."),
    )
    until = DateField(_l("Until (last date)"), validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD"})
    modality = SelectField(FIELDS["modality"], choices=[])
    room_id = SelectField(FIELDS["room"], coerce=_optional_int, choices=[], validators=[Optional()])
    kind = SelectField(FIELDS["kind"], choices=[])
    fee = DecimalField(
        FIELDS["fee"],
        places=2,
        validators=[Optional()],
        description=_l("Empty: the therapist's fee, split between the clients of a new appointment"),
    )
    currency = SelectField(FIELDS["currency"], choices=[], description=_l("Empty: the therapist's default"))


def _series_form(formdata=None) -> SeriesForm:
    form = SeriesForm(formdata)
    if formdata is None:
        form.duration_minutes.data = current_app.config["DEFAULT_APPOINTMENT_MINUTES"]
        form.kind.data = AppointmentKind.INDIVIDUAL.value
    form.therapist_id.choices = [("", "—"), *therapist_choices(db.session, selected=form.therapist_id.data)]
    form.room_id.choices = [("", "—"), *_room_choices(form)]
    form.room_id.render_kw = room_lookup_args(
        therapist="#therapist_id", start="#first_start", duration="#duration_minutes", modality="#modality"
    )
    form.interval_weeks.choices = [(1, _l("Every week")), (2, _l("Every two weeks"))]
    form.modality.choices = choices_for(Modality)
    form.kind.choices = choices_for(AppointmentKind)
    form.currency.choices = [("", "—")] + [(code, code) for code in current_app.config["CURRENCIES"]]
    return form


def _room_choices(form: SeriesForm) -> list[tuple[int, str]]:
    """The rooms in the booking's order for the first date: the therapist's reserved rooms then
    first (a weekly series keeps its weekday and hours), then the others by site."""
    start, end = booking_span(form.first_start.data, minutes=form.duration_minutes.data)
    options = booking_rooms(
        db.session, therapist_id=form.therapist_id.data, start=start, end=end, selected=form.room_id.data
    )
    return [(option.id, option.label) for option in options]


def _plan(form: SeriesForm) -> series_service.SeriesPlan:
    return series_service.plan_series(
        db.session,
        therapist_id=form.therapist_id.data,
        client_ids=[client.id for client in form.clients.data or ()],
        first_start_local=form.first_start.data,
        duration_minutes=form.duration_minutes.data,
        interval_weeks=form.interval_weeks.data,
        occurrences=form.occurrences.data,
        until=form.until.data,
        room_id=form.room_id.data,
        modality=Modality(form.modality.data),
        kind=AppointmentKind(form.kind.data),
        fee=form.fee.data,
        currency=form.currency.data or None,
    )


class SeriesRowAction(EndpointLinkRowAction):
    """A link from an appointment of a series to the series (cancel or move from there on)."""

    def __init__(self) -> None:
        super().__init__("fa fa-repeat", "series.occurrence", title=_l("Series"))

    def render(self, context, row_id, row):
        if getattr(row, "series_id", None) is None:
            return ""
        return super().render(context, row_id, row)


class SeriesView(RoleRequired, BaseView):
    """New series: form → preview of every date and its clashes → create (or skip, or cancel)."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "GET":
            return self._form_page(_series_form())
        form = _series_form(request.form)
        if not form.validate():
            return self._form_page(form)
        return self._plan_page(form)

    @expose("/create/", methods=("POST",))
    def create(self):
        form = _series_form(request.form)
        decision = request.form.get("decision")
        if decision == "cancel":
            flash(_l("Nothing was created."), "info")
            return self._form_page(form)
        if not form.validate():
            return self._form_page(form)
        try:
            with commit_or_flash() as outcome:
                plan = _plan(form)
                created = series_service.create_series(db.session, plan=plan, skip_conflicting=decision == "skip")
                created_ids = [appointment.id for appointment in created.appointments]
        except DBAPIError as error:
            # Booked by someone else between the check and the write (the database's overlap guard).
            db.session.rollback()
            if (refusal := races.refusal(error, otherwise=races.TAKEN_MEANWHILE)) is None:
                raise
            flash(str(refusal), "error")
            return self._plan_page(form)
        if outcome.refusal:
            return self._plan_page(form)
        count = len(created_ids)
        flash(
            ngettext("Series created: %(num)d appointment.", "Series created: %(num)d appointments.", count),
            "success",
        )
        flash_warnings(billing_booking.booking_warnings(db.session, created_ids))
        flash_warnings(rooms_booking.reserved_by_others(db.session, created_ids))
        return redirect(url_for(".occurrence", id=created_ids[0]))

    @expose("/occurrence/")
    def occurrence(self):
        appointment = self._appointment(request.args.get("id", ""))
        if appointment is None:
            return self._not_found()
        return self.render(
            "admin/series_occurrence.html",
            appointment=appointment,
            series=appointment.series,
            appointments=db.session.scalars(
                select(Appointment)
                .where(Appointment.series_id == appointment.series_id)
                .order_by(Appointment.starts_at)
                .options(selectinload(Appointment.participants).joinedload(Participant.client))
            ).all(),
            cancelled_by_choices=choices_for(CancelledBy),
            start_value=to_local(appointment.starts_at).strftime(LOCAL_FORMAT),
            to_local=to_local,
            choice_label=choice_label,
        )

    @expose("/occurrence/cancel/", methods=("POST",))
    def cancel(self):
        appointment = self._appointment(request.form.get("id", ""))
        if appointment is None:
            return self._not_found()
        back = redirect(url_for(".occurrence", id=appointment.id))
        who = request.form.get("cancelled_by") or None
        with commit_or_flash() as outcome:
            count = series_service.cancel_occurrences(
                db.session,
                appointment=appointment,
                and_following=request.form.get("scope") == "following",
                cancelled_by=CancelledBy(who) if who in set(CancelledBy) else None,
                reason=request.form.get("reason"),
            )
        if outcome.refusal:
            return back
        if count:
            flash(ngettext("%(num)d appointment cancelled.", "%(num)d appointments cancelled.", count), "success")
        else:
            flash(_l("Nothing was changed: past, held and cancelled appointments are left as they are."), "info")
        return back

    @expose("/occurrence/move/", methods=("POST",))
    def move(self):
        appointment = self._appointment(request.form.get("id", ""))
        if appointment is None:
            return self._not_found()
        back = redirect(url_for(".occurrence", id=appointment.id))
        new_start = wall_time(request.form.get("new_start", ""))
        scope = request.form.get("scope")
        if new_start is None:
            flash(_l("Expected a date and time as YYYY-MM-DD HH:MM"), "error")
            return back
        try:
            with commit_or_flash() as outcome:
                count = series_service.move_occurrences(
                    db.session,
                    appointment=appointment,
                    new_start_local=new_start,
                    and_following=scope == "following",
                )
        except DBAPIError as error:
            db.session.rollback()
            if (refusal := races.refusal(error)) is None:
                raise
            flash(str(refusal), "error")
            return back
        if outcome.refusal:
            return back
        if count:
            flash(ngettext("%(num)d appointment moved.", "%(num)d appointments moved.", count), "success")
            moved = series_service.occurrences_from(db.session, appointment, scope == "following")
            flash_warnings(billing_booking.booking_warnings(db.session, [a.id for a in moved]))
        else:
            flash(_l("Nothing was changed: past, held and cancelled appointments are left as they are."), "info")
        return back

    @expose("/ajax/lookup/", methods=("POST",))
    def ajax_lookup(self):
        return lookup_response(CLIENT_LOADER)

    # --- pages ---------------------------------------------------------------------------

    def _form_page(self, form: SeriesForm):
        return self.render("admin/series_form.html", form=form)

    def _preview_page(self, plan: series_service.SeriesPlan):
        hidden = [
            (name, value) for name, value in request.form.items(multi=True) if name not in ("csrf_token", "decision")
        ]
        clear = plan.clear_items
        outlooks = billing_booking.series_outlooks(
            db.session, client_ids=plan.client_ids, starts=[item.starts_at for item in clear]
        )
        return self.render(
            "admin/series_preview.html",
            plan=plan,
            hidden=hidden,
            authorizations={item.local_start: previews for item, previews in zip(clear, outlooks, strict=True)},
        )

    def _plan_page(self, form: SeriesForm):
        """The preview of the dates as they stand now (also after a refused creation)."""
        try:
            plan = _plan(form)
        except RuleViolation as error:
            db.session.rollback()  # a plan writes nothing: end its read transaction
            show_rule(error, form, FORM_FIELDS)
            return self._form_page(form)
        return self._preview_page(plan)

    @staticmethod
    def _appointment(raw_id: str) -> Appointment | None:
        """An appointment of a series by the id the page was given; None for anything else."""
        key = record_id(raw_id)
        appointment = db.session.get(Appointment, key) if key is not None else None
        return appointment if appointment is not None and appointment.series_id is not None else None

    @staticmethod
    def _not_found():
        flash(_l("That appointment is not part of a series."), "error")
        return redirect(url_for("appointment.index_view"))
