"""Contact details as the practice keeps them: E.164 phones, lower-case emails."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l

from admin_app.services.platform.errors import RuleViolation


def normalise_phone(raw: str | None, *, field: str = "phone") -> str | None:
    """Return the number in E.164, reading local numbers in the practice's PHONE_REGION."""
    if raw is None or not raw.strip():
        return None
    region = current_app.config.get("PHONE_REGION") or None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise RuleViolation(
            _l("%(field)s: %(value)s is not a valid phone number", field=field, value=raw),
            field=field,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str | None, *, field: str = "email", required: bool = False) -> str | None:
    if raw is None or not raw.strip():
        if required:
            raise RuleViolation(_l("%(field)s: an email address is required", field=field), field=field)
        return None
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise RuleViolation(
            _l("%(field)s: %(value)s is not a valid email address", field=field, value=raw),
            field=field,
        ) from None
    return result.normalized.lower()
