"""Survey invitations and answers, written as `surveys.send_for_month` and `surveys.submit` store them."""

from __future__ import annotations

import datetime as dt

from admin_app.extensions import db
from admin_app.models import SurveyInvitation, SurveyRating, SurveyResponse
from admin_app.services.platform import tokens


def make_invitation(client, month: str, *, recipient=None, **fields) -> SurveyInvitation:
    """An invitation for `month` (YYYY-MM), made at 14:00 UTC on the 1st of the next month (no email)."""
    year, number = int(month[:4]), int(month[5:])
    created = fields.pop("created_at", dt.datetime(year + number // 12, number % 12 + 1, 1, 14, tzinfo=dt.UTC))
    invitation = SurveyInvitation(
        month=month,
        client_id=client.id,
        recipient_id=(recipient or client).id,
        language="es",
        token_nonce=tokens.new_nonce(),
        token_hash=tokens.token_hash(tokens.new_nonce()),
        created_at=created,
        expires_at=fields.pop("expires_at", created + dt.timedelta(days=30)),
        **fields,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def make_answer(invitation, score: int, stars: dict, comment: str | None = None, submitted_at=None) -> SurveyResponse:
    """The invitation answered with an NPS `score` and {therapist: stars}, a day after it was made unless said."""
    submitted_at = submitted_at or invitation.created_at + dt.timedelta(days=1)
    invitation.answered_at = submitted_at
    response = SurveyResponse(
        invitation_id=invitation.id,
        month=invitation.month,
        nps_score=score,
        comment=comment,
        submitted_at=submitted_at,
        ratings=[SurveyRating(therapist_id=t.id, month=invitation.month, stars=s) for t, s in stars.items()],
    )
    db.session.add(response)
    db.session.flush()
    return response
