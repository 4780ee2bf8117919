"""Money rules shared by every record that carries an amount: the practice's own currencies, and how
one fee is shared by the participants of a couple, family or group session."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l

from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label


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


# ISO 4217 currencies without a minor unit; every other currency is counted in cents.
WHOLE_UNIT_CURRENCIES = frozenset({"CLP", "ISK", "JPY", "KRW", "PYG", "UGX", "VND", "XAF", "XOF"})


def smallest_unit(currency: str) -> Decimal:
    """The step an amount in this currency is rounded to: 0.01, or 1 where there are no cents."""
    return Decimal("1") if (currency or "").upper() in WHOLE_UNIT_CURRENCIES else Decimal("0.01")


def shared_fees(fee: Decimal, currency: str, participants: int) -> list[Decimal]:
    """The fee of each participant of a session they share: one fee for the appointment, split.

    Equal shares in the currency's smallest unit (the fee itself rounded half-up to it first); the
    units that do not divide go one each to the first participants, so an odd cent of a couple's fee
    goes to the first partner and the lines always add up to the fee (130.01 → 65.01 + 65.00).
    One participant pays the whole fee.
    """
    if participants < 1:
        return []
    unit = smallest_unit(currency)
    units = int((Decimal(fee) / unit).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    share, left_over = divmod(units, participants)
    return [((share + (1 if position < left_over else 0)) * unit).quantize(unit) for position in range(participants)]
