"""Extensions as services: chained to the one they extend, from the day after it ends, so a session
after the old end uses the extension; refusals say why and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from admin_app.extensions import db
from admin_app.models import Attendance, Authorization
from admin_app.services.billing import extensions
from admin_app.services.platform.errors import RuleViolation
from tests.factories import book, make_authorization, make_client, make_payer, make_therapist, pays_for


@pytest.fixture
def claim(app):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    icbc = make_payer("ICBC")
    pays_for(ana, icbc)
    return make_authorization(
        ana,
        icbc,
        2,
        dt.date(2026, 9, 1),
        dt.date(2026, 10, 31),
        reference="CLAIM-1",
        therapist=rosa,
        rate=Decimal("120.00"),
        currency="PEN",
    )


def test_the_extension_starts_the_day_after_and_takes_the_next_sessions(claim):
    extensions.request_extension(db.session, claim.id, now=dt.datetime(2026, 10, 20, tzinfo=dt.UTC))
    extension = extensions.record_extension(
        db.session, claim.id, reference="CLAIM-2", approved_sessions=6, valid_until=dt.date(2027, 1, 31)
    )

    assert (extension.extends_id, extension.valid_from, extension.valid_until) == (
        claim.id,
        dt.date(2026, 11, 1),
        dt.date(2027, 1, 31),
    )
    assert (extension.client_id, extension.payer_id, extension.therapist_id) == (
        claim.client_id,
        claim.payer_id,
        claim.therapist_id,
    )
    assert (extension.rate, extension.currency) == (Decimal("120.00"), "PEN")
    last_day = book(claim.therapist, [claim.client], dt.datetime(2026, 10, 31, 10), attendance=Attendance.EXPECTED)
    first_day = book(claim.therapist, [claim.client], dt.datetime(2026, 11, 1, 10), attendance=Attendance.EXPECTED)
    assert last_day.participants[0].authorization_id == claim.id
    assert first_day.participants[0].authorization_id == extension.id


def test_refusals_name_the_reason(claim):
    with pytest.raises(RuleViolation, match="it cannot end before that"):
        extensions.record_extension(
            db.session, claim.id, reference="CLAIM-2", approved_sessions=6, valid_until=dt.date(2026, 10, 31)
        )
    with pytest.raises(RuleViolation, match="Approved sessions: at least 1"):
        extensions.record_extension(
            db.session, claim.id, reference="CLAIM-2", approved_sessions=0, valid_until=dt.date(2027, 1, 31)
        )
    with pytest.raises(RuleViolation, match="Reference: ICBC already has an authorization CLAIM-1"):
        extensions.record_extension(
            db.session, claim.id, reference="CLAIM-1", approved_sessions=3, valid_until=dt.date(2027, 1, 31)
        )
    assert db.session.query(Authorization).count() == 1
    extensions.close(db.session, claim.id)
    with pytest.raises(RuleViolation, match="Authorization ICBC CLAIM-1 is closed."):
        extensions.close(db.session, claim.id)
    with pytest.raises(RuleViolation, match="Authorization ICBC CLAIM-1 is closed."):
        extensions.request_extension(db.session, claim.id)


def test_an_inactive_therapist_or_a_rate_in_another_currency_is_refused(claim):
    claim.therapist.active = False
    with pytest.raises(RuleViolation, match="Therapist: Rosa Mendoza is not active"):
        extensions.check_authorization(db.session, claim)
    claim.therapist.active = True
    claim.currency = "EUR"
    with pytest.raises(RuleViolation, match="Currency: EUR is not one of the practice's currencies"):
        extensions.check_authorization(db.session, claim)
