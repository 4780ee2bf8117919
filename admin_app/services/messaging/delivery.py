"""One delivery attempt of an outbox row: render it now, then hand it to its channel."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from admin_app.models import Channel, OutboundMessage
from admin_app.services.messaging import emails, rendering, sms
from admin_app.services.messaging.outbox import Outcome
from admin_app.services.platform.errors import NoLongerDue


def attempt(session: Session, message: OutboundMessage) -> Outcome:
    try:
        rendered = rendering.render(session, message)
    except NoLongerDue as reason:
        return Outcome.withdrawn(str(reason.reason))
    except Exception as error:  # a broken template must not leave the row claimed forever
        current_app.logger.exception("rendering outbound message %s failed", message.id)
        return Outcome.temporary(f"could not render the message: {type(error).__name__}")
    if message.channel == Channel.EMAIL:
        return emails.send_email(message, rendered)
    return sms.send_sms(message, rendered.text)
