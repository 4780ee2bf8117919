"""The survey results page: NPS per month and average stars per therapist and month over a period
of months, and the form that sends a month's survey."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext

from admin_app.extensions import db
from admin_app.models import JobKind
from admin_app.services.people.choices import therapist_filter_choices
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.surveys import invitations as surveys
from admin_app.services.surveys import results as survey_results
from admin_app.services.surveys.results import MonthRange
from admin_app.views.job_runs.start import start_run
from admin_app.views.platform.base import RoleRequired, id_arg, parsed_arg
from admin_app.views.platform.rules import show_rule
from admin_app.views.surveys.staff.cells import one_decimal, rate, stars_cells


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
    if first.count_to(last) > survey_results.MAX_MONTHS:
        flash(gettext("Choose a period of at most %(num)d months.", num=survey_results.MAX_MONTHS), "error")
        return default
    return MonthRange(first, last)


def _month_arg(name: str, label: str, default: Month) -> Month | None:
    """The month in the query string, the default when absent, None when it is not a month."""
    return parsed_arg(name, lambda raw: Month.parse(raw, field=label), default=default)


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
            send_month=Month.containing(clinic_time.today()).previous(),
            one_decimal=one_decimal,
            rate=rate,
            stars=stars_cells(),
        )

    @expose("/send", methods=("POST",))
    def send(self):
        """Invite every client who attended a session in the month (a run in the background, whose
        page shows its progress); a month already sent adds only newcomers."""
        raw = request.form.get("month", "").strip()
        try:
            month = Month.parse(raw, field=gettext("Month"))
            surveys.ensure_ended(month)
        except RuleViolation as refusal:
            show_rule(refusal)
            return redirect(url_for(".index"))
        return start_run(JobKind.SURVEY_SEND, f"{JobKind.SURVEY_SEND}:{month}", {"month": str(month)})


def sent_message(summary: surveys.SendSummary) -> tuple[str, str]:
    """What a month's sending says when done, and how (a flash category)."""
    text = gettext(
        "Survey for %(month)s: %(invited)d invited, %(already)d already invited, "
        "%(opted_out)d opted out, %(no_email)d without an email address.",
        month=summary.month,
        invited=summary.invited,
        already=summary.already_invited,
        opted_out=summary.opted_out,
        no_email=summary.no_email,
    )
    return text, "success" if summary.invited else "info"
