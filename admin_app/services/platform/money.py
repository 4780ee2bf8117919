"""Money rules shared by every record that carries an amount: the practice's own currencies, the
rounding of an amount to its currency's minor unit, totals per currency, how one fee is shared by
the participants of a couple, family or group session, and how an amount reads in a language.

Figures stay `Decimal` with their currency beside them (DESIGN.md, Money): a line is rounded
half-up to the currency's minor unit, a total is the sum of rounded lines of one currency, and
amounts of two currencies are never added. Machine-readable outputs (report JSON and CSV,
exports) keep plain numbers; `format_money` is for what a person reads: screens, PDFs, emails.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, ColumnElement, Numeric, case, cast, func, literal

from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label

# Amounts are stored as Numeric(12, 2): a currency with three decimals (KWD) is kept to the cent.
STORED_DIGITS = 2
# CLDR's currency spacing, which Babel does not apply: a code written in letters is kept apart from
# the digits ("PEN 35.50", not "PEN35.50"); a symbol such as S/ or $ already has its pattern's spacing.
LETTERS_TOUCHING_DIGITS = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


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


@functools.cache  # CLDR's data does not change while the process runs; every line asks
def smallest_unit(currency: str) -> Decimal:
    """The step an amount in this currency is rounded to: 0.01, or 1 where there are no cents
    (JPY, CLP...), as Babel's currency data (CLDR) counts its digits."""
    digits = min(get_currency_precision((currency or "").upper()), STORED_DIGITS)
    return Decimal(1).scaleb(-digits)


def round_amount(amount: Decimal | int | str, currency: str) -> Decimal:
    """`amount` rounded half-up to the currency's smallest unit: how every line is rounded
    (2.675 → 2.68; 1234.5 JPY → 1235)."""
    return Decimal(amount).quantize(smallest_unit(currency), rounding=ROUND_HALF_UP)


def stored_amount(value) -> Decimal:
    """An amount the database worked out from stored amounts (a SUM of Numeric(12, 2), which
    SQLite hands back as a float), as the exact Decimal with two places it stands for."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-STORED_DIGITS))


def cents_sql(amount) -> ColumnElement[int]:
    """A stored amount (or percentage) as whole hundredths in SQL, 64-bit: SQLite's ROUND works on
    binary floats, so the rounding rules are done in integer cents (`from_cents` reads them back);
    fee cents times percent hundredths passes 2^31."""
    return cast(func.round(amount * 100), BigInteger)


def step_cents_sql(currency) -> ColumnElement[int] | int:
    """The smallest unit of the currency (a column) in cents: 1, or 100 where a currency of the
    practice has no cents (JPY, CLP)."""
    steps = {code: int(smallest_unit(code) * 100) for code in current_app.config["CURRENCIES"]}
    whole = {code: step for code, step in steps.items() if step != 1}
    if not whole:
        return 1
    return case(whole, value=currency, else_=1)


def percent_cents_sql(cents, percent_hundredths, step=1) -> ColumnElement[int]:
    """`percent_hundredths` / 100 % of an amount in whole cents, rounded half-up to `step` cents (the
    currency's smallest unit, `step_cents_sql`), as `round_amount` rounds: in integer arithmetic,
    because SQLite's ROUND works on binary floats. Cast before `//`, so that it divides whole numbers
    on PostgreSQL too, where cents worked out from stored amounts may be numerics."""
    share = cast(cents * percent_hundredths + 5000 * step, BigInteger) // (10000 * step)
    return share if isinstance(step, int) and step == 1 else share * step


def amount_sql(cents) -> ColumnElement[Decimal]:
    """Whole cents worked out in SQL as the amount a Numeric(12, 2) column stores, for a set statement
    (`from_cents` in Python): exact on PostgreSQL; on SQLite, which keeps any Numeric as a binary
    float, the same float as the amount written from Python."""
    return func.round(cents * literal(Decimal("0.01"), Numeric(3, 2)), STORED_DIGITS)


def from_cents(cents: int) -> Decimal:
    """An amount worked out in whole cents (SQL rounds commissions that way) as a Decimal."""
    return Decimal(int(cents)).scaleb(-STORED_DIGITS)


def sum_per_currency(lines: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """The totals of `(currency, amount)` lines, one per currency, by currency code.

    The lines are already rounded (`round_amount`), so a total is the sum of the lines a PDF
    lists; two currencies are never added together. A mapping's `.items()` is such an iterable.
    """
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in lines:
        totals[currency] += amount
    return dict(sorted(totals.items()))


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
    units = int(round_amount(fee, currency) / unit)
    share, left_over = divmod(units, participants)
    return [((share + (1 if position < left_over else 0)) * unit).quantize(unit) for position in range(participants)]


def format_money(amount: Decimal, currency: str, language: str | None = None) -> str:
    """The amount as a reader of `language` expects it, for the practice's region (PHONE_REGION):
    "S/ 1,234.50" in Spanish in Peru, "1 234,50 $" in French in Canada, "$1,234.50" in English in
    Canada, "CA$1,234.50" in English elsewhere, "PEN 35.50" where the currency has no symbol of
    its own. The amount is rounded half-up first, as its lines are; spaces are non-breaking.

    `language` defaults to the current one (the request's, or the one a PDF or email is forced to).
    """
    return money_formatter(currency, language)(amount)


def money_formatter(currency: str, language: str | None = None) -> Callable[[Decimal], str]:
    """`format_money` of amounts in one currency, the language and region looked up once: a page of
    a thousand invoice lines formats three thousand amounts, and looking up the request's language
    (Flask-Babel, through context locals) cost more than the formatting itself."""
    language = language or str(get_locale() or current_app.config["DEFAULT_LOCALE"])
    region = current_app.config.get("PHONE_REGION") or ""
    code = currency.upper()

    def formatted(amount: Decimal) -> str:
        # Keyed by the text: equal Decimals (0.00 and -0.00) may print differently.
        return _formatted(str(round_amount(amount, currency)), code, language, region)

    return formatted


@functools.lru_cache(maxsize=4096)
def _formatted(amount: str, currency: str, language: str, region: str) -> str:
    """Babel's text of a rounded amount, remembered: Babel works out the currency's plural names on
    every call (~0.3 ms), and a page of figures repeats its amounts (the zeros of a table, the usual
    fees), so a report of a few thousand cells spent most of its render here."""
    text = format_currency(Decimal(amount), currency, locale=_money_locale(language, region))
    return LETTERS_TOUCHING_DIGITS.sub("\u00a0", text)


@functools.lru_cache(maxsize=32)
def _money_locale(language: str, region: str) -> Locale:
    """The language as spoken in the practice's region when Babel knows that pair (es_PE, fr_CA),
    else the language alone (there is no fr_PE: French in Peru writes numbers as in France)."""
    language = Locale.parse(language).language
    try:
        return Locale.parse(f"{language}_{region}") if region else Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language)
