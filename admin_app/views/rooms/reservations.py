"""Room reservations: the staff list and form (the rule is `services.rooms.reservations`), and the
office's Release (end a reservation early or shorten its hours)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_admin.form import BaseForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import DateField, SelectField, TimeField
from wtforms.validators import Optional

from admin_app.extensions import db
from admin_app.models import Room, RoomReservation
from admin_app.services.people.choices import therapist_filter_choices
from admin_app.services.platform.labels import FIELDS, field_label
from admin_app.services.rooms import reservations
from admin_app.services.rooms.choices import room_filter_choices, site_filter_choices
from admin_app.views.people.records import therapist_loader
from admin_app.views.platform.base import PracticeModelView, local_path
from admin_app.views.platform.filters import LiveOptions
from admin_app.views.platform.rules import commit_or_roll_back, show_rule
from admin_app.views.rooms.lookup import RoomLoader


def _weekday(_view, _context, reservation: RoomReservation, _name) -> str:
    return reservations.weekday_name(reservation.weekday)


def _hours(_view, _context, reservation: RoomReservation, _name) -> str:
    return f"{reservation.starts_time:%H:%M}–{reservation.ends_time:%H:%M}"


def _release_button(view, _context, reservation: RoomReservation, _name) -> Markup:
    return Markup('<a class="btn btn-secondary btn-sm" id="release" href="{}">{}</a>').format(
        url_for(".release_view", id=reservation.id), gettext("Release")
    )


RESERVATION_FORMATTERS = {"weekday": _weekday, "hours": _hours}


class SiteFilter(IntEqualFilter):
    """Reservations of the rooms of one site (the value is read and bounded as an integer filter's)."""

    def apply(self, query, value, alias=None):
        return query.filter(RoomReservation.room_id.in_(select(Room.id).where(Room.site_id == value)))


class WeekdayField(SelectField):
    """The ISO weekday as its name in the reader's language."""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.pop("choices", None)
        kwargs.pop("coerce", None)
        super().__init__(label, validators, choices=reservations.weekday_choices, coerce=int, **kwargs)


class ReleaseForm(BaseForm):
    ends_on = DateField(_l("Last day"), validators=[Optional()])
    starts_time = TimeField(field_label("starts_time"), validators=[Optional()])
    ends_time = TimeField(field_label("ends_time"), validators=[Optional()])
    hours_from = DateField(
        _l("New hours from"), validators=[Optional()], description=_l("Empty: today. Earlier days keep their hours.")
    )


RELEASE_FIELDS = {"valid_until": "ends_on"}  # the rule's field -> the release form's


class RoomReservationView(PracticeModelView):
    prepare = staticmethod(reservations.prepare_reservation)

    column_list = ("room", "therapist", "weekday", "hours", "valid_from", "valid_until")
    column_labels = {**FIELDS, "hours": _l("Hours")}
    column_default_sort = [("weekday", False), ("starts_time", False)]
    column_sortable_list = ("weekday", "valid_from", "valid_until", ("therapist", "therapist.full_name"))
    column_filters = (
        SiteFilter(
            RoomReservation.room_id, FIELDS["site"], options=LiveOptions(lambda: _text_ids(site_filter_choices))
        ),
        IntEqualFilter(
            RoomReservation.room_id,
            FIELDS["room"],
            options=LiveOptions(lambda: _text_ids(room_filter_choices)),
        ),
        IntEqualFilter(
            RoomReservation.therapist_id,
            FIELDS["therapist"],
            options=LiveOptions(lambda: _text_ids(therapist_filter_choices)),
        ),
        "valid_from",
        "valid_until",
    )
    column_formatters = RESERVATION_FORMATTERS
    column_formatters_export = RESERVATION_FORMATTERS
    column_details_list = (*column_list, "notes", "created_at", "release")
    column_formatters_detail = {"weekday": _weekday, "hours": _hours, "release": _release_button}
    form_columns = ("room", "therapist", "weekday", "starts_time", "ends_time", "valid_from", "valid_until", "notes")
    form_overrides = {"weekday": WeekdayField}
    form_ajax_refs = {
        "therapist": therapist_loader("therapist"),
        "room": RoomLoader("room"),
    }

    @expose("/release/", methods=("GET", "POST"))
    def release_view(self):
        """The Release form; once saved (or cancelled) it goes back to `next`, the page that opened
        it (a task's link: the task list or the home), else to the reservation."""
        if not request.args.get("id"):
            return redirect(self.get_url(".index_view"))
        reservation = self.get_one(request.args["id"])
        if reservation is None:
            abort(404)
        back = local_path(request.args.get("next"))
        # Opened, it holds the reservation's last day and hours: staff change the part they give back.
        current = {
            "ends_on": reservation.valid_until,
            "starts_time": reservation.starts_time,
            "ends_time": reservation.ends_time,
        }
        form = ReleaseForm(request.form) if request.method == "POST" else ReleaseForm(data=current)
        if request.method == "POST" and form.validate():
            with commit_or_roll_back() as outcome:
                kept = reservations.release(
                    db.session,
                    reservation.id,
                    ends_on=form.ends_on.data,
                    starts_time=form.starts_time.data,
                    ends_time=form.ends_time.data,
                    hours_from=form.hours_from.data,
                    user=current_user,
                )
            if outcome.refusal is None:
                flash(gettext("Reservation released; the therapist is notified."), "success")
                return redirect(back or self.get_url(".details_view", id=kept.id))
            flash(str(outcome.refusal), "error")
            show_rule(outcome.refusal, form, RELEASE_FIELDS)
            reservation = self.get_one(str(reservation.id))
        return self.render(
            "admin/rooms/release.html",
            form=form,
            reservation=reservation,
            next=back,
            cancel_url=back or self.get_url(".details_view", id=reservation.id),
            weekday_name=reservations.weekday_name,
        )


def _text_ids(choices) -> list[tuple[str, str]]:
    """A filter's options as text ids (a list filter compares them as text)."""
    return [(str(id_), name) for id_, name in choices(db.session)]
