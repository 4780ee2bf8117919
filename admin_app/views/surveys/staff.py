"""The staff's survey screens: invitations, responses (read-only) and the results page with the send form.

Lists load their related rows with the page (joins and one select-in), never a query per row.
The token nonce and hash of an invitation are never shown.
"""

from __future__ import annotations

import re

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.model.filters import BaseBooleanFilter
from flask_babel import format_decimal, format_percent, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import and_, exists
from sqlalchemy.orm import joinedload, selectinload

from admin_app.extensions import db
from admin_app.models import SurveyInvitation, SurveyRating, SurveyResponse
from admin_app.models.base import utcnow
from admin_app.services.people.choices import therapist_filter_choices
from admin_app.services.platform import clinic_time
from admin_app.services.platform.clinic_time import EARLIEST_DATE, LATEST_DATE, parse_month
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import FIELDS, LANGUAGES
from admin_app.services.surveys import invitations as surveys
from admin_app.services.surveys import results as survey_results
from admin_app.services.surveys.results import MonthRange
from admin_app.views.platform.base import PracticeModelView, RoleRequired, id_arg
from admin_app.views.platform.filters import LiveOptions
from admin_app.views.platform.rules import commit_or_flash
from admin_app.views.scheduling.appointments import therapist_options

MONTH_PATTERN = re.compile(r"^\d{4}-\d{2}$")
COMMENT_PREVIEW = 80
NO_VALUE = "—"

LABELS = {
    "month": FIELDS["month"],
    "client": FIELDS["client"],
    "recipient": _l("Sent to"),
    "language": FIELDS["locale"],
    "created_at": FIELDS["created_at"],
    "opened_at": _l("Opened"),
    "answered_at": _l("Answered"),
    "expires_at": _l("Expires"),
    "state": _l("State"),
    "submitted_at": _l("Submitted"),
    "nps_score": _l("Recommendation (0–10)"),
    "nps_group": _l("NPS group"),
    "ratings": _l("Stars per therapist"),
    "comment": _l("Comment"),
}

# Invitation states, as the list shows them (not the outbox's "Sent": the email may still be on its way).
SENT, OPENED, ANSWERED, EXPIRED = "sent", "opened", "answered", "expired"
STATES = {
    SENT: _l("Not opened"),
    OPENED: _l("Opened, not answered"),
    ANSWERED: _l("Answered"),
    EXPIRED: _l("Expired"),
}

# NPS groups of a single answer (DESIGN.md: promoters 9–10, detractors 0–6).
NPS_GROUPS = {
    "promoter": (9, 10, _l("Promoter (9–10)")),
    "passive": (7, 8, _l("Passive (7–8)")),
    "detractor": (0, 6, _l("Detractor (0–6)")),
}


def nps_group_of(score: int) -> str:
    return next(key for key, (low, high, _label) in NPS_GROUPS.items() if low <= score <= high)


# --- filters -------------------------------------------------------------------------------------


class MonthEqualFilter(FilterEqual):
    """A "YYYY-MM" month column equal to the chosen month (choices: the months that have rows)."""

    def validate(self, value) -> bool:
        return bool(MONTH_PATTERN.match(str(value).strip()))

    def clean(self, value):
        return str(value).strip()


class PresenceFilter(FilterEqual, BaseBooleanFilter):
    """Yes: the instant is set (the invitation was opened / answered); No: it is not."""

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column.is_not(None) if value == "1" else column.is_(None))


class InvitationStateFilter(FilterEqual):
    """Sent, opened, answered or expired, as the list's State column says (expiry read now)."""

    def validate(self, value) -> bool:
        return value in STATES

    def apply(self, query, value, alias=None):
        now = utcnow()
        answered, opened = SurveyInvitation.answered_at, SurveyInvitation.opened_at
        live = and_(answered.is_(None), SurveyInvitation.expires_at > now)
        condition = {
            ANSWERED: answered.is_not(None),
            EXPIRED: and_(answered.is_(None), SurveyInvitation.expires_at <= now),
            OPENED: and_(live, opened.is_not(None)),
            SENT: and_(live, opened.is_(None)),
        }[value]
        return query.filter(condition)


class RatedTherapistFilter(FilterEqual):
    """Responses that rated the chosen therapist."""

    def validate(self, value) -> bool:
        return str(value).isdigit()

    def clean(self, value) -> int:
        return int(value)

    def apply(self, query, value, alias=None):
        rated = exists().where(SurveyRating.response_id == SurveyResponse.id, SurveyRating.therapist_id == value)
        return query.filter(rated)


class NpsGroupFilter(FilterEqual):
    def validate(self, value) -> bool:
        return value in NPS_GROUPS

    def apply(self, query, value, alias=None):
        low, high, _label = NPS_GROUPS[value]
        return query.filter(SurveyResponse.nps_score.between(low, high))


