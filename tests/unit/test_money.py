"""Money: an amount rounded half-up to its currency's minor unit, totals per currency that never mix,
and an amount written as a reader of a language in the practice's region expects it. No database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask, render_template_string
from flask_babel import Babel

from admin_app.services.platform.money import (
    format_money,
    from_cents,
    round_amount,
    smallest_unit,
    stored_amount,
    sum_per_currency,
)
from admin_app.views.platform.formatting import register_template_filters

NBSP = "\u00a0"


def practice(region: str, language: str = "es") -> Flask:
    """A bare app with the settings money formatting reads (the region, the default language)."""
    app = Flask(__name__)
    app.config.update(PHONE_REGION=region, DEFAULT_LOCALE=language, BABEL_DEFAULT_LOCALE=language)
    Babel(app)
    register_template_filters(app)
    return app


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("2.675", "PEN", "2.68"),  # half-up, where a binary float would give 2.67
        ("2.665", "PEN", "2.67"),  # half-up, not to the even cent
        ("0.005", "USD", "0.01"),
        ("4.545", "CAD", "4.55"),
        ("-0.005", "PEN", "-0.01"),  # a half goes away from zero, as the database's commission does
        ("10.004", "PEN", "10.00"),
        ("130", "PEN", "130.00"),
        ("1234.5", "JPY", "1235"),  # no minor unit: whole yen
        ("1234.49", "JPY", "1234"),
        ("25000.5", "CLP", "25001"),
        ("25000.5", "clp", "25001"),
        ("1.2345", "KWD", "1.23"),  # three decimals, but amounts are stored to the cent
    ],
)
def test_an_amount_is_rounded_half_up_to_its_currencys_minor_unit(amount, currency, rounded):
    assert str(round_amount(Decimal(amount), currency)) == rounded


def test_the_minor_unit_comes_from_the_currency():
    assert [str(smallest_unit(code)) for code in ("PEN", "USD", "CAD", "JPY", "CLP", "KWD")] == [
        "0.01",
        "0.01",
        "0.01",
        "1",
        "1",
        "0.01",
    ]


def test_amounts_the_database_worked_out_come_back_exact():
    assert str(stored_amount(71670.0)) == "71670.00"  # a float SUM from SQLite
    assert str(stored_amount(0.30000000000000004)) == "0.30"
    assert str(stored_amount(Decimal("12.5"))) == "12.50"
    assert [str(from_cents(cents)) for cents in (455, 600, -5, 0)] == ["4.55", "6.00", "-0.05", "0.00"]


def test_totals_are_per_currency_and_never_mixed():
    lines = [("PEN", Decimal("150.00")), ("USD", Decimal("80.00")), ("PEN", Decimal("10.10")), ("EUR", Decimal("1"))]

    totals = sum_per_currency(lines)

    assert totals == {"EUR": Decimal("1"), "PEN": Decimal("160.10"), "USD": Decimal("80.00")}
    assert list(totals) == ["EUR", "PEN", "USD"]  # by currency code, whatever the lines' order


def test_a_total_is_the_sum_of_rounded_lines():
    # Three commissions of 45 % of 10.10 (4.545 each): 4.55 a line, so 13.65 in total, not 13.64.
    lines = [("PEN", round_amount(Decimal("10.10") * Decimal("0.45"), "PEN")) for _ in range(3)]

    assert sum_per_currency(lines) == {"PEN": Decimal("13.65")}


def test_totals_of_mappings_and_of_nothing():
    per_therapist = [{"PEN": Decimal("100.00")}, {"PEN": Decimal("-100.00"), "USD": Decimal("5.00")}]

    assert sum_per_currency(pair for amounts in per_therapist for pair in amounts.items()) == {
        "PEN": Decimal("0.00"),  # a total that cancels out is still the currency's total
        "USD": Decimal("5.00"),
    }
    assert sum_per_currency([]) == {}


@pytest.mark.parametrize(
    ("region", "language", "currency", "shown"),
    [
        ("PE", "es", "PEN", "S/ 1,234.50"),
        ("PE", "es", "USD", "USD 1,234.50"),
        ("CA", "fr", "CAD", "1 234,50 $"),
        ("CA", "en", "CAD", "$1,234.50"),
        ("CA", "en", "USD", "US$1,234.50"),
        ("PE", "en", "CAD", "CA$1,234.50"),  # English, outside Canada: the dollar says whose it is
        ("PE", "en", "PEN", "PEN 1,234.50"),  # a currency without a symbol of its own: its code, apart
        ("PE", "fr", "PEN", "1\u202f234,50 PEN"),  # no French of Peru: French as in France
        ("CA", "es", "CAD", "1.234,50 CAD"),  # no Spanish of Canada: Spanish alone
        ("PE", "es", "JPY", "JPY 1,235"),  # no minor unit, rounded half-up
        ("", "en", "USD", "$1,234.50"),
    ],
)
def test_an_amount_reads_as_a_reader_of_the_language_in_the_region_expects(region, language, currency, shown):
    with practice(region).app_context():
        assert format_money(Decimal("1234.5"), currency, language) == shown.replace(" ", NBSP)


def test_formatting_rounds_half_up_first():
    with practice("PE").app_context():
        assert format_money(Decimal("0.005"), "PEN", "es") == f"S/{NBSP}0.01"
        assert format_money(Decimal("-12.5"), "PEN", "es") == f"-S/{NBSP}12.50"


def test_without_a_language_the_readers_own_is_used():
    app = practice("CA", language="en")
    with app.test_request_context():
        assert format_money(Decimal("1234.5"), "CAD") == "$1,234.50"
    Babel(app, locale_selector=lambda: "fr")
    with app.test_request_context():
        assert format_money(Decimal("1234.5"), "CAD") == f"1{NBSP}234,50{NBSP}$"


def test_the_money_filter_of_templates():
    app = practice("PE")
    with app.test_request_context():
        shown = render_template_string(
            "{{ fee|money('PEN') }}|{{ none|money('PEN') }}|{{ fee|money('CAD', 'fr') }}", fee=Decimal("71670")
        )
    assert shown == f"S/{NBSP}71,670.00|—|71\u202f670,00{NBSP}$CA"  # France groups with a narrow space
