"""SMS delivery: a small backend interface, Twilio when configured, else the outbox only.

Texts are kept within one 160-character GSM-7 segment where possible: letters outside the
GSM alphabet (á, í, ó, ú...) would switch the whole text to UCS-2 and 70 characters a segment,
so they are folded to their plain letter first.
"""

from __future__ import annotations

import unicodedata
from typing import Protocol

import phonenumbers
from flask import current_app
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from admin_app.models import OutboundMessage
from admin_app.services.outbox import Outcome

SEGMENT = 160
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")  # two septets each


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> Outcome: ...


class OutboxOnlyBackend:
    """The default: messages stay in the outbox, marked as not delivered."""

    def send(self, to: str, body: str) -> Outcome:
        return Outcome.held("not delivered: no SMS provider is configured (TWILIO_ACCOUNT_SID)")


class TwilioBackend:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, http_client=None) -> None:
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.from_number = from_number

    def send(self, to: str, body: str) -> Outcome:
        try:
            self.client.messages.create(to=to, from_=self.from_number, body=body)
        except TwilioRestException as error:
            reason = f"Twilio {error.status} (code {error.code}): {error.msg}"
            temporary = error.status == 429 or error.status >= 500
            return Outcome.temporary(reason) if temporary else Outcome.permanent(reason)
        except (TwilioException, OSError) as error:
            return Outcome.temporary(f"SMS provider unreachable: {type(error).__name__}: {error}")
        return Outcome.sent()


def backend() -> SmsBackend:
    config = current_app.config
    if not config.get("TWILIO_ACCOUNT_SID"):
        return OutboxOnlyBackend()
    cached = current_app.extensions.get("sms_backend")
    if cached is None:
        cached = TwilioBackend(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], config["TWILIO_FROM_NUMBER"])
        current_app.extensions["sms_backend"] = cached
    return cached


def send_sms(message: OutboundMessage, text: str) -> Outcome:
    if not is_e164(message.recipient):
        return Outcome.permanent("invalid phone number: expected E.164, such as +51987654321")
    return backend().send(message.recipient, text)


def is_e164(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return number.startswith("+") and phonenumbers.is_valid_number(parsed)


def fit_one_segment(text: str) -> str:
    """`text` on one line, GSM-7 where a letter can be folded, cut to one segment if longer."""
    text = " ".join(text.split())
    text = "".join(_fold(char) for char in text)
    if _septets(text) <= SEGMENT:
        return text
    while _septets(text) > SEGMENT - 3:
        text = text[:-1]
    return text.rstrip() + "..."


def _fold(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENDED:
        return char
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return plain if plain and all(c in GSM7_BASIC for c in plain) else char


def _septets(text: str) -> int:
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        return sum(2 if c in GSM7_EXTENDED else 1 for c in text)
    return len(text) * SEGMENT // 70  # UCS-2: 70 characters fill a segment
