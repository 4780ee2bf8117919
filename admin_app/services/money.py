"""Money rules shared by every record that carries an amount: the practice's own currencies."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from admin_app.services.errors import RuleViolation
from admin_app.services.labels import field_label


def check_currency(code: str | None, *, field: str) -> str:
    """Return the upper-cased code when it is one of CURRENCIES; otherwise refuse it by field."""
    currencies = current_app.config["CURRENCIES"]
    code = (code or "").upper()
    if code not in currencies:
        raise RuleViolation(
            _l(
                "%(field)s: %(value)s is not one of the practice's currencies (%(allowed)s)",
                field=field_label(field),
                value=code,
                allowed=", ".join(currencies),
            ),
            field=field,
        )
    return code
