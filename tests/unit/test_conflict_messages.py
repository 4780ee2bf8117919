"""What the staff read when a booking clashes (services.scheduling.conflicts.Conflict): no database, no HTTP."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from admin_app.services.scheduling.conflicts import Conflict, ConflictKind

LIMA = ZoneInfo("America/Lima")


pytestmark = pytest.mark.usefixtures("practice")


def conflict(kind: ConflictKind, starts_at: dt.datetime, minutes: int = 50) -> Conflict:
    return Conflict(
        kind=kind,
        appointment_id=7,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        therapist_name="Rosa Mendoza",
        room_name="Sede Miraflores · Consultorio 1",
        client_name="Ana Quispe" if kind == ConflictKind.CLIENT else None,
    )


def test_each_kind_names_the_other_appointment():
    ten = dt.datetime(2026, 10, 5, 10, 0, tzinfo=LIMA)

    assert [str(conflict(kind, ten).message) for kind in ConflictKind] == [
        "Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist).",
        "Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 in room Sede Miraflores · Consultorio 1.",
        "Ana Quispe already has an appointment on 2026-10-05 10:00–10:50 with Rosa Mendoza.",
    ]


def test_an_appointment_past_midnight_shows_the_date_it_ends():
    late = conflict(ConflictKind.THERAPIST, dt.datetime(2026, 10, 5, 23, 30, tzinfo=LIMA), minutes=60)

    assert late.when == "2026-10-05 23:30–2026-10-06 00:30"
