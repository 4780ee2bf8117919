"""The email that carries a payout statement (issue 16, "Email").

Its text comes from the practice's default for the therapist's language (PayoutEmailText, else the
built-in text below), with placeholders in braces filled from the statement: {therapist}, {month}
(the month's name in that language), {totals} (what is due, per currency), {held_sessions} (how many
sessions are held over) and {practice}. A default with an unknown placeholder or a stray brace is
refused when saved, naming the field and the placeholder, so a statement's text can always be made.

Staff may edit one statement's subject and message until it is sent; the edited text is stored on
the statement as written (no placeholders: it is what the therapist reads). Without an edit the text
is generated from the default at the time it is read. Sending freezes the text onto the statement,
so the statement keeps what the therapist received whatever happens to the default later.

Sending goes through the outbox (delivered after the commit, retried, once per statement); the
statement's PDF is made at delivery (services.payouts.statement_files) and attached.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import string
from collections.abc import Callable
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import Channel, OutboundMessage, PayoutEmailText, PayoutStatement, PayoutStatus, Therapist
from admin_app.models.base import utcnow
from admin_app.services.messaging import outbox
from admin_app.services.messaging.attachments import Attachment
from admin_app.services.payouts import statement_files
from admin_app.services.payouts.statements import StatementDetail, Totals, month_overview, statement_detail
from admin_app.services.platform.documents import PDF_MIMETYPE
from admin_app.services.platform.errors import NoLongerDue, NotFound, RuleViolation
from admin_app.services.platform.labels import choice_label
from admin_app.services.platform.money import format_money
from admin_app.services.platform.months import Month

TEMPLATE = "payout_statement"
ATTACHMENT = "payout_pdf"  # the message context's `attachment`: the statement's PDF, made at delivery

PLACEHOLDERS = ("therapist", "month", "totals", "held_sessions", "practice")

SUBJECT_MAX = 255
BODY_MAX = 20_000

# The field names a RuleViolation carries (the screens' form fields) and how the person reads them.
FIELD_NAMES = {"subject": _l("Subject"), "body": _l("Message")}

BUILT_IN_SUBJECT = _l("Your payout statement for {month}")
BUILT_IN_BODY = _l(
    "Hello {therapist},\n\n"
    "Please find attached your payout statement for {month}. Due to you: {totals}.\n\n"
    "Sessions held over until their payment arrives: {held_sessions}. They will appear on a later "
    "statement once paid.\n\n"
    "If you have a question about it, reply to this email.\n\n"
    "{practice}"
)


@dataclasses.dataclass(frozen=True)
class EmailText:
    subject: str
    body: str


@dataclasses.dataclass(frozen=True)
class SendOutcome:
    """What *Send all approved* did: how many went out, and why each other one did not."""

    sent: int
    refused: list[str]


def language_of(therapist: Therapist) -> str:
    """The therapist's login's language, else the practice's."""
    locale = therapist.user.locale if therapist.user is not None else None
    return locale if locale in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]


def _language(language: str) -> str:
    if language not in SUPPORTED_LOCALES:
        raise RuleViolation(
            _l("%(field)s: choose one of %(choices)s", field=_l("Language"), choices=", ".join(SUPPORTED_LOCALES)),
            field="language",
        )
    return language


def built_in_text(language: str) -> EmailText:
    """The text the product comes with, in `language`."""
    with force_locale(_language(language)):
        return EmailText(str(BUILT_IN_SUBJECT), str(BUILT_IN_BODY))


def default_text(session: Session, language: str) -> EmailText:
    """The practice's default text in `language`, else the built-in one."""
    saved = session.get(PayoutEmailText, _language(language))
    return EmailText(saved.subject, saved.body) if saved is not None else built_in_text(language)


def save_default_text(session: Session, language: str, subject: str | None, body: str | None) -> None:
    """Keep the practice's default in `language`; the caller commits. Refused (naming the field and the
    placeholder) for an empty text, an unknown placeholder or a stray brace."""
    text = _checked(subject, body, placeholders=True)
    saved = session.get(PayoutEmailText, _language(language))
    if saved is None:
        session.add(PayoutEmailText(language=language, subject=text.subject, body=text.body, updated_at=utcnow()))
    else:
        saved.subject, saved.body, saved.updated_at = text.subject, text.body, utcnow()
    session.flush()


def reset_default_text(session: Session, language: str) -> None:
    """Go back to the built-in text in `language`; the caller commits."""
    saved = session.get(PayoutEmailText, _language(language))
    if saved is not None:
        session.delete(saved)
        session.flush()


def saved_languages(session: Session) -> set[str]:
    """The languages in which the practice has its own default text."""
    return set(session.scalars(select(PayoutEmailText.language)))


