"""Survey results: NPS per month and each therapist's average stars per month, computed in SQL.

NPS of a month (DESIGN.md): over the responses to that month's survey, 100 x (share of promoters)
- 100 x (share of detractors) (groups in `surveys.nps`), one decimal, rounded half-up; a month
without responses has no NPS.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Numeric, case, cast, func, select
from sqlalchemy.orm import Session

from admin_app.models import SurveyInvitation, SurveyRating, SurveyResponse, Therapist
from admin_app.services.platform.months import Month
from admin_app.services.surveys import nps as nps_groups

ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")


@dataclasses.dataclass(frozen=True)
class NpsLine:
    """One month of the survey; `nps` and `response_rate` are None when there is nothing to divide."""

    month: str
    invitations: int = 0
    responses: int = 0
    promoters: int = 0
    detractors: int = 0

    @property
    def passives(self) -> int:
        return self.responses - self.promoters - self.detractors

    @property
    def nps(self) -> Decimal | None:
        return nps(self.promoters, self.detractors, self.responses)

    @property
    def response_rate(self) -> Decimal | None:
        """Responses per 100 invitations, one decimal."""
        if not self.invitations:
            return None
        return (Decimal(100 * self.responses) / Decimal(self.invitations)).quantize(ONE_DECIMAL, ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class RatingLine:
    month: str
    therapist_id: int
    therapist_name: str
    ratings: int
    average: Decimal


def nps(promoters: int, detractors: int, responses: int) -> Decimal | None:
    if not responses:
        return None
    return (Decimal(100 * (promoters - detractors)) / Decimal(responses)).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def nps_by_month(session: Session, first_month: Month, last_month: Month) -> list[NpsLine]:
    """One line per month that has invitations, oldest first."""
    group = nps_groups.group_sql(SurveyResponse.nps_score)
    rows = session.execute(
        select(
            SurveyInvitation.month,
            func.count(SurveyInvitation.id),
            func.count(SurveyResponse.id),
            func.coalesce(func.sum(case((group == nps_groups.PROMOTER, 1), else_=0)), 0),
            func.coalesce(func.sum(case((group == nps_groups.DETRACTOR, 1), else_=0)), 0),
        )
        .outerjoin(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
        .where(SurveyInvitation.month >= str(first_month), SurveyInvitation.month <= str(last_month))
        .group_by(SurveyInvitation.month)
        .order_by(SurveyInvitation.month)
    ).all()
    return [
        NpsLine(month, int(invited), int(answered), int(pro), int(det)) for month, invited, answered, pro, det in rows
    ]


def ratings_by_therapist(
    session: Session, first_month: Month, last_month: Month, therapist_id: int | None = None
) -> list[RatingLine]:
    """Average stars per therapist and month, by month then therapist name."""
    query = (
        select(
            SurveyRating.month,
            Therapist.id,
            Therapist.full_name,
            func.count(SurveyRating.id),
            func.avg(cast(SurveyRating.stars, Numeric(6, 3))),
        )
        .join(Therapist, Therapist.id == SurveyRating.therapist_id)
        .where(SurveyRating.month >= str(first_month), SurveyRating.month <= str(last_month))
        .group_by(SurveyRating.month, Therapist.id, Therapist.full_name)
        .order_by(SurveyRating.month, Therapist.full_name)
    )
    if therapist_id is not None:
        query = query.where(SurveyRating.therapist_id == therapist_id)
    return [
        RatingLine(month, tid, name, int(count), Decimal(str(average)).quantize(TWO_DECIMALS, ROUND_HALF_UP))
        for month, tid, name, count, average in session.execute(query)
    ]
