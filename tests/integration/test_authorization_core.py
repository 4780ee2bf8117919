"""Smoke test of the authorization rule through the booking service (the full cases: test_authorizations)."""

from __future__ import annotations

import datetime as dt

import pytest

from admin_app.extensions import db
from admin_app.models import Attendance, BilledTo
from admin_app.services.billing import authorizations, linking
from admin_app.services.platform.errors import RuleViolation
from tests.factories import book, make_authorization, make_client, make_payer, make_therapist, pays_for


def test_booking_links_counts_and_refuses(app, clock):
    clock.set("2026-10-01T12:00Z")
    therapist = make_therapist()
    client = make_client(therapist)
    payer = make_payer(refuses_over_approved=True)
    pays_for(client, payer)
    first = make_authorization(client, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    done = book(therapist, [client], dt.datetime(2026, 10, 2, 10), attendance=Attendance.ATTENDED)
    assert done.participants[0].billed_to == BilledTo.PAYER
    assert done.participants[0].authorization_id == first.id
    soon = book(therapist, [client], dt.datetime(2026, 10, 9, 10), attendance=Attendance.EXPECTED)
    notices = linking.booking_notices(db.session, [soon])
    assert notices == []
    [row] = authorizations.authorization_rows(db.session, client_id=client.id)
    assert (row.counts.used, row.counts.scheduled, row.remaining) == (1, 1, 0)
    assert row.status == authorizations.AuthorizationStatus.LOW
    with pytest.raises(RuleViolation) as refused:
        book(therapist, [client], dt.datetime(2026, 10, 16, 10), attendance=Attendance.EXPECTED)
    assert "2 sessions approved, 3 booked or used" in str(refused.value)
