"""STAND-IN (helper "screens"): the payout email's interface (common.md) with the least behind it,
so the screens can be built and tested. The "email" helper's real module replaces this file; this
one sends nothing (no outbox message): `send_statement` only moves the statement to sent."""

from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import PayoutStatement, PayoutStatus
from admin_app.models.base import utcnow
from admin_app.services.payouts.statements import statement_detail
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import field_label

PLACEHOLDERS = ("therapist", "month", "totals", "held_sessions", "practice")


@dataclasses.dataclass(frozen=True)
class EmailText:
    subject: str
    body: str


@dataclasses.dataclass(frozen=True)
class SendOutcome:
    sent: int
    refused: list[str]


def default_text(session: Session, language: str) -> EmailText:
    return EmailText("Your payout statement for {month}", "Hello {therapist},\n\nyour statement for {month}.")


def save_default_text(session: Session, language: str, subject: str, body: str) -> None:
    raise NotImplementedError


def statement_email(session: Session, statement_id: int) -> EmailText:
    detail = statement_detail(session, statement_id)
    statement = detail.statement
    text = default_text(session, "en")
    values = {"therapist": statement.therapist.full_name, "month": statement.month}
    return EmailText(
        statement.email_subject or text.subject.format_map(values),
        statement.email_body or text.body.format_map(values),
    )


def save_statement_email(session: Session, statement_id: int, subject: str, body: str) -> None:
    statement = _statement(session, statement_id)
    if statement.status in (PayoutStatus.SENT, PayoutStatus.PAID):
        raise RuleViolation(_l("Statement %(number)s was sent: its email no longer changes.", number=str(statement)))
    if not (subject or "").strip():
        raise RuleViolation(
            _l("%(field)s: this field is required", field=field_label("email_subject")), field="email_subject"
        )
    if not (body or "").strip():
        raise RuleViolation(
            _l("%(field)s: this field is required", field=field_label("email_body")), field="email_body"
        )
    statement.email_subject = subject.strip()
    statement.email_body = body.strip()
    session.flush()


def send_statement(session: Session, statement_id: int, *, user_id: int | None):
    statement = _statement(session, statement_id)
    if statement.status != PayoutStatus.APPROVED:
        raise RuleViolation(_l("Only an approved statement can be sent."))
    text = statement_email(session, statement_id)
    statement.email_subject, statement.email_body = text.subject, text.body
    statement.status = PayoutStatus.SENT
    statement.sent_at = utcnow()
    session.flush()
    return None


def send_approved(session: Session, month, *, user_id: int | None) -> SendOutcome:
    ids = session.scalars(
        select(PayoutStatement.id).where(
            PayoutStatement.month == str(month), PayoutStatement.status == PayoutStatus.APPROVED
        )
    ).all()
    for statement_id in ids:
        send_statement(session, statement_id, user_id=user_id)
    return SendOutcome(sent=len(ids), refused=[])


def _statement(session: Session, statement_id: int) -> PayoutStatement:
    statement = session.get(PayoutStatement, statement_id)
    if statement is None:
        raise NotFound(_l("This payout statement does not exist."))
    return statement