def fill(template: str, values: dict[str, str], *, field: str) -> str:
    """`template` with its {placeholders} replaced ({{ and }} are a literal brace)."""
    parts = []
    for literal, name, spec, conversion in _parsed(template, field):
        parts.append(literal)
        if name is not None:
            if name not in PLACEHOLDERS or spec or conversion:
                shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                raise RuleViolation(
                    _l(
                        "%(field)s: unknown placeholder %(placeholder)s; use %(placeholders)s",
                        field=FIELD_NAMES[field],
                        placeholder=shown,
                        placeholders=" ".join("{" + known + "}" for known in PLACEHOLDERS),
                    ),
                    field=field,
                )
            parts.append(values[name])
    return "".join(parts)


def _parsed(template: str, field: str) -> list[tuple]:
    try:
        return list(string.Formatter().parse(template))
    except ValueError:
        raise RuleViolation(
            _l(
                "%(field)s: a brace is not closed or not opened; write a placeholder as {month}, "
                "and a brace on its own as {{ or }}",
                field=FIELD_NAMES[field],
            ),
            field=field,
        ) from None


def _checked(subject: str | None, body: str | None, *, placeholders: bool, prefix: str = "") -> EmailText:
    """Both texts present and within bounds; with `placeholders`, each one's placeholders known.
    A refusal names the form's field: `prefix` + "subject" or "body" (a statement's form: "email_")."""
    subject = re.sub(r"\s+", " ", subject or "").strip()
    body = (body or "").replace("\r\n", "\n").strip()
    for field, value, limit in (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)):
        if not value:
            raise RuleViolation(_l("%(field)s: this field is required", field=FIELD_NAMES[field]), field=prefix + field)
        if len(value) > limit:
            raise RuleViolation(
                _l("%(field)s: at most %(max)d characters", field=FIELD_NAMES[field], max=limit), field=prefix + field
            )
        if placeholders:
            fill(value, dict.fromkeys(PLACEHOLDERS, ""), field=field)
    return EmailText(subject, body)


@dataclasses.dataclass(frozen=True)
class Figures:
    """What a statement's email tells of it: what is due, per currency, and how many sessions are held."""

    due: Totals
    held_sessions: int

    @classmethod
    def of(cls, detail: StatementDetail) -> Figures:
        return cls(detail.due, len(detail.held_lines))


def placeholder_values(statement: PayoutStatement, figures: Figures, language: str) -> dict[str, str]:
    """What each placeholder says for this statement, in `language`."""
    therapist = statement.therapist
    due = figures.due or {therapist.default_currency: Decimal("0")}
    return {
        "therapist": therapist.full_name,
        "month": Month.parse(statement.month).label(language),
        "totals": ", ".join(format_money(amount, currency, language) for currency, amount in due.items()),
        "held_sessions": str(figures.held_sessions),
        "practice": current_app.config["PRACTICE_NAME"],
    }


def _email(
    statement: PayoutStatement, figures: Callable[[], Figures], template: Callable[[str], EmailText]
) -> EmailText:
    """The statement's edited (or frozen) text, else `template` in the therapist's language filled with
    `figures` (both asked for only when needed). An edit always holds both texts (`save_statement_email`)."""
    if statement.email_subject is not None:
        return EmailText(statement.email_subject, statement.email_body)
    language = language_of(statement.therapist)
    chosen = template(language)
    values = placeholder_values(statement, figures(), language)
    return EmailText(
        fill(chosen.subject, values, field="subject").strip()[:SUBJECT_MAX],
        fill(chosen.body, values, field="body").strip(),
    )


def statement_email(session: Session, statement_id: int) -> EmailText:
    """The statement's email as it will be sent (or was): its edited or frozen text, else generated."""
    return email_of(session, statement_detail(session, statement_id))


def email_of(session: Session, detail: StatementDetail) -> EmailText:
    """`statement_email` of a statement already read with its lines (the statement page's)."""
    return _email(detail.statement, lambda: Figures.of(detail), lambda language: default_text(session, language))


def save_statement_email(session: Session, statement_id: int, subject: str | None, body: str | None) -> None:
    """Keep staff's edit of this statement's email, as written; refused once sent. The caller commits."""
    statement = _statement(session, statement_id)
    if statement.status in (PayoutStatus.SENT, PayoutStatus.PAID):
        raise RuleViolation(
            _l(
                "Statement %(number)s is %(status)s: its email no longer changes.",
                number=str(statement),
                status=choice_label(statement.status),
            )
        )
    text = _checked(subject, body, placeholders=False, prefix="email_")
    statement.email_subject, statement.email_body = text.subject, text.body
    session.flush()