def _invitation_month_options():
    return [(month, month) for month in survey_results.invitation_months(db.session)]


def _response_month_options():
    return [(month, month) for month in survey_results.response_months(db.session)]


# --- cells ---------------------------------------------------------------------------------------


def client_link(client) -> Markup:
    url = url_for("client.details_view", id=client.id)
    return Markup(f'<a href="{escape(url)}">{escape(client.full_name)}</a>')


def invitation_state(invitation: SurveyInvitation, now) -> str:
    if invitation.answered_at is not None:
        return ANSWERED
    if invitation.expires_at <= now:
        return EXPIRED
    return OPENED if invitation.opened_at is not None else SENT


def ratings_text(response: SurveyResponse) -> str:
    """ "Ana Ruiz: 5★; Bruno Díaz: 4★", by therapist name (the therapists come with the page)."""
    ratings = sorted(response.ratings, key=lambda r: (r.therapist.full_name.casefold(), r.therapist_id))
    return "; ".join(f"{rating.therapist.full_name}: {rating.stars}★" for rating in ratings)


def short_comment(comment: str | None) -> str:
    if not comment:
        return ""
    flat = " ".join(comment.split())
    return flat if len(flat) <= COMMENT_PREVIEW else flat[: COMMENT_PREVIEW - 1].rstrip() + "…"


def full_comment(_view, _context, response: SurveyResponse, _name) -> Markup | str:
    if not response.comment:
        return ""
    return Markup(f'<div class="survey-comment" style="white-space: pre-wrap">{escape(response.comment)}</div>')


# --- invitations ---------------------------------------------------------------------------------


class SurveyInvitationView(PracticeModelView):
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    column_list = ("month", "client", "recipient", "state", "created_at", "opened_at", "answered_at", "expires_at")
    column_details_list = (*column_list, "language")
    column_labels = {**PracticeModelView.column_labels, **LABELS}
    column_default_sort = [("month", True), ("id", True)]
    column_sortable_list = (
        "month",
        ("client", "client.full_name"),
        "created_at",
        "opened_at",
        "answered_at",
        "expires_at",
    )
    column_searchable_list = ("client.full_name",)
    column_filters = (
        MonthEqualFilter(SurveyInvitation.month, LABELS["month"], options=LiveOptions(_invitation_month_options)),
        InvitationStateFilter(SurveyInvitation.id, LABELS["state"], options=list(STATES.items())),
        PresenceFilter(SurveyInvitation.answered_at, LABELS["answered_at"]),
        PresenceFilter(SurveyInvitation.opened_at, LABELS["opened_at"]),
    )
    # Names only in the list (a link per row would read as another row to tools that scan the page).
    column_formatters = {
        "client": lambda _v, _c, invitation, _n: invitation.client.full_name,
        "recipient": lambda _v, _c, invitation, _n: invitation.recipient.full_name,
        "state": lambda view, _c, invitation, _n: STATES[invitation_state(invitation, view.now())],
        "language": lambda _v, _c, invitation, _n: LANGUAGES.get(invitation.language, invitation.language),
    }
    column_formatters_detail = {
        **column_formatters,
        "client": lambda _v, _c, invitation, _n: client_link(invitation.client),
        "recipient": lambda _v, _c, invitation, _n: client_link(invitation.recipient),
    }
    # The relations are loaded below, with the page.
    column_auto_select_related = False

    @staticmethod
    def now():
        return utcnow()

    def get_query(self):
        return super().get_query().options(joinedload(SurveyInvitation.client), joinedload(SurveyInvitation.recipient))


# --- responses -----------------------------------------------------------------------------------


