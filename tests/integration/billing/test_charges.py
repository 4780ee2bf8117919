"""Charges (DESIGN.md, "Money after the session"): what each participant owes and who is billed.

Ana Ruiz's sessions with Lucía Torres in October 2026 (Lima), figured by hand:
- 6 Oct, attended, billed to Rímac (a payer), fee 120.00 PEN → 120.00 to Rímac;
- 7 Oct, no-show, billed to Rímac, fee 101.01 PEN → at 50 %: 50.505 → 50.51 to Ana (never Rímac);
- 8 Oct, late-cancelled, fee 80.00 PEN → at 50 %: 40.00 to Ana;
- 9 Oct, cancelled in time, fee 150.00; 10 Oct, expected, fee 150.00 → nothing;
- 12 Oct, attended, fee 100.00 USD → 100.00 USD to Ana;
- 13 Oct, attended, a free session (fee 0.00 PEN) → a 0.00 line to Ana.
At 50 %: PEN 120.00 + 50.51 + 40.00 + 0.00 = 210.51, USD 100.00. At 0 %: PEN 120.00 + 0.00, USD 100.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from admin_app.extensions import db
from admin_app.models import Attendance, BilledTo, Participant
from admin_app.services.billing.charges import (
    Charge,
    charge_lines,
    charge_of,
    charge_totals,
    missed_session_percent,
)
from tests.factories import book, make_client, make_payer, make_therapist
from tests.queries import counted_queries

HALF = Decimal("50")
NONE = Decimal("0")


@pytest.fixture
def october(app):
    therapist = make_therapist(full_name="Lucía Torres")
    ana = make_client(therapist, full_name="Ana Ruiz")
    rimac = make_payer("Rímac")

    def on(day, fee, attendance, currency="PEN", payer=None):
        start = dt.datetime(2026, 10, day, 10, 0)
        return book(therapist, [ana], start, fee=fee, currency=currency, attendance=attendance, payer=payer)

    on(6, "120.00", Attendance.ATTENDED, payer=rimac)
    on(7, "101.01", Attendance.NO_SHOW, payer=rimac)
    on(8, "80.00", Attendance.LATE_CANCELLED)
    on(9, "150.00", Attendance.CANCELLED)
    on(10, "150.00", Attendance.EXPECTED)
    on(12, "100.00", Attendance.ATTENDED, currency="USD")
    on(13, "0.00", Attendance.ATTENDED)
    db.session.flush()
    return therapist, ana, rimac


def as_seen(lines):
    return [(line.date_of_service.day, line.amount, line.currency, line.billed_to, line.payer_id) for line in lines]


def test_at_half_a_missed_session_is_half_the_fee_rounded_half_up_billed_to_the_client(october):
    _therapist, ana, rimac = october

    lines = charge_lines(db.session, HALF, since=dt.date(2026, 10, 1), until=dt.date(2026, 10, 31))

    assert as_seen(lines) == [
        (6, Decimal("120.00"), "PEN", BilledTo.PAYER, rimac.id),
        (7, Decimal("50.51"), "PEN", BilledTo.CLIENT, None),
        (8, Decimal("40.00"), "PEN", BilledTo.CLIENT, None),
        (12, Decimal("100.00"), "USD", BilledTo.CLIENT, None),
        (13, Decimal("0.00"), "PEN", BilledTo.CLIENT, None),
    ]
    assert {line.client_id for line in lines} == {ana.id}
    assert charge_totals(db.session, HALF) == {"PEN": Decimal("210.51"), "USD": Decimal("100.00")}


def test_at_zero_percent_a_missed_session_gives_no_charge(october):
    assert [line.date_of_service.day for line in charge_lines(db.session, NONE)] == [6, 12, 13]
    assert charge_totals(db.session, NONE) == {"PEN": Decimal("120.00"), "USD": Decimal("100.00")}


def test_a_payer_is_billed_only_for_attended_sessions_and_the_filters_narrow_the_charges(october):
    therapist, ana, rimac = october

    assert as_seen(charge_lines(db.session, HALF, payer_id=rimac.id)) == [
        (6, Decimal("120.00"), "PEN", BilledTo.PAYER, rimac.id)
    ]
    assert charge_totals(db.session, HALF, billed_to=BilledTo.CLIENT) == {
        "PEN": Decimal("90.51"),
        "USD": Decimal("100.00"),
    }
    assert [line.date_of_service.day for line in charge_lines(db.session, HALF, since=dt.date(2026, 10, 8))] == [
        8,
        12,
        13,
    ]
    assert charge_lines(db.session, HALF, therapist_id=therapist.id + 1000) == []
    assert len(charge_lines(db.session, HALF, client_id=ana.id, until=dt.date(2026, 10, 7))) == 2


def test_the_python_rule_and_the_sql_agree_and_the_list_is_one_query(october):
    participants = db.session.query(Participant).all()
    for percent in (NONE, HALF, Decimal("33.33"), Decimal("100")):
        expected = {p.id: charge for p in participants if (charge := charge_of(p, percent)) is not None}
        with counted_queries() as statements:
            lines = charge_lines(db.session, percent)
        assert len(statements) == 1
        assert {
            line.participant_id: Charge(line.amount, line.currency, line.billed_to, line.payer_id) for line in lines
        } == expected


def test_the_percent_is_the_practices_setting(app, monkeypatch):
    assert missed_session_percent() == Decimal("0")
    monkeypatch.setitem(app.config, "MISSED_SESSION_FEE_PERCENT", Decimal("12.5"))
    assert missed_session_percent() == Decimal("12.5")


@pytest.mark.parametrize("zone", ["America/Lima", "America/Vancouver"])
def test_a_session_at_half_past_eleven_on_the_last_evening_belongs_to_that_month(app, monkeypatch, zone):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", zone)
    therapist = make_therapist()
    client = make_client(therapist)
    book(therapist, [client], dt.datetime(2026, 10, 31, 23, 30), fee="90.00", currency="USD")

    october = charge_lines(db.session, NONE, since=dt.date(2026, 10, 1), until=dt.date(2026, 10, 31))
    november = charge_lines(db.session, NONE, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 30))

    assert [(line.date_of_service, line.amount) for line in october] == [(dt.date(2026, 10, 31), Decimal("90.00"))]
    assert november == []
    assert charge_totals(db.session, NONE, since=dt.date(2026, 11, 1)) == {}


def test_a_currency_without_cents_is_rounded_to_whole_units_in_sql_too(app, monkeypatch):
    # 1234 JPY x 12.5 % = 154.25 → 154; 99999.99 PEN x 100 % stays 99999.99 (no overflow in cents)
    monkeypatch.setitem(app.config, "CURRENCIES", ("PEN", "USD", "JPY"))
    therapist = make_therapist()
    client = make_client(therapist)
    book(therapist, [client], dt.datetime(2026, 10, 5, 10), fee="1234", currency="JPY", attendance=Attendance.NO_SHOW)
    book(therapist, [client], dt.datetime(2026, 10, 6, 10), fee="99999.99", attendance=Attendance.NO_SHOW)

    assert charge_totals(db.session, Decimal("12.5")) == {"JPY": Decimal("154.00"), "PEN": Decimal("12500.00")}
    assert charge_totals(db.session, Decimal("100")) == {"JPY": Decimal("1234.00"), "PEN": Decimal("99999.99")}
