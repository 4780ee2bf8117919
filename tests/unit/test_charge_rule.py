"""The charge of one participant (DESIGN.md, "Charges"), figured by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from admin_app.models import Attendance, BilledTo, Participant
from admin_app.services.billing.charges import Charge, charge_of


def participant(attendance, fee="101.01", currency="PEN", payer_id=None):
    billed_to = BilledTo.PAYER if payer_id else BilledTo.CLIENT
    return Participant(
        attendance=attendance, fee=Decimal(fee), currency=currency, billed_to=billed_to, payer_id=payer_id
    )


def test_attended_is_the_fee_billed_to_its_bill_to():
    assert charge_of(participant(Attendance.ATTENDED, payer_id=7), Decimal(50)) == Charge(
        Decimal("101.01"), "PEN", BilledTo.PAYER, 7
    )
    assert charge_of(participant(Attendance.ATTENDED, fee="0.00"), Decimal(0)) == Charge(
        Decimal("0.00"), "PEN", BilledTo.CLIENT, None
    )


@pytest.mark.parametrize("attendance", [Attendance.NO_SHOW, Attendance.LATE_CANCELLED])
def test_a_missed_session_is_the_percent_rounded_half_up_billed_to_the_client(attendance):
    # 101.01 x 50 % = 50.505 → 50.51; 1234 JPY x 12.5 % = 154.25 → 154
    assert charge_of(participant(attendance, payer_id=7), Decimal(50)) == Charge(
        Decimal("50.51"), "PEN", BilledTo.CLIENT, None
    )
    assert charge_of(participant(attendance, fee="1234", currency="JPY"), Decimal("12.5")) == Charge(
        Decimal("154"), "JPY", BilledTo.CLIENT, None
    )


@pytest.mark.parametrize(
    ("attendance", "fee", "percent"),
    [
        (Attendance.NO_SHOW, "101.01", "0"),
        (Attendance.LATE_CANCELLED, "0.00", "50"),
        (Attendance.NO_SHOW, "0.01", "49.99"),  # 0.004999 → 0.00
        (Attendance.CANCELLED, "101.01", "100"),
        (Attendance.EXPECTED, "101.01", "100"),
    ],
)
def test_nothing_is_charged(attendance, fee, percent):
    assert charge_of(participant(attendance, fee=fee), Decimal(percent)) is None
