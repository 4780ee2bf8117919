"""SMS delivery: a small backend interface, Twilio when configured, else the outbox only.

Texts are kept within one segment: 160 septets in GSM-7, or 70 UTF-16 units once a single
character outside the GSM alphabet switches the whole text to UCS-2. Letters such as á, í,
ó, ú and typographic quotes and dashes are folded to their plain GSM form first, so that
one of them does not cost 90 characters of the segment.
"""

from __future__ import annotations

import unicodedata
from typing import Protocol

import phonenumbers
from flask import current_app
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from admin_app.models import OutboundMessage
from admin_app.services.messaging.outbox import Outcome

SEGMENT = 160  # septets of one GSM-7 segment
UCS2_SEGMENT = 70  # UTF-16 units of one UCS-2 segment
ELLIPSIS = "..."
# A silent provider must not hang a delivery job (RQ stops those after 120 s).
TIMEOUT_SECONDS = 30
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")  # two septets each
# Punctuation that NFKD leaves alone but has a plain GSM-7 equivalent.
PUNCTUATION = str.maketrans(
    {**dict.fromkeys("‘’‚‛′", "'"), **dict.fromkeys("“”„‟″«»", '"'), **dict.fromkeys("‐‑‒–—―−", "-")}
)


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> Outcome: ...


class OutboxOnlyBackend:
    """The default: messages stay in the outbox, marked as not delivered."""

    def send(self, to: str, body: str) -> Outcome:
        return Outcome.held("not delivered: no SMS provider is configured (TWILIO_ACCOUNT_SID)")


class TwilioBackend:
    """Twilio's Messages API through the official client.

    `api_base_url` replaces https://api.twilio.com (the tests' loopback server); production
    never passes it.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        api_base_url: str | None = None,
    ) -> None:
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if api_base_url is not None:
            self.client.api.base_url = api_base_url
        self.from_number = from_number

    def send(self, to: str, body: str) -> Outcome:
        try:
            self.client.messages.create(to=to, from_=self.from_number, body=body)
        except TwilioRestException as error:
            return _by_status(error.status, f"Twilio {error.status} (code {error.code}): {error.msg}")
        except TwilioServiceException as error:  # newer RFC 9457 error bodies
            detail = f"{error.title}: {error.detail}" if error.detail else error.title
            return _by_status(error.status, f"Twilio {error.status} (code {error.code}): {detail}")
        except (TwilioException, OSError) as error:  # requests' errors (refused, timed out) are OSErrors
            return Outcome.temporary(f"SMS provider unreachable: {type(error).__name__}: {error}")
        return Outcome.sent()


def _by_status(status: int, reason: str) -> Outcome:
    """429 and 5xx may pass if tried later; any other refusal will be refused again."""
    temporary = status == 429 or status >= 500
    return Outcome.temporary(reason) if temporary else Outcome.permanent(reason)


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
    """A valid number written exactly in E.164: "+", country code, number, nothing else."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return number == e164 and phonenumbers.is_valid_number(parsed)


def fit_one_segment(text: str) -> str:
    """`text` on one line, GSM-7 where a letter can be folded, cut to one segment if longer."""
    text = unicodedata.normalize("NFC", text).translate(PUNCTUATION)
    text = " ".join(text.split())
    text = "".join(_fold(char) for char in text)
    if _fits(text):
        return text
    # No more than SEGMENT characters can fit, whatever the encoding.
    for length in range(min(len(text), SEGMENT), 0, -1):
        cut = text[:length].rstrip() + ELLIPSIS
        if _fits(cut):
            return cut
    return ELLIPSIS


def _fold(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENDED:
        return char
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return plain if plain and all(c in GSM7_BASIC for c in plain) else char


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def _fits(text: str) -> bool:
    """Whether `text` is one segment: 160 septets in GSM-7, else 70 UTF-16 units in UCS-2."""
    if is_gsm7(text):
        return sum(2 if c in GSM7_EXTENDED else 1 for c in text) <= SEGMENT
    return len(text.encode("utf-16-le")) // 2 <= UCS2_SEGMENT
