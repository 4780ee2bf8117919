"""The outbox screen: every email and SMS the practice sent or tried to send, for the administrators.

Read-only: rows are written by their causes and changed by delivery jobs. Staff can look at a
message as it would be sent now (the preview renders it again from the current records) and ask
for another delivery ("Send again"); the rule for which messages may be sent again lives in
`services.outbox`.
"""

from __future__ import annotations

import dataclasses

from flask import current_app, flash, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape

from admin_app.extensions import db
from admin_app.models import Channel, OutboundMessage
from admin_app.services.accounts import invitations, second_factor
from admin_app.services.billing import alerts, receipts, sending
from admin_app.services.messaging import outbox, reminders, rendering
from admin_app.services.payouts import emails as payout_emails
from admin_app.services.platform.errors import NoLongerDue, RuleViolation
from admin_app.services.platform.labels import LANGUAGES
from admin_app.services.surveys import invitations as survey_invitations
from admin_app.views.platform.base import PracticeModelView

TEMPLATES = {
    reminders.TEMPLATE: _l("Appointment reminder"),
    invitations.INVITATION_TEMPLATE: _l("Login invitation"),
    second_factor.RESET_TEMPLATE: _l("Second factor reset"),
    survey_invitations.TEMPLATE: _l("Survey invitation"),
    alerts.TEMPLATE: _l("Authorization alert"),
    receipts.TEMPLATE: _l("Receipt"),
    sending.TEMPLATE: _l("Invoice"),
    payout_emails.TEMPLATE: _l("Payout statement"),
}
LABELS = {
    "created_at": _l("Created"),
    "channel": _l("Channel"),
    "recipient": _l("Recipient"),
    "template": _l("Message"),
    "language": _l("Language"),
    "status": _l("Status"),
    "attempts": _l("Attempts"),
    "last_error": _l("Last error"),
    "next_attempt_at": _l("Next attempt"),
    "sent_at": _l("Sent at"),
    "client_id": _l("Client"),
}


def template_label(name: str):
    return TEMPLATES.get(name, name)


def template_options():
    """Every template the app can render, known or not yet labelled."""
    return [(name, template_label(name)) for name in sorted(rendering.BUILDERS)]


def client_link(_view, _context, message: OutboundMessage, _name) -> Markup | str:
    """A link by id: the client's name would cost a query per row (and is on the linked page)."""
    if message.client_id is None:
        return ""
    url = url_for("client.details_view", id=message.client_id)
    return Markup(f'<a href="{escape(url)}">#{message.client_id}</a>')


@dataclasses.dataclass(frozen=True)
class Preview:
    """What the details page shows: the message as it would be sent now, or why it would not be."""

    rendered: rendering.Rendered | None = None
    reason: str | None = None


class OutboxView(PracticeModelView):
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    column_list = (
        "created_at",
        "channel",
        "recipient",
        "template",
        "language",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    )
    column_labels = {**PracticeModelView.column_labels, **LABELS}
    column_default_sort = [("created_at", True), ("id", True)]
    column_sortable_list = ("created_at", "channel", "recipient", "template", "status", "attempts", "sent_at")
    column_searchable_list = ("recipient",)
    column_filters = (
        "status",
        "channel",
        FilterEqual(OutboundMessage.template, LABELS["template"], options=template_options),
        "created_at",
    )
    column_formatters = {
        "template": lambda _v, _c, message, _n: template_label(message.template),
        "language": lambda _v, _c, message, _n: LANGUAGES.get(message.language, message.language),
    }
    column_details_list = (
        "created_at",
        "channel",
        "recipient",
        "client_id",
        "template",
        "language",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
    )
    column_formatters_detail = {**column_formatters, "client_id": client_link}
    details_template = "admin/outbox_details.html"

    # Shown by the details template to decide whether to offer the button (the service decides).
    resendable = outbox.RESENDABLE

    @action(
        "send_again",
        _l("Send again"),
        _l("Send the selected messages again?"),
    )
    def action_send_again(self, ids):
        """A fresh set of delivery tries for each message; those still in progress are refused."""
        queued, refusals = 0, []
        for raw_id in ids:
            if not str(raw_id).isdigit():
                continue
            try:
                outbox.send_again(db.session, int(raw_id))
            except RuleViolation as error:
                refusals.append(str(error))
            else:
                queued += 1
        db.session.commit()  # delivery is dispatched once this commits
        if queued:
            flash(
                ngettext(
                    "%(num)d message queued to be sent again.", "%(num)d messages queued to be sent again.", queued
                ),
                "success",
            )
        for refusal in dict.fromkeys(refusals):
            flash(refusal, "error")

    def preview_of(self, message: OutboundMessage) -> Preview:
        """The message rendered from the current records; the reason instead when it is no longer due."""
        try:
            return Preview(rendered=rendering.render(db.session, message, preview=True))
        except NoLongerDue as gone:
            return Preview(reason=gone.reason)
        except Exception:  # a broken template must not take the details page down with it
            current_app.logger.exception("preview of outbound message %s failed", message.id)
            return Preview(reason=str(_l("The message could not be rendered; see the application log.")))

    @staticmethod
    def is_sms(message: OutboundMessage) -> bool:
        return message.channel == Channel.SMS
