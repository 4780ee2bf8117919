"""Email delivery: Flask-Mail over SMTP, with a timeout, and SMTP answers sorted into
temporary (retry later) and permanent (give up now) failures."""

from __future__ import annotations

import smtplib

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_mail import Connection, Message

from admin_app.models import OutboundMessage
from admin_app.services.messaging.outbox import Outcome
from admin_app.services.messaging.rendering import Rendered


class TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout: a silent server must not hang a worker."""

    def configure_host(self) -> smtplib.SMTP:
        mail, timeout = self.mail, current_app.config["MAIL_TIMEOUT_SECONDS"]
        smtp_class = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        host = smtp_class(mail.server, mail.port, timeout=timeout)
        if mail.use_tls:
            host.starttls()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


def send_email(message: OutboundMessage, rendered: Rendered) -> Outcome:
    config = current_app.config
    if not config.get("MAIL_SERVER") or config.get("MAIL_SUPPRESS_SEND"):
        return Outcome.held("not delivered: no mail server is configured (MAIL_SERVER)")
    try:
        validate_email(message.recipient, check_deliverability=False)
    except EmailNotValidError as error:
        return Outcome.permanent(f"invalid email address: {error}")
    email = Message(
        subject=rendered.subject,
        recipients=[message.recipient],
        body=rendered.text,
        html=rendered.html,
        sender=config["MAIL_DEFAULT_SENDER"],
    )
    for attachment in rendered.attachments:
        email.attach(attachment.filename, attachment.content_type, attachment.content)
    try:
        with TimedConnection(current_app.extensions["mail"]) as connection:
            connection.send(email)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        return _by_code(code, reply)
    except smtplib.SMTPResponseException as error:
        return _by_code(error.smtp_code, error.smtp_error)
    except (smtplib.SMTPException, OSError) as error:  # refused, reset, timed out, disconnected
        return Outcome.temporary(f"mail server unreachable: {type(error).__name__}: {error}")
    return Outcome.sent()


def _by_code(code: int, reply: bytes | str) -> Outcome:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    error = f"SMTP {code} {text}"
    return Outcome.permanent(error) if 500 <= code < 600 else Outcome.temporary(error)
