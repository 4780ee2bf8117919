"""The appointment book: the staff's home screen (day, week and month in clinic time)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TypeVar

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.form import BaseForm
from flask_admin.model.fields import AjaxSelectField
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from admin_app.extensions import db
from admin_app.models import AppointmentStatus, Attendance, Modality
from admin_app.services.billing import booking as billing_booking
from admin_app.services.people.choices import therapist_choices, therapist_filter_choices
from admin_app.services.platform import clinic_time
from admin_app.services.platform.bounds import MAX_APPOINTMENT_MINUTES, record_id
from admin_app.services.platform.labels import FIELDS, choices_for
from admin_app.services.platform.money import format_money
from admin_app.services.rooms.choices import site_filter_choices
from admin_app.services.scheduling import booking, closing, conflicts
from admin_app.services.scheduling.agenda import (
    DAY_COLUMNS_A_PAGE,
    THERAPISTS_A_PAGE,
    AgendaFilter,
    Span,
    agenda,
    day_grid,
    listed_count,
    listed_page,
    month_days,
    period_of,
    too_wide,
    week_by_therapist,
    wide_practice,
)
from admin_app.views.people.records import client_loader
from admin_app.views.platform.base import RoleRequired, id_arg, instant_arg, requested_day
from admin_app.views.platform.formatting import choice_texts
from admin_app.views.platform.paging import page_count, requested_page
from admin_app.views.platform.rules import commit_or_flash
from admin_app.views.platform.search import lookup_response

E = TypeVar("E", bound=enum.Enum)
CLIENT_LOADER = client_loader("client")
ANY = [("", _l("All"))]
# The filters of the book's form: a page opened with none of them in its address was not filtered by anyone.
FILTER_KEYS = ("therapist", "site", "modality", "client")
# What the book's links set themselves rather than keep: the day, the view, the added columns, the page.
NOT_KEPT = ("date", "view", "col", "page")


def _choice(enum_class: type[E], value: str) -> E | None:
    """One of the enum's values as a script sent it; None for any other text."""
    return enum_class(value) if value in set(enum_class) else None


class BookFilterForm(BaseForm):
    therapist = SelectField(FIELDS["therapist"], choices=[])
    site = SelectField(FIELDS["site"], choices=[])
    modality = SelectField(FIELDS["modality"], choices=[])
    client = AjaxSelectField(CLIENT_LOADER, FIELDS["client"], allow_blank=True)


def _outlook_json(outlook: billing_booking.Outlook) -> dict:
    preview = outlook.preview
    return {
        "payer": {"id": outlook.payer.id, "text": outlook.payer.name} if outlook.payer else None,
        "authorization": {
            "id": preview.authorization_id,
            "text": preview.text,
            "warning": preview.beyond,
            "refused": preview.refused,
        }
        if preview
        else None,
    }


