"""The status of an authorization: the first that applies of closed, expired, extension requested,
exhausted, low, active (DESIGN.md, "Money after the session"), with the default thresholds (low at
2 sessions left or 14 days to valid_until). Today is 15 October 2026; 10 sessions approved.

The status is worked out by the database (`status_case`), here an in-memory SQLite one; the
integration tests read it from PostgreSQL too."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from admin_app.services.billing.authorizations import AuthorizationStatus, status_case

TODAY = dt.date(2026, 10, 15)
FAR = dt.date(2026, 12, 31)  # 77 days away: not low by date
S = AuthorizationStatus


@pytest.fixture(autouse=True)
def thresholds(practice_in):
    with practice_in(AUTHORIZATION_LOW_SESSIONS=2, AUTHORIZATION_EXPIRY_DAYS=14):
        yield


@pytest.mark.parametrize(
    ("used", "scheduled", "valid_until", "requested", "closed", "expected"),
    [
        # everything applies at once: closed wins
        (10, 0, dt.date(2026, 10, 14), True, True, S.CLOSED),
        # expired (valid_until yesterday) before extension requested and exhausted
        (10, 0, dt.date(2026, 10, 14), True, False, S.EXPIRED),
        # extension requested before exhausted and low
        (10, 0, FAR, True, False, S.EXTENSION_REQUESTED),
        # exhausted (used 10 >= approved 10) before low (remaining 0)
        (10, 0, FAR, False, False, S.EXHAUSTED),
        # low: remaining 10 - 5 - 3 = 2 <= 2
        (5, 3, FAR, False, False, S.LOW),
        # low: booked beyond what is approved (10 - 2 - 9 = -1) but not all used
        (2, 9, FAR, False, False, S.LOW),
        # low by date: valid_until 29 Oct is 14 days away
        (0, 0, dt.date(2026, 10, 29), False, False, S.LOW),
        # low on valid_until itself (0 days): not expired yet
        (0, 0, TODAY, False, False, S.LOW),
        # active: remaining 10 - 4 - 3 = 3 and valid_until 30 Oct, 15 days away
        (4, 3, dt.date(2026, 10, 30), False, False, S.ACTIVE),
    ],
)
def test_the_first_status_that_applies_wins(used, scheduled, valid_until, requested, closed, expected):
    status = status_case(
        approved=sa.literal(10),
        used=sa.literal(used),
        scheduled=sa.literal(scheduled),
        valid_until=sa.literal(valid_until, sa.Date),
        extension_requested=sa.literal(requested),
        closed=sa.literal(closed),
        today=TODAY,
    )
    with sa.create_engine("sqlite://").connect() as connection:
        assert AuthorizationStatus(connection.scalar(sa.select(status))) == expected
