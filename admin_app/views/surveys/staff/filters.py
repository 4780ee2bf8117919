"""List filters of the survey screens; each asks the survey services for its rule (a month, an
invitation's state, an NPS group) rather than restating it."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.model.filters import BaseBooleanFilter
from sqlalchemy import exists

from admin_app.extensions import db
from admin_app.models import SurveyRating, SurveyResponse
from admin_app.models.base import utcnow
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.surveys import nps
from admin_app.services.surveys import results as survey_results
from admin_app.services.surveys.invitations import InvitationState, state_sql


class MonthEqualFilter(FilterEqual):
    """A "YYYY-MM" month column equal to the chosen month (choices: the months that have rows)."""

    def validate(self, value) -> bool:
        try:
            Month.parse(str(value))
        except RuleViolation:
            return False
        return True

    def clean(self, value):
        return str(Month.parse(str(value)))


class PresenceFilter(FilterEqual, BaseBooleanFilter):
    """Yes: the instant is set (the invitation was opened / answered); No: it is not."""

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column.is_not(None) if value == "1" else column.is_(None))


class InvitationStateFilter(FilterEqual):
    """Sent, opened, answered or expired, as the list's State column says (expiry read now)."""

    def validate(self, value) -> bool:
        return value in {state.value for state in InvitationState}

    def apply(self, query, value, alias=None):
        return query.filter(state_sql(utcnow()) == value)


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
        return value in nps.BY_KEY

    def apply(self, query, value, alias=None):
        return query.filter(nps.in_group(SurveyResponse.nps_score, value))


def state_options():
    return [(state.value, state.label) for state in InvitationState]


def nps_group_options():
    return [(group.key, group.label) for group in nps.GROUPS]


def invitation_month_options():
    return [(month, month) for month in survey_results.invitation_months(db.session)]


def response_month_options():
    return [(month, month) for month in survey_results.response_months(db.session)]
