"""What the survey screens show: month ranges, the NPS table, the stars table and a therapist's own results.

The aggregates come from `survey_stats` (computed in SQL); this module lays them out per month
(every month of the range gets a line, with no value where nothing was answered) and reads the
comments a therapist may see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.models import Client, SurveyInvitation, SurveyRating, SurveyResponse
from admin_app.services.platform.months import Month
from admin_app.services.surveys import stats as survey_stats
from admin_app.services.surveys.stats import NpsLine, RatingLine

DEFAULT_MONTHS = 12
MAX_MONTHS = 60


@dataclasses.dataclass(frozen=True)
class MonthRange:
    first: Month
    last: Month

    @property
    def months(self) -> list[Month]:
        return self.first.until(self.last)


@dataclasses.dataclass(frozen=True)
class TherapistRatings:
    """A row of the stars table: one therapist, their line (average and count) per month rated."""

    therapist_id: int
    therapist_name: str
    by_month: dict[Month, RatingLine]


@dataclasses.dataclass(frozen=True)
class Comment:
    month: str
    text: str
    client_name: str | None = None  # only when therapists may know who wrote it


@dataclasses.dataclass(frozen=True)
class TherapistMonth:
    """A month of a therapist's own results: their average stars and the comments they may read."""

    month: str
    rating: RatingLine | None
    comments: list[Comment]


def default_range(today: dt.date) -> MonthRange:
    """The last 12 months up to the previous one (the current month is not surveyed yet)."""
    last = Month.containing(today).previous()
    return MonthRange(first=last.shift(1 - DEFAULT_MONTHS), last=last)


def invitation_months(session: Session) -> list[str]:
    """The months from the first invitation's to the last's, newest first (choices of a month filter)."""
    return _months_between(session, SurveyInvitation.month)


def response_months(session: Session) -> list[str]:
    return _months_between(session, SurveyResponse.month)


def _months_between(session: Session, column) -> list[str]:
    """Every month from the column's first to its last, newest first: its index's two ends, where a
    DISTINCT reads every row (years of monthly invitations); a month in between without any is
    listed too, and finds nothing."""
    first, last = session.execute(select(func.min(column), func.max(column))).one()
    if first is None:
        return []
    return [str(month) for month in reversed(Month.parse(first).until(Month.parse(last)))]


def nps_table(session: Session, period: MonthRange) -> list[NpsLine]:
    """A line for every month of the period, oldest first; months without invitations are zeros."""
    lines = {line.month: line for line in survey_stats.nps_by_month(session, period.first, period.last)}
    return [lines.get(str(month)) or NpsLine(str(month)) for month in period.months]


def ratings_table(session: Session, period: MonthRange, therapist_id: int | None = None) -> list[TherapistRatings]:
    """Therapists rated in the period (by name), each with their average stars per month."""
    rows: dict[int, TherapistRatings] = {}
    for line in survey_stats.ratings_by_therapist(session, period.first, period.last, therapist_id):
        row = rows.setdefault(line.therapist_id, TherapistRatings(line.therapist_id, line.therapist_name, {}))
        row.by_month[Month.parse(line.month)] = line
    return sorted(rows.values(), key=lambda row: (row.therapist_name.casefold(), row.therapist_id))


def therapist_results(
    session: Session, therapist_id: int, period: MonthRange, *, with_client_names: bool
) -> list[TherapistMonth]:
    """A therapist's own months with ratings, newest first, with the comments of the responses
    that rated them. Anonymous (`with_client_names=False`): the text only, ordered by text, so
    neither a name nor the order of answering tells who wrote it."""
    own = {
        line.month: line for line in survey_stats.ratings_by_therapist(session, period.first, period.last, therapist_id)
    }
    comments: dict[str, list[Comment]] = {}
    for comment in _comments(session, therapist_id, period, with_client_names=with_client_names):
        comments.setdefault(comment.month, []).append(comment)
    months = sorted(set(own) | set(comments), reverse=True)
    return [TherapistMonth(month, own.get(month), comments.get(month, [])) for month in months]


def _comments(session: Session, therapist_id: int, period: MonthRange, *, with_client_names: bool) -> list[Comment]:
    rated_by = (
        select(SurveyResponse.month, SurveyResponse.comment)
        .join(SurveyRating, SurveyRating.response_id == SurveyResponse.id)
        .where(
            SurveyRating.therapist_id == therapist_id,
            SurveyResponse.month >= str(period.first),
            SurveyResponse.month <= str(period.last),
            SurveyResponse.comment.is_not(None),
        )
    )
    if not with_client_names:
        query = rated_by.order_by(SurveyResponse.month.desc(), SurveyResponse.comment)
        return [Comment(month, text) for month, text in session.execute(query)]
    query = (
        rated_by.add_columns(Client.full_name)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .join(Client, Client.id == SurveyInvitation.client_id)
        .order_by(SurveyResponse.month.desc(), SurveyResponse.submitted_at, SurveyResponse.id)
    )
    return [Comment(month, text, name) for month, text, name in session.execute(query)]