class BookView(RoleRequired, BaseView):
    @expose("/")
    def index(self):
        span = Span(request.args["view"]) if request.args.get("view") in set(Span) else Span.WEEK
        day = requested_day()
        period = period_of(span, day)
        sites = site_filter_choices(db.session)
        form = self._filter_form(sites)
        filters = self._filters()
        width = None if span == Span.MONTH else wide_practice(db.session)
        wide = too_wide(width, filters=filters)
        if wide and sites and not any(key in request.args for key in FILTER_KEYS):
            # Opening the book of a large practice: its first site, kept in the address like a chosen filter.
            return redirect(
                url_for(".index", view=span.value, date=day.isoformat(), site=sites[0][0], **self._link_args())
            )
        by_day, month, grid, offered, weeks, listed, page_ids = {}, {}, None, [], None, None, None
        # A large practice's week (of a site or of everyone) and day (of a site): a page of therapists.
        if width and not (filters.therapist_id or filters.client_id) and (span == Span.WEEK or not wide):
            listed = self._listed(period, filters)
            page_ids = [id_ for id_, _name in listed["therapists"]]
        if span == Span.MONTH:
            month = month_days(db.session, period=period, filters=filters)
        elif span == Span.WEEK and listed:
            weeks = week_by_therapist(db.session, period=period, filters=filters, therapists=listed["therapists"])
        elif not wide:
            shown_ids = page_ids + self._picked() if listed else None
            by_day = agenda(db.session, period=period, filters=filters, therapist_ids=shown_ids)
        if span == Span.DAY and not wide:
            grid = day_grid(
                db.session,
                day=day,
                appointments=by_day.get(day, []),
                filters=filters,
                picked=self._picked(),
                listed=page_ids,
            )
            # A column is added to book in it: the active therapists, not everyone the filter offers.
            shown = {column.therapist.id for column in grid.columns}
            offered = [(id_, name) for id_, name in therapist_choices(db.session) if id_ not in shown]
        return self.render(
            "admin/book.html",
            period=period,
            day=day,
            by_day=by_day,
            month=month,
            grid=grid,
            wide=wide,
            weeks=weeks,
            listed=listed,
            page_args=self._page(listed["page"] if listed else 0),
            sites=sites,
            filters=filters,
            offered=offered,
            day_url=self._day_url(day, page=listed["page"] if listed and span == Span.DAY else 0),
            today=clinic_time.today(),
            week_days=period_of(Span.WEEK, period.first_day).days,
            form=form,
            spans=[(Span.DAY, _l("Day")), (Span.WEEK, _l("Week")), (Span.MONTH, _l("Month"))],
            link_args=self._link_args(),
            attendance_texts=choice_texts(Attendance),
            modality_texts=choice_texts(Modality),
        )

    @expose("/close/", methods=("GET", "POST"))
    def close_day_view(self):
        """Close the day (services/scheduling/closing.py): the page lists who is still expected in
        the day's appointments that have started, as the day view shows them; confirming marks
        those listed attended, and the staff are back on the day."""
        day = requested_day()
        if request.method == "POST":
            with commit_or_flash() as outcome:
                marked = closing.close_day(db.session, day=day, appointment_ids=request.form.getlist("appointment"))
            if outcome.refusal is None:
                flash(
                    ngettext("%(num)d participant marked attended.", "%(num)d participants marked attended.", marked),
                    "success",
                )
            return redirect(self._day_url(day))
        return self.render(
            "admin/close_day.html",
            day=day,
            listed=closing.still_expected(db.session, day=day, filters=self._filters()),
            day_url=self._day_url(day),
            link_args=self._link_args(),
        )

    def _listed(self, period, filters: AgendaFilter) -> dict:
        """The page of therapists a large practice's book lists (`listed_page`) and its pager."""
        per_page = DAY_COLUMNS_A_PAGE if period.span == Span.DAY else THERAPISTS_A_PAGE
        count = listed_count(db.session, period=period, filters=filters)
        pages = page_count(count, per_page)
        page = requested_page(pages)
        offset = page * per_page
        return {
            "therapists": listed_page(db.session, period=period, filters=filters, offset=offset, limit=per_page),
            "count": count,
            "offset": offset,
            "page": page,
            "pages": pages,
            "page_url": lambda number: url_for(
                ".index", view=period.span.value, date=period.first_day.isoformat(), page=number, **self._link_args()
            ),
        }

    @staticmethod
    def _filters() -> AgendaFilter:
        modality = request.args.get("modality")
        return AgendaFilter(
            therapist_id=id_arg("therapist"),
            site_id=id_arg("site"),
            modality=Modality(modality) if modality in set(Modality) else None,
            client_id=id_arg("client"),
        )

    @staticmethod
    def _picked() -> list[int]:
        """The therapists the staff added as columns of the day (`col`, repeated)."""
        return list(dict.fromkeys(id_ for id_ in map(record_id, request.args.getlist("col")) if id_ is not None))

    def _link_args(self) -> dict:
        """What the book's links keep of this page's address: its filters and its added columns."""
        # A filter left empty is kept: "All sites" chosen is not the book of a large practice opening.
        kept = {
            key: value for key, value in request.args.items() if key not in NOT_KEPT and (value or key in FILTER_KEYS)
        }
        picked = self._picked()
        return {**kept, "col": picked} if picked else kept

    def _day_url(self, day: dt.date, page: int = 0) -> str:
        """The day view of `day` with this page's filters, on `page` of a large practice's therapists."""
        return url_for(".index", view=Span.DAY.value, date=day.isoformat(), **self._link_args(), **self._page(page))

    @staticmethod
    def _page(page: int) -> dict:
        """The address's `page` of therapists: none for the first."""
        return {"page": page} if page else {}

    @staticmethod
    def _filter_form(sites: list[tuple[int, str]]) -> BookFilterForm:
        form = BookFilterForm(request.args)
        therapists = therapist_filter_choices(db.session)
        form.therapist.choices = ANY + [(str(id_), name) for id_, name in therapists]
        form.site.choices = ANY + [(str(id_), name) for id_, name in sites]
        form.modality.choices = ANY + choices_for(Modality)
        return form

    @expose("/ajax/booking-defaults/")
    def booking_defaults(self):
        """What the new-appointment form fills in once a client is chosen, and again whenever its
        participants or therapist change (see appointment-form.js): `client` is the first
        participant, `with` each further one, `therapist` the therapist chosen on the form."""
        defaults = booking.booking_defaults(
            db.session,
            client_id=id_arg("client") or 0,
            other_client_ids=[key for key in map(record_id, request.args.getlist("with")) if key is not None],
            therapist_id=id_arg("therapist"),
        )
        if defaults is None:
            abort(404)
        therapist = defaults.therapist
        split = None
        if len(defaults.fees) > 1:
            split = gettext(
                "One fee of %(fee)s for the appointment, split between its %(count)d participants.",
                fee=format_money(defaults.fee, defaults.currency),
                count=len(defaults.fees),
            )
        return {
            "participants": [_outlook_json(outlook) for outlook in self._outlooks()],
            "therapist": {"id": therapist.id, "text": therapist.full_name} if therapist else None,
            "fee": f"{defaults.fee:.2f}" if defaults.fee is not None else None,
            "currency": defaults.currency,
            "linked": [{"id": c.id, "text": c.name, "relation": c.relation} for c in defaults.linked],
            "rooms": [room.id for room in defaults.rooms],
            "kind": defaults.kind.value,
            "fees": [f"{fee:.2f}" for fee in defaults.fees],
            "split": split,
        }

    @expose("/ajax/booking-clashes/")
    def booking_clashes(self):
        """What saving the new-appointment form as it stands would be refused for, worded as the
        save words it: each live appointment it clashes with (same therapist, room or client).
        Asked by appointment-form.js whenever the therapist, the time, the room or the participants
        change: `client` and `attendance` once per participant, in order; the end is `ends_at`, else
        the start plus `duration_minutes`, else plus the default duration, as on saving."""
        starts_at = instant_arg("starts_at")
        if starts_at is None or request.args.get("status") == AppointmentStatus.CANCELLED:
            return {"messages": []}  # no time yet, or nothing it could clash with
        minutes = request.args.get("duration_minutes", type=int)
        if not (minutes and 0 < minutes <= MAX_APPOINTMENT_MINUTES):
            minutes = current_app.config["DEFAULT_APPOINTMENT_MINUTES"]
        ends_at = instant_arg("ends_at") or starts_at + dt.timedelta(minutes=minutes)
        if ends_at <= starts_at:
            return {"messages": []}  # the save says what is wrong with the times
        attendances = request.args.getlist("attendance")
        clients = [
            (client_id, _choice(Attendance, attendances[position] if position < len(attendances) else ""))
            for position, client_id in enumerate(map(record_id, request.args.getlist("client")))
            if client_id is not None
        ]
        modality = _choice(Modality, request.args.get("modality", ""))
        clashes = conflicts.booking_clashes(
            db.session,
            starts_at=starts_at,
            ends_at=ends_at,
            therapist_id=id_arg("therapist"),
            room_id=id_arg("room"),
            modality=modality,
            clients=clients,
        )
        return {"messages": [str(clash.message) for clash in clashes]}

    @staticmethod
    def _outlooks() -> list[billing_booking.Outlook]:
        """Each participant's bill-to and authorization preview: `client` and each `with`, in order,
        with its `bill` ("" = the client's payment source decides, "client", or a payer's id) and
        the form's `starts_at` (clinic time; none yet: no preview)."""
        clients = [request.args.get("client"), *request.args.getlist("with")]
        bills = request.args.getlist("bill")
        wanted = []
        for position, raw_client in enumerate(clients):
            raw_bill = bills[position] if position < len(bills) else ""
            client_id = record_id(raw_client)
            if client_id is None:
                continue
            chosen = raw_bill == "client" or record_id(raw_bill) is not None
            wanted.append(billing_booking.Bill(client_id, record_id(raw_bill), chosen=chosen))
        return billing_booking.booking_outlooks(db.session, bills=wanted, starts_at=instant_arg("starts_at"))

    @expose("/ajax/lookup/", methods=("POST",))
    def ajax_lookup(self):
        return lookup_response(CLIENT_LOADER)