def send_statement(session: Session, statement_id: int, *, user_id: int | None) -> OutboundMessage:
    """Queue this approved statement's email, its PDF attached, and mark it sent with the text frozen
    onto it; the caller commits. Refused for a draft, a statement already sent, or a therapist
    without an email address. `user_id` is who sends it (kept by the audit trail of the change)."""
    statement = _statement(session, statement_id, lock=True)
    _refuse_sending(statement)
    return _send(session, statement, email_of(session, statement_detail(session, statement_id)))


def send_approved(session: Session, month: Month, *, user_id: int | None) -> SendOutcome:
    """Send every approved statement of `month`; each refusal (a therapist without an email) is
    collected and the others still go. The caller commits.

    Set-based where it can be: the statements, their therapists and logins in one query, their
    figures in the month's overview (the same SQL as the month screen), each default text read once."""
    statements = session.scalars(
        select(PayoutStatement)
        .join(Therapist, Therapist.id == PayoutStatement.therapist_id)
        .where(PayoutStatement.month == str(month), PayoutStatement.status == PayoutStatus.APPROVED)
        .order_by(Therapist.full_name, PayoutStatement.id)
        .options(selectinload(PayoutStatement.therapist).selectinload(Therapist.user))
        .with_for_update(of=PayoutStatement)
    ).all()
    if not statements:
        return SendOutcome(sent=0, refused=[])
    overview = {row.statement_id: Figures(row.due, row.held_lines) for row in month_overview(session, month)}

    @functools.cache
    def default_in(language: str) -> EmailText:
        return default_text(session, language)

    sent, refused = 0, []
    for statement in statements:
        try:
            _refuse_sending(statement)
            text = _email(
                statement,
                lambda statement=statement: overview[statement.id],
                default_in,
            )
            _send(session, statement, text)
        except RuleViolation as error:
            refused.append(str(error))
        else:
            sent += 1
    return SendOutcome(sent=sent, refused=refused)


def _refuse_sending(statement: PayoutStatement) -> None:
    if statement.status == PayoutStatus.DRAFT:
        raise RuleViolation(
            _l(
                "The statement of %(therapist)s for %(month)s is a draft: approve it first.",
                therapist=statement.therapist.full_name,
                month=statement.month,
            )
        )
    if statement.status != PayoutStatus.APPROVED:
        raise RuleViolation(_l("Statement %(number)s was already sent.", number=str(statement)))
    if not (statement.therapist.email or "").strip():
        raise RuleViolation(
            _l(
                "%(therapist)s has no email address: add one to send statement %(number)s.",
                therapist=statement.therapist.full_name,
                number=str(statement),
            )
        )


def _send(session: Session, statement: PayoutStatement, text: EmailText) -> OutboundMessage:
    """Queue the email and freeze `text` onto the statement, now sent."""
    message = outbox.queue_message(
        session,
        channel=Channel.EMAIL,
        recipient=statement.therapist.email.strip(),
        template=TEMPLATE,
        language=language_of(statement.therapist),
        context={"statement_id": statement.id, "attachment": ATTACHMENT},
        dedupe_key=f"payout-statement:{statement.id}",
    )
    if message is None:
        raise RuleViolation(_l("Statement %(number)s was already sent.", number=str(statement)))
    statement.email_subject, statement.email_body = text.subject, text.body
    statement.status = PayoutStatus.SENT
    statement.sent_at = utcnow()
    statement.message_id = message.id
    session.flush()
    return message


def statement_email_variables(session: Session, context: dict, language: str) -> dict:
    """What the email says: the text frozen onto the statement when it was sent."""
    statement = session.get(PayoutStatement, context["statement_id"])
    if statement is None or statement.email_subject is None or statement.email_body is None:
        raise NoLongerDue(_l("The payout statement was deleted before the email left."))
    return {"subject": statement.email_subject, "body": statement.email_body}


def statement_attachment(session: Session, context: dict, language: str) -> Attachment:
    """The statement's PDF, made at delivery."""
    name, content = statement_files.statement_pdf_bytes(session, context["statement_id"], language=language)
    return Attachment(name, PDF_MIMETYPE, content)


def _statement(session: Session, statement_id: int, *, lock: bool = False) -> PayoutStatement:
    query = (
        select(PayoutStatement)
        .where(PayoutStatement.id == statement_id)
        .options(selectinload(PayoutStatement.therapist).selectinload(Therapist.user))
    )
    statement = session.scalar(query.with_for_update(of=PayoutStatement) if lock else query)
    if statement is None:
        raise NotFound(_l("This payout statement does not exist."))
    return statement
