"""Turning an outbox row into text: its template, in its language, from the ids it holds.

Rendering happens at delivery (and for the outbox preview), so a message always shows the
current record; a builder that finds its cause gone (appointment cancelled or moved) says
so with `NoLongerDue`, and the message is withdrawn instead of sent.

A message whose context names an `attachment` (a kind of document in ATTACHMENTS, made from
the context's ids) carries that file, made at delivery too; a preview leaves it out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import current_app, render_template
from sqlalchemy.orm import Session

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import Channel, OutboundMessage
from admin_app.services.accounts import invitations, lockout, second_factor
from admin_app.services.billing import alerts, receipts, sending
from admin_app.services.messaging import reminders, sms
from admin_app.services.messaging.attachments import Attachment
from admin_app.services.payouts import emails as payout_emails
from admin_app.services.platform.errors import NoLongerDue
from admin_app.services.surveys import invitations as surveys

Builder = Callable[[Session, dict, str], dict]

BUILDERS: dict[str, Builder] = {
    reminders.TEMPLATE: reminders.reminder_variables,
    surveys.TEMPLATE: surveys.invitation_variables,
    invitations.INVITATION_TEMPLATE: invitations.invitation_variables,
    second_factor.RESET_TEMPLATE: second_factor.reset_email_variables,
    lockout.TEMPLATE: lockout.lockout_variables,
    alerts.TEMPLATE: alerts.alert_variables,
    receipts.TEMPLATE: receipts.receipt_variables,
    sending.TEMPLATE: sending.invoice_email_variables,
    payout_emails.TEMPLATE: payout_emails.statement_email_variables,
}

ATTACHMENTS: dict[str, Callable[[Session, dict, str], Attachment]] = {
    sending.ATTACHMENT: sending.invoice_attachment,
    payout_emails.ATTACHMENT: payout_emails.statement_attachment,
}

# Links that act for their owner (set a password, answer a survey, open a receipt as the client): a preview on the
# outbox screen shows where they lead, never the token, so whoever reads the outbox cannot use them.
PRIVATE_LINKS = {
    "invitation_url": invitations.LINK.path.format(token="…"),
    "survey_url": surveys.LINK.path.format(token="…"),
    "receipt_url": receipts.LINK.path.format(token="…"),
}

__all__ = ["BUILDERS", "NoLongerDue", "Rendered", "render"]


@dataclasses.dataclass(frozen=True)
class Rendered:
    text: str
    subject: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()


def render(session: Session, message: OutboundMessage, *, preview: bool = False) -> Rendered:
    """The message as it would be sent now; raises NoLongerDue when it should not be.
    A `preview` (for the staff) shows private links without their token."""
    language = message.language if message.language in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]
    variables = {
        "practice_name": current_app.config["PRACTICE_NAME"],
        "practice_address": current_app.config["PRACTICE_ADDRESS"],
        "language": language,
        **BUILDERS[message.template](session, message.context, language),
    }
    if preview:
        for name, shown in PRIVATE_LINKS.items():
            if name in variables:
                variables[name] = current_app.config["PUBLIC_BASE_URL"] + shown
    if message.channel == Channel.SMS:
        return Rendered(text=sms.fit_one_segment(_render("sms", language, message.template, "txt", variables)))
    return Rendered(
        subject=_render("email", language, message.template, "subject.txt", variables).strip(),
        text=_render("email", language, message.template, "txt", variables),
        html=_render("email", language, message.template, "html", variables),
        attachments=() if preview else _attachments(session, message, language),
    )


def _attachments(session: Session, message: OutboundMessage, language: str) -> tuple[Attachment, ...]:
    kind = message.context.get("attachment")
    return (ATTACHMENTS[kind](session, message.context, language),) if kind else ()


def _render(channel: str, language: str, template: str, extension: str, variables: dict) -> str:
    return render_template(f"{channel}/{language}/{template}.{extension}", **variables)
