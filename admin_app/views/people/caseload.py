"""The therapists tab: every therapist's caseload (services.people.caseload), filtered by therapist
status, colour and therapist, a page of therapists at a time.

The page is the service's five statements plus one for the therapists (the choices and the pages),
whatever their number. 200 therapists x 50 clients is 10,000 rows: the page shows `PER_PAGE`
therapists, each in a <details> that can be folded, so the HTML stays small; without a colour filter
only that page's therapists are read.
"""

from __future__ import annotations

import datetime as dt
import functools

from babel.dates import format_date, format_time, get_datetime_format
from flask import get_template_attribute
from flask_admin import BaseView, expose
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Therapist
from admin_app.services.people.caseload import CaseloadClient, Colour, Reason, TherapistStatus, caseloads
from admin_app.services.platform import clinic_time
from admin_app.views.platform.base import RoleRequired, choice_of, id_arg, parsed_arg
from admin_app.views.platform.formatting import NO_VALUE, once_per_language
from admin_app.views.platform.paging import page_count, page_url, requested_page
from admin_app.views.reports.monthly import reader_language

PER_PAGE = 10
ROW_CLASSES = {Colour.RED: "table-danger", Colour.PINK: "caseload-pink"}
CASELOAD_MACROS = "admin/people/caseload_macros.html"


def reason_badges(line: CaseloadClient) -> Markup:
    """The badges that say why a line has its colour, as the tab and the portal's My clients show them."""
    return Markup(" ").join(
        _badge((reason, line.unpaid_sessions if reason == Reason.UNPAID_SESSIONS else 0)) for reason in line.reasons
    )


# A page has a thousand lines, most with the same badge: each is rendered once per language.
@once_per_language
def _badge(reason_and_count: tuple[Reason, int]) -> Markup:
    return Markup(get_template_attribute(CASELOAD_MACROS, "reason_badge")(*reason_and_count))


@once_per_language
def deactivated_on(day: dt.date) -> str:
    """An assignment's "Deactivated on Oct 31, 2026", in the reader's language."""
    return gettext("Deactivated on %(day)s", day=medium_date(day, reader_language()))


def local_when(instant: dt.datetime | None, language: str) -> str:
    """A start as the clinic's wall time, in the reader's language: "Oct 31, 2026, 10:00 AM"."""
    if instant is None:
        return NO_VALUE
    local = clinic_time.to_local(instant)
    return (
        _datetime_pattern(language)
        .replace("{1}", medium_date(local.date(), language))
        .replace("{0}", _short_time(local.time(), language))
    )


# A caseload page has a thousand lines of dates, and Babel works out each anew: a date or a time of
# day reads the same on every line, so each is written once per language.
@functools.lru_cache(maxsize=4096)
def medium_date(day: dt.date, language: str) -> str:
    return format_date(day, "medium", locale=language)


@functools.lru_cache(maxsize=1024)
def _short_time(wall: dt.time, language: str) -> str:
    return format_time(wall, "short", locale=language)


@functools.lru_cache(maxsize=8)
def _datetime_pattern(language: str) -> str:
    return get_datetime_format("medium", locale=language)


class CaseloadView(RoleRequired, BaseView):
    @expose("/")
    def index(self):
        status = parsed_arg("status", choice_of(TherapistStatus, gettext("Status")), default=None)
        colour = parsed_arg("colour", choice_of(Colour, gettext("Colour")), default=None)
        therapist_id = id_arg("therapist")
        therapists = db.session.execute(
            select(Therapist.id, Therapist.full_name, Therapist.active).order_by(Therapist.full_name, Therapist.id)
        ).all()
        if colour is None:
            # Any therapist of the filters has a place on the page: read only this page's.
            matching = [
                therapist.id
                for therapist in therapists
                if (status is None or therapist.active == (status == TherapistStatus.ACTIVE))
                and therapist_id in (None, therapist.id)
            ]
            pages = page_count(len(matching), PER_PAGE)
            page = requested_page(pages)
            shown = caseloads(db.session, therapist_ids=matching[page * PER_PAGE : (page + 1) * PER_PAGE])
            count = len(matching)
        else:
            # Only the therapists with a client of that colour: all are read, then a page is shown.
            found = caseloads(
                db.session,
                therapist_status=status,
                colour=colour,
                therapist_ids=None if therapist_id is None else [therapist_id],
            )
            pages = page_count(len(found), PER_PAGE)
            page = requested_page(pages)
            shown = found[page * PER_PAGE : (page + 1) * PER_PAGE]
            count = len(found)
        language = reader_language()
        return self.render(
            "admin/people/caseload.html",
            caseloads=shown,
            therapist_count=count,
            page=page,
            pages=pages,
            page_url=page_url(),
            status=status,
            colour=colour,
            therapist_id=therapist_id,
            therapists=therapists,
            row_classes=ROW_CLASSES,
            when=lambda instant: local_when(instant, language),
            day=lambda value: medium_date(value, language) if value else NO_VALUE,
            deactivated_on=deactivated_on,
            reason_badges=reason_badges,
        )