class SurveyResponseView(PracticeModelView):
    can_create = False
    can_edit = False
    can_delete = False
    export_types = ["csv"]
    column_list = ("month", "submitted_at", "client", "nps_score", "ratings", "comment")
    column_details_list = (
        "month",
        "submitted_at",
        "client",
        "recipient",
        "nps_score",
        "nps_group",
        "ratings",
        "comment",
    )
    column_export_list = ("month", "submitted_at", "client", "nps_score", "ratings", "comment")
    column_labels = {**PracticeModelView.column_labels, **LABELS}
    column_default_sort = [("submitted_at", True), ("id", True)]
    column_sortable_list = ("month", "submitted_at", "nps_score")
    column_filters = (
        MonthEqualFilter(SurveyResponse.month, LABELS["month"], options=LiveOptions(_response_month_options)),
        RatedTherapistFilter(SurveyResponse.id, FIELDS["therapist"], options=LiveOptions(therapist_options)),
        NpsGroupFilter(
            SurveyResponse.nps_score,
            LABELS["nps_group"],
            options=[(key, label) for key, (_low, _high, label) in NPS_GROUPS.items()],
        ),
    )
    column_formatters = {
        "client": lambda _v, _c, response, _n: response.invitation.client.full_name,
        "ratings": lambda _v, _c, response, _n: ratings_text(response),
        "comment": lambda _v, _c, response, _n: short_comment(response.comment),
    }
    column_formatters_detail = {
        **column_formatters,
        "client": lambda _v, _c, response, _n: client_link(response.invitation.client),
        "recipient": lambda _v, _c, response, _n: client_link(response.invitation.recipient),
        "nps_group": lambda _v, _c, response, _n: NPS_GROUPS[nps_group_of(response.nps_score)][2],
        "comment": full_comment,
    }
    column_formatters_export = {
        "client": lambda _v, _c, response, _n: response.invitation.client.full_name,
        "ratings": lambda _v, _c, response, _n: ratings_text(response),
        "comment": lambda _v, _c, response, _n: response.comment or "",
    }
    column_auto_select_related = False

    def get_query(self):
        invitation = joinedload(SurveyResponse.invitation)
        return (
            super()
            .get_query()
            .options(
                invitation.joinedload(SurveyInvitation.client),
                invitation.joinedload(SurveyInvitation.recipient),
                selectinload(SurveyResponse.ratings).joinedload(SurveyRating.therapist),
            )
        )


# --- results -------------------------------------------------------------------------------------


def requested_period() -> MonthRange:
    """The `from`/`to` months of the query string; a bad or missing value falls back to the
    default period (a bad one with a message naming the field)."""
    default = survey_results.default_range(clinic_time.today())
    first = _month_arg("from", gettext("From"), default.first)
    last = _month_arg("to", gettext("To"), default.last)
    if first is None or last is None:
        return default
    if first > last:
        flash(gettext("The period starts after it ends (%(first)s to %(last)s).", first=first, last=last), "error")
        return default
    if survey_results.month_span(first, last) > survey_results.MAX_MONTHS:
        flash(gettext("Choose a period of at most %(num)d months.", num=survey_results.MAX_MONTHS), "error")
        return default
    return MonthRange(first, last)


def _month_arg(name: str, label: str, default: str) -> str | None:
    """The month in the query string, the default when absent, None when it is not a month."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        year, number = parse_month(raw, field=label)
        if not EARLIEST_DATE.year <= year <= LATEST_DATE.year:
            # A month the period's arithmetic could not step past (year 9999).
            raise RuleViolation(
                _l("%(field)s: expected a month as YYYY-MM, got %(value)s", field=label, value=raw), field=name
            )
    except RuleViolation as error:
        flash(str(error), "error")  # plain text: a lazy string would be stored as markup
        return None
    return surveys.month_key(year, number)


def one_decimal(value) -> str:
    return NO_VALUE if value is None else format_decimal(value, format="0.0")


def rate(value) -> str:
    return NO_VALUE if value is None else format_percent(value / 100, format="0.0%")


def stars(line) -> str:
    """ "4.67 (3)": the average and the number of ratings; a dash for a month without."""
    if line is None:
        return NO_VALUE
    return f"{format_decimal(line.average, format='0.00')} ({line.ratings})"


class SurveyResultsView(RoleRequired, BaseView):
    """NPS per month and average stars per therapist and month; the form to send a month's survey."""

    @expose("/")
    def index(self):
        period = requested_period()
        therapist_id = id_arg("therapist")
        therapists = therapist_filter_choices(db.session)
        return self.render(
            "admin/survey_results.html",
            period=period,
            months=period.months,
            nps_rows=survey_results.nps_table(db.session, period),
            rating_rows=survey_results.ratings_table(db.session, period, therapist_id),
            therapists=therapists,
            therapist_id=therapist_id,
            send_month=surveys.previous_month(clinic_time.today()),
            one_decimal=one_decimal,
            rate=rate,
            stars=stars,
        )

    @expose("/send", methods=("POST",))
    def send(self):
        """Invite every client who attended a session in the month; a month already sent adds only newcomers."""
        raw = request.form.get("month", "").strip()
        with commit_or_flash() as outcome:  # the emails are delivered once this commits
            parse_month(raw, field=gettext("Month"))
            summary = surveys.send_for_month(db.session, raw)
        if outcome.refusal:
            return redirect(url_for(".index"))
        flash(
            gettext(
                "Survey for %(month)s: %(invited)d invited, %(already)d already invited, "
                "%(opted_out)d opted out, %(no_email)d without an email address.",
                month=summary.month,
                invited=summary.invited,
                already=summary.already_invited,
                opted_out=summary.opted_out,
                no_email=summary.no_email,
            ),
            "success" if summary.invited else "info",
        )
        return redirect(url_for(".index"))
