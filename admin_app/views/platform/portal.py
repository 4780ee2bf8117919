"""The therapist portal's scoping, shared by its screens: who the signed-in therapist is, and a
list view whose every query (list, count, details, edit, export) goes through one row filter; and
the portal's home.

A record outside the filter answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from functools import partial

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import format_date, gettext
from flask_security import current_user
from sqlalchemy.exc import DBAPIError

from admin_app.extensions import db
from admin_app.models import THERAPIST_ROLE, Attendance, CancelledBy
from admin_app.services.platform import bounds, clinic_time, races
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import choice_label, choices_for
from admin_app.services.scheduling import calendar, portal_day
from admin_app.views.billing.colours import status_label
from admin_app.views.messaging.outbox import template_label
from admin_app.views.platform.base import PracticeModelView, RoleRequired
from admin_app.views.platform.formatting import medium_date


def _discreetly(rule, session, model) -> None:
    try:
        rule(session, model)
    except RuleViolation as error:
        raise error.discreetly() from None


def current_therapist_id() -> int:
    therapist = current_user.therapist if current_user.is_authenticated else None
    if therapist is None:
        abort(404)
    return therapist.id


def moment(instant) -> str:
    """A stored instant as the clinic's date and time, in the reader's language ("Dec 5, 2026, 09:30" in English)."""
    local = clinic_time.to_local(instant)
    return f"{format_date(local.date(), 'medium')}, {local:%H:%M}"


class TherapistPortal(RoleRequired):
    """A portal screen: for an active therapist login linked to an active therapist record (a
    deactivated record closes the portal at once, whatever the login)."""

    required_role = THERAPIST_ROLE

    def is_accessible(self) -> bool:
        therapist = current_user.therapist if current_user.is_authenticated else None
        return super().is_accessible() and therapist is not None and therapist.active


class TherapistScopedView(TherapistPortal, PracticeModelView):
    """A list of the signed-in therapist's own records: `scope(query)` is the row filter."""

    can_create = False
    can_delete = False
    export_types = ["csv"]

    def scope(self, query):
        raise NotImplementedError

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        query = super().get_count_query()
        return None if query is None else self.scope(query)  # None: a big list is not counted

    def _run_rule(self, rule, model, form=None) -> None:
        """A refusal in its discreet wording: a clash says the room or the client is taken, never by
        whom (another therapist's appointment is not the therapist's to read)."""
        if rule is None:
            return
        super()._run_rule(partial(_discreetly, rule), model, form)

    def get_one(self, id):
        record = super().get_one(id)
        if record is None:
            abort(404)
        return record


class TherapistIndexView(TherapistPortal, AdminIndexView):
    """The portal home (/portal/): the therapist's day (appointments with their attendance to mark,
    the past days' still expected), alerts about their clients, their open requests, the calendar link.

    Read by `services.scheduling.portal_day` in a constant number of statements."""

    def is_accessible(self) -> bool:
        # A therapist login the staff have not linked to a record yet lands here to read why the
        # portal is empty; a linked record must be active (TherapistPortal).
        if super().is_accessible():
            return True
        return RoleRequired.is_accessible(self) and current_user.therapist is None

    @expose("/")
    def index(self):
        therapist = current_user.therapist
        if therapist is None:
            return self.render("portal/home.html", therapist=None)
        return self.render(
            "portal/home.html",
            therapist=therapist,
            home=portal_day.portal_day(db.session, therapist_id=therapist.id),
            calendar_feed_url=calendar.calendar_feed_url(therapist),
            attendance_choices=choices_for(Attendance),
            cancelled_by_choices=choices_for(CancelledBy),
            day_heading=lambda day: format_date(day, "full"),
            moment=moment,
            local_date=lambda instant: medium_date(clinic_time.to_local(instant).date()),
            authorization_status=status_label,
            message_label=template_label,
        )

    @expose("/attendance", methods=("POST",))
    def record_attendance(self):
        """Mark one participant's attendance (CSRF-checked POST) and come back to the home."""
        form = request.form
        try:
            marked = portal_day.record_my_attendance(
                db.session,
                therapist_id=current_therapist_id(),
                participant_id=bounds.record_id(form.get("participant_id")),
                attendance=form.get("attendance", ""),
                cancelled_by=form.get("cancelled_by") or None,
                reason=form.get("cancellation_reason"),
            )
            db.session.commit()
        except NotFound:
            db.session.rollback()
            abort(404)
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error.discreetly()), "error")
        except DBAPIError as error:
            db.session.rollback()
            refusal = races.refusal(error)
            if refusal is None:
                raise
            flash(str(refusal), "error")
        else:
            flash(
                gettext(
                    "Attendance recorded: %(name)s, %(time)s: %(attendance)s.",
                    name=marked.name,
                    time=moment(marked.starts_at),
                    attendance=choice_label(marked.attendance),
                ),
                "success",
            )
        return redirect(url_for(".index"))

    @expose("/calendar-link", methods=("POST",))
    def rotate_calendar_link(self):
        """The signed-in therapist's own calendar link, created or replaced (CSRF-checked POST)."""
        if current_user.therapist is None:
            abort(404)
        calendar.rotate_calendar_feed(db.session, current_user.therapist)
        db.session.commit()
        flash(gettext("Your new calendar link is ready; the previous one no longer works."), "success")
        return redirect(url_for(".index"))
