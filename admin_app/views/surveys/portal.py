"""The therapist's own survey results: average stars per month and the comments of the responses
that rated them; never another therapist's, never a response's recommendation score.

With `SURVEY_ANONYMOUS_TO_THERAPISTS` (the default) a comment is its text only, ordered by text:
no name, id or date tells who wrote it.
"""

from __future__ import annotations

from flask import current_app
from flask_admin import BaseView, expose
from flask_babel import get_locale

from admin_app.extensions import db
from admin_app.models import AuditAction, SurveyResponse
from admin_app.models.audit import record_event
from admin_app.services.platform.months import Month
from admin_app.services.surveys import results as survey_results
from admin_app.views.platform.portal import TherapistPortal, current_therapist_id
from admin_app.views.surveys.staff.cells import stars_cells
from admin_app.views.surveys.staff.results import requested_period


def month_name(month: str) -> str:
    """ "October 2026", in the reader's language."""
    return Month.parse(month).label(str(get_locale() or current_app.config["DEFAULT_LOCALE"]))


class MyRatingsView(TherapistPortal, BaseView):
    @expose("/")
    def index(self):
        period = requested_period()
        anonymous = current_app.config["SURVEY_ANONYMOUS_TO_THERAPISTS"]
        months = survey_results.therapist_results(
            db.session, current_therapist_id(), period, with_client_names=not anonymous
        )
        page = self.render(
            "portal/survey_ratings.html",
            period=period,
            months=months,
            anonymous=anonymous,
            month_name=month_name,
            stars=stars_cells(),
        )
        # The comments shown, by month and count (the page names no response: it must not tell who wrote one).
        if shown := {month.month: len(month.comments) for month in months if month.comments}:
            record_event(
                db.session,
                action=AuditAction.VIEW,
                entity=SurveyResponse.__tablename__,
                detail={"screen": "my_ratings", "comments": shown},
            )
            db.session.commit()
        return page
