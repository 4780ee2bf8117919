"""The authorization rule (DESIGN.md, "Money after the session") through every write path, by
hand-computed counts read back with `authorization_rows`, as the staff would read the list.

The practice is in Lima (UTC-5, no daylight saving) unless a test says otherwise; "now" is set by
each test so that bookings before it are past and the ones after it still expected.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    Attendance,
    BilledTo,
    CancelledBy,
    Client,
    Modality,
    Participant,
    Therapist,
)
from admin_app.services.billing import linking
from admin_app.services.billing.authorizations import AuthorizationStatus, authorization_rows
from admin_app.services.platform.clinic_time import from_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.scheduling.rules import record_attendance, save_appointment
from admin_app.services.scheduling.series import cancel_occurrences, create_series, move_occurrences, plan_series
from tests.conftest import make_app
from tests.factories import book, make_authorization, make_client, make_payer, make_therapist, pays_for
from tests.queries import counted_queries

EXPECTED = Attendance.EXPECTED


@pytest.fixture
def rosa(app, clock):
    clock.set("2026-10-01T12:00Z")  # Thursday 1 October, 07:00 in Lima
    return make_therapist(full_name="Rosa Mendoza")


@pytest.fixture
def ana(rosa):
    return make_client(rosa, full_name="Ana Quispe")


def figures(client) -> dict[str, tuple[int, int, int]]:
    """(scheduled, used, remaining) of each of the client's authorizations, by reference."""
    return {
        row.reference: (row.counts.scheduled, row.counts.used, row.remaining)
        for row in authorization_rows(db.session, client_id=client.id)
    }


def weekly(therapist, client, first: dt.datetime, occurrences: int):
    """A weekly virtual series, created through the series service as the series screen does."""
    plan = plan_series(
        db.session,
        therapist_id=therapist.id,
        client_ids=[client.id],
        first_start_local=first,
        duration_minutes=50,
        interval_weeks=1,
        occurrences=occurrences,
        modality=Modality.VIRTUAL,
        kind=AppointmentKind.INDIVIDUAL,
    )
    return create_series(db.session, plan=plan, skip_conflicting=False)


def linked_to(appointments) -> list[str | None]:
    """The reference each appointment's participant is linked to, in order of start."""
    ordered = sorted(appointments, key=lambda appointment: appointment.starts_at)
    return [
        participant.authorization.reference if participant.authorization else None
        for appointment in ordered
        for participant in appointment.participants
    ]


def texts(notices) -> list[str]:
    return [notice.text for notice in notices]


def test_a_series_that_crosses_the_approved_count_halfway_warns_naming_the_authorization(rosa, ana):
    """Approved 4; a weekly series of 8 from Monday 5 October. The first 4 take the 4 sessions;
    none is left for the next 4, which go to the same authorization anyway (the earliest
    valid_until) and over it: scheduled 8, used 0, remaining 4 - 0 - 8 = -4."""
    payer = make_payer("Pacífico Seguros")
    pays_for(ana, payer)
    make_authorization(ana, payer, 4, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="PS-1")

    series = weekly(rosa, ana, dt.datetime(2026, 10, 5, 10), 8)

    assert linked_to(series.appointments) == ["PS-1"] * 8
    assert all(p.billed_to == BilledTo.PAYER for a in series.appointments for p in a.participants)
    assert figures(ana) == {"PS-1": (8, 0, -4)}
    [notice] = linking.booking_notices(db.session, series.appointments)
    assert not notice.refused
    assert notice.text == (
        "Authorization Pacífico Seguros PS-1 (Ana Quispe): 4 sessions approved, 8 booked or used: "
        "4 beyond what is approved."
    )


def test_the_same_series_is_refused_for_a_payer_that_refuses_and_nothing_is_written(rosa, ana):
    """Approved 4, the payer refuses bookings beyond it: the 5th date would make 5 booked of 4
    approved, so the series is refused with that count and, rolled back, nothing of it stays:
    scheduled 0, remaining 4."""
    payer = make_payer("WorkSafeBC", refuses_over_approved=True)
    pays_for(ana, payer)
    make_authorization(ana, payer, 4, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="WS-7")
    db.session.commit()

    with pytest.raises(RuleViolation) as refused:
        weekly(rosa, ana, dt.datetime(2026, 10, 5, 10), 8)
    db.session.rollback()

    assert str(refused.value) == (
        "This payer does not accept sessions beyond what it approved (session of 2026-11-02). "
        "Authorization WorkSafeBC WS-7 "
        "(Ana Quispe): 4 sessions approved, 5 booked or used: 1 beyond what is approved."
    )
    assert refused.value.field == "authorization"
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
    assert db.session.scalar(select(func.count()).select_from(AppointmentSeries)) == 0
    assert figures(ana) == {"WS-7": (0, 0, 4)}


def test_two_overlapping_authorizations_from_two_payers_each_count_their_own_participants(rosa, ana, clock):
    """ICBC approved 3 and WorkSafeBC approved 2, both covering October. Now is 15 October.
    ICBC: 5 Oct attended, 19 Oct expected -> used 1, scheduled 1, remaining 3 - 1 - 1 = 1.
    WorkSafeBC: 6 Oct attended -> used 1, scheduled 0, remaining 2 - 1 - 0 = 1.
    A session Ana pays herself (21 Oct) is linked to neither."""
    icbc, worksafe = make_payer("ICBC"), make_payer("WorkSafeBC")
    make_authorization(ana, icbc, 3, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="IC-1")
    make_authorization(ana, worksafe, 2, dt.date(2026, 10, 1), dt.date(2026, 11, 30), reference="WS-1")
    clock.set("2026-10-15T12:00Z")

    first = book(rosa, [ana], dt.datetime(2026, 10, 5, 10), payer=icbc)
    second = book(rosa, [ana], dt.datetime(2026, 10, 6, 10), payer=worksafe)
    third = book(rosa, [ana], dt.datetime(2026, 10, 19, 10), payer=icbc, attendance=EXPECTED)
    own = book(rosa, [ana], dt.datetime(2026, 10, 21, 10), attendance=EXPECTED)

    assert linked_to([first, second, third, own]) == ["IC-1", "WS-1", "IC-1", None]
    assert own.participants[0].billed_to == BilledTo.CLIENT
    assert figures(ana) == {"IC-1": (1, 1, 1), "WS-1": (0, 1, 1)}


def test_two_authorizations_from_one_payer_fill_the_earliest_valid_until_first(rosa, ana):
    """SHORT (approved 2, until 31 Oct) and LONG (approved 2, until 31 Dec) both cover October.
    5 and 12 Oct fill SHORT (earliest valid_until, 2 -> 0 left); 19 and 26 Oct go to LONG (2 -> 0);
    28 Oct finds no room in either and goes to the earliest valid_until anyway: SHORT, 2 - 3 = -1.
    A 2 November session only LONG covers: LONG 2 - 3 = -1."""
    payer = make_payer("Pacífico Seguros")
    pays_for(ana, payer)
    make_authorization(ana, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="LONG")
    make_authorization(ana, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="SHORT")

    days = [(10, 5), (10, 12), (10, 19), (10, 26), (10, 28)]
    october = [book(rosa, [ana], dt.datetime(2026, month, day, 10), attendance=EXPECTED) for month, day in days]
    assert linked_to(october) == ["SHORT", "SHORT", "LONG", "LONG", "SHORT"]
    assert figures(ana) == {"SHORT": (3, 0, -1), "LONG": (2, 0, 0)}

    november = book(rosa, [ana], dt.datetime(2026, 11, 2, 10), attendance=EXPECTED)
    assert linked_to([november]) == ["LONG"]
    assert figures(ana) == {"SHORT": (3, 0, -1), "LONG": (3, 0, -1)}


def test_sessions_after_the_old_valid_until_go_to_the_chained_extension(rosa, ana):
    """OLD: approved 3, 1-31 October. NEW extends it: approved 5, 1 November - 31 December (no
    overlap). A weekly series of 6 from 12 October: 12, 19, 26 Oct -> OLD (3 - 3 = 0 left);
    2, 9, 16 Nov -> NEW (5 - 3 = 2 left). No notice: neither is over."""
    payer = make_payer("ICBC")
    pays_for(ana, payer)
    old = make_authorization(ana, payer, 3, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="OLD")
    make_authorization(ana, payer, 5, dt.date(2026, 11, 1), dt.date(2026, 12, 31), reference="NEW", extends=old)

    series = weekly(rosa, ana, dt.datetime(2026, 10, 12, 10), 6)

    assert linked_to(series.appointments) == ["OLD"] * 3 + ["NEW"] * 3
    assert figures(ana) == {"OLD": (3, 0, 0), "NEW": (3, 0, 2)}
    assert linking.booking_notices(db.session, series.appointments) == []


def test_an_extension_recorded_after_the_booking_takes_the_sessions_waiting_for_it(rosa, ana):
    """OLD (approved 3, October) is the only one when a weekly series of 5 from 19 October is
    booked: 19, 26 Oct -> OLD; 2, 9, 16 Nov are covered by nothing (three notices). The extension
    (approved 2, 1 Nov - 31 Dec) is then recorded: the rule links the waiting sessions in order of
    start, 2 and 9 Nov -> NEW (2 - 2 = 0), and 16 Nov to NEW anyway (none left: 2 - 3 = -1)."""
    payer = make_payer("ICBC")
    pays_for(ana, payer)
    old = make_authorization(ana, payer, 3, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="OLD")
    series = weekly(rosa, ana, dt.datetime(2026, 10, 19, 10), 5)
    assert linked_to(series.appointments) == ["OLD", "OLD", None, None, None]
    assert texts(linking.booking_notices(db.session, series.appointments)) == [
        "No open authorization from ICBC covers 2026-11-02, 2026-11-09, 2026-11-16 for Ana Quispe."
    ]

    new = make_authorization(ana, payer, 2, dt.date(2026, 11, 1), dt.date(2026, 12, 31), reference="NEW", extends=old)
    linking.link_waiting(db.session, {(new.client_id, new.payer_id)})

    assert linked_to(series.appointments) == ["OLD", "OLD", "NEW", "NEW", "NEW"]
    assert figures(ana) == {"OLD": (2, 0, 1), "NEW": (3, 0, -1)}


@pytest.mark.parametrize(
    ("counts_missed", "expected"),
    [
        # used 1 (5 Oct attended), scheduled 1 (19 Oct): 5 - 1 - 1 = 3; the missed ones use nothing
        (False, (1, 1, 3)),
        # the payer counts missed sessions: used 3 (attended, no-show, late-cancelled), 5 - 3 - 1 = 1
        (True, (1, 3, 1)),
    ],
)
def test_a_missed_session_uses_one_only_for_a_payer_that_counts_missed_sessions(
    rosa, ana, clock, counts_missed, expected
):
    """Approved 5; now is 15 October. 5 Oct attended; 8 Oct recorded as a no-show and 9 Oct as
    late-cancelled (both booked, then their attendance recorded); 19 Oct expected."""
    payer = make_payer("Pacífico Seguros", counts_missed_sessions=counts_missed)
    pays_for(ana, payer)
    make_authorization(ana, payer, 5, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="PS-1")
    clock.set("2026-10-15T12:00Z")
    book(rosa, [ana], dt.datetime(2026, 10, 5, 10))
    no_show = book(rosa, [ana], dt.datetime(2026, 10, 8, 10), attendance=EXPECTED)
    late = book(rosa, [ana], dt.datetime(2026, 10, 9, 10), attendance=EXPECTED)
    book(rosa, [ana], dt.datetime(2026, 10, 19, 10), attendance=EXPECTED)

    record_attendance(db.session, participant=no_show.participants[0], attendance=Attendance.NO_SHOW)
    record_attendance(db.session, participant=late.participants[0], attendance=Attendance.LATE_CANCELLED)

    assert linked_to([no_show, late]) == ["PS-1", "PS-1"]
    assert figures(ana) == {"PS-1": expected}


def test_a_session_cancelled_after_booking_gives_its_slot_back_even_for_a_refusing_payer(rosa, ana):
    """Approved 2, the payer refuses beyond. A weekly series of 2 (19, 26 Oct) takes both: 0 left,
    and a third booking (2 Nov) is refused (3 of 2). Cancelling 19 Oct (series screen) gives it back:
    scheduled 1, remaining 1; the 2 Nov booking then takes it (0 left). Cancelling 26 Oct on the
    participant's attendance gives that one back too: remaining 1."""
    payer = make_payer("WorkSafeBC", refuses_over_approved=True)
    pays_for(ana, payer)
    make_authorization(ana, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="WS-1")
    series = weekly(rosa, ana, dt.datetime(2026, 10, 19, 10), 2)
    db.session.commit()
    first, second = sorted(series.appointments, key=lambda appointment: appointment.starts_at)
    assert figures(ana) == {"WS-1": (2, 0, 0)}
    with pytest.raises(RuleViolation, match="2 sessions approved, 3 booked or used"):
        book(rosa, [ana], dt.datetime(2026, 11, 2, 10), attendance=EXPECTED)
    db.session.rollback()

    cancel_occurrences(
        db.session, appointment=first, and_following=False, cancelled_by=CancelledBy.CLIENT, reason="Travelling"
    )
    assert figures(ana) == {"WS-1": (1, 0, 1)}
    later = book(rosa, [ana], dt.datetime(2026, 11, 2, 10), attendance=EXPECTED)
    assert linked_to([later]) == ["WS-1"]
    assert figures(ana) == {"WS-1": (2, 0, 0)}

    record_attendance(
        db.session,
        participant=second.participants[0],
        attendance=Attendance.CANCELLED,
        cancelled_by=CancelledBy.PRACTICE,
        reason="Therapist ill",
    )
    assert figures(ana) == {"WS-1": (1, 0, 1)}


def test_moving_an_occurrence_past_valid_until_relinks_it_to_the_extension(rosa, ana):
    """OLD (approved 5, October) and NEW extending it (approved 5, November-December). A weekly
    series of 3 from 19 October: 19, 26 Oct -> OLD, 2 Nov -> NEW. Moving 26 Oct to Wednesday 4 Nov
    relinks it: OLD 5 - 1 = 4 left, NEW 5 - 2 = 3 left."""
    payer = make_payer("ICBC")
    pays_for(ana, payer)
    old = make_authorization(ana, payer, 5, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="OLD")
    make_authorization(ana, payer, 5, dt.date(2026, 11, 1), dt.date(2026, 12, 31), reference="NEW", extends=old)
    series = weekly(rosa, ana, dt.datetime(2026, 10, 19, 10), 3)
    second = sorted(series.appointments, key=lambda appointment: appointment.starts_at)[1]

    move_occurrences(db.session, appointment=second, new_start_local=dt.datetime(2026, 11, 4, 10), and_following=False)

    assert linked_to(series.appointments) == ["OLD", "NEW", "NEW"]
    assert figures(ana) == {"OLD": (1, 0, 4), "NEW": (2, 0, 3)}


def test_moving_an_occurrence_past_valid_until_with_no_extension_leaves_it_uncovered(rosa, ana):
    """Approved 5, October only. A weekly series of 2 from 19 October; moving 26 Oct to 4 Nov
    unlinks it (scheduled 1, 5 - 1 = 4 left) and the notice says no authorization covers 4 Nov."""
    payer = make_payer("ICBC")
    pays_for(ana, payer)
    make_authorization(ana, payer, 5, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="OCT")
    series = weekly(rosa, ana, dt.datetime(2026, 10, 19, 10), 2)
    second = sorted(series.appointments, key=lambda appointment: appointment.starts_at)[1]

    move_occurrences(db.session, appointment=second, new_start_local=dt.datetime(2026, 11, 4, 10), and_following=False)

    assert linked_to(series.appointments) == ["OCT", None]
    assert figures(ana) == {"OCT": (1, 0, 4)}
    assert texts(linking.booking_notices(db.session, [second])) == [
        "No open authorization from ICBC covers 2026-11-04 for Ana Quispe."
    ]


def test_moving_a_session_of_a_full_authorization_within_its_dates_is_no_new_booking(rosa, ana):
    """Approved 2, the payer refuses beyond; a weekly series of 2 (19, 26 Oct) takes both. Moving
    26 Oct to 28 Oct picks again without counting the moved session itself: 2 - 1 = 1 room, so it
    stays on WS-2 (scheduled 2, 0 left) and nothing is refused."""
    payer = make_payer("WorkSafeBC", refuses_over_approved=True)
    pays_for(ana, payer)
    make_authorization(ana, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="WS-2")
    series = weekly(rosa, ana, dt.datetime(2026, 10, 19, 10), 2)
    second = sorted(series.appointments, key=lambda appointment: appointment.starts_at)[1]

    moved = move_occurrences(
        db.session, appointment=second, new_start_local=dt.datetime(2026, 10, 28, 10), and_following=False
    )

    assert moved == 1
    assert linked_to(series.appointments) == ["WS-2", "WS-2"]
    assert figures(ana) == {"WS-2": (2, 0, 0)}


def test_expiry_follows_the_clinic_date_in_vancouver(app, database_url, clock):
    """Valid 1-30 October in Vancouver (UTC-7 in October). A session at 23:30 local on 30 October
    (already 31 October 06:30 in UTC) is covered: 1 scheduled, 10 - 1 = 9 left; one at 00:30 on 31
    October is not. At 23:45 local on the 30th (31 Oct 06:45 UTC) the status is low (0 days to
    valid_until); at 00:05 local on the 31st (07:05 UTC) it is expired."""
    clock.set("2026-10-20T19:00Z")
    vancouver = make_app(database_url, CLINIC_TIMEZONE="America/Vancouver")
    with vancouver.app_context():
        therapist = make_therapist(full_name="Mei Chen")
        client = make_client(therapist, full_name="Liam Walker")
        payer = make_payer("ICBC", refuses_over_approved=True)
        pays_for(client, payer)
        make_authorization(client, payer, 10, dt.date(2026, 10, 1), dt.date(2026, 10, 30), reference="IC-30")
        late = book(therapist, [client], dt.datetime(2026, 10, 30, 23, 30), attendance=EXPECTED)
        db.session.commit()

        assert late.starts_at == dt.datetime(2026, 10, 31, 6, 30, tzinfo=dt.UTC)
        assert linked_to([late]) == ["IC-30"]
        with pytest.raises(RuleViolation, match="No open authorization from ICBC covers 2026-10-31 for Liam Walker"):
            book(therapist, [client], dt.datetime(2026, 10, 31, 0, 30), attendance=EXPECTED)
        db.session.rollback()

        clock.set("2026-10-31T06:45Z")
        [row] = authorization_rows(db.session, client_id=client.id)
        assert (row.counts.scheduled, row.remaining, row.status) == (1, 9, AuthorizationStatus.LOW)
        clock.set("2026-10-31T07:05Z")
        [row] = authorization_rows(db.session, client_id=client.id)
        assert row.status == AuthorizationStatus.EXPIRED


def test_a_staff_choice_is_kept_on_later_edits(rosa, ana, clock):
    """SHORT (until 31 Oct) is what the rule picks for 19 October; the staff choose LONG instead.
    Moving the appointment to 20 October and recording it attended keep LONG (SHORT 2 left,
    LONG used 1, 2 - 1 = 1 left). Handing the choice back to the rule picks SHORT again."""
    payer = make_payer("Pacífico Seguros")
    pays_for(ana, payer)
    long = make_authorization(ana, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="LONG")
    make_authorization(ana, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="SHORT")
    appointment = book(rosa, [ana], dt.datetime(2026, 10, 19, 10), attendance=EXPECTED)
    assert linked_to([appointment]) == ["SHORT"]

    [participant] = appointment.participants
    participant.authorization, participant.authorization_chosen = long, True
    save_appointment(db.session, appointment=appointment)
    move_occurrences(
        db.session, appointment=appointment, new_start_local=dt.datetime(2026, 10, 20, 10), and_following=False
    )
    clock.set("2026-10-21T12:00Z")
    record_attendance(db.session, participant=participant, attendance=Attendance.ATTENDED)

    assert linked_to([appointment]) == ["LONG"]
    assert figures(ana) == {"SHORT": (0, 0, 2), "LONG": (0, 1, 1)}

    participant.authorization_chosen = False
    save_appointment(db.session, appointment=appointment)
    assert linked_to([appointment]) == ["SHORT"]
    assert figures(ana) == {"SHORT": (0, 1, 1), "LONG": (0, 0, 2)}


def test_a_staff_choice_made_at_booking_is_kept(rosa, ana):
    """The rule would pick SHORT (earliest valid_until) for 19 October; the booking form chose
    LONG: LONG 2 - 1 = 1 left, SHORT untouched (2 left)."""
    payer = make_payer("Pacífico Seguros")
    pays_for(ana, payer)
    long = make_authorization(ana, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="LONG")
    make_authorization(ana, payer, 2, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="SHORT")
    starts_at = from_local(dt.datetime(2026, 10, 19, 10))
    appointment = Appointment(
        therapist=rosa,
        starts_at=starts_at,
        modality=Modality.VIRTUAL,
        participants=[Participant(client=ana, attendance=EXPECTED, authorization=long, authorization_chosen=True)],
    )

    save_appointment(db.session, appointment=appointment)

    assert linked_to([appointment]) == ["LONG"]
    assert figures(ana) == {"SHORT": (0, 0, 2), "LONG": (1, 0, 1)}


def test_a_staff_choice_of_another_clients_authorization_is_refused(rosa, ana):
    """Ana's booking linked to Luis's authorization: refused naming the field; rolled back, Ana's
    participant is still on her own authorization (1 scheduled, 3 left) and Luis's untouched."""
    payer = make_payer("Pacífico Seguros")
    luis = make_client(rosa, full_name="Luis Rojas")
    pays_for(ana, payer)
    make_authorization(ana, payer, 4, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="ANA-1")
    theirs = make_authorization(luis, payer, 4, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="LUIS-1")
    appointment = book(rosa, [ana], dt.datetime(2026, 10, 19, 10), attendance=EXPECTED)
    db.session.commit()

    [participant] = appointment.participants
    participant.authorization, participant.authorization_chosen = theirs, True
    with pytest.raises(RuleViolation) as refused:
        save_appointment(db.session, appointment=appointment)
    db.session.rollback()

    assert str(refused.value) == (
        "Authorization: Pacífico Seguros LUIS-1 is not an authorization of this client from this payer"
    )
    assert refused.value.field == "authorization"
    assert linked_to([appointment]) == ["ANA-1"]
    assert figures(ana) == {"ANA-1": (1, 0, 3)}
    assert figures(luis) == {"LUIS-1": (0, 0, 4)}


def test_editing_the_notes_of_an_old_appointment_never_relinks_or_refuses(rosa, ana, clock):
    """Booked while the payer only warned: 21 and 28 Sep (before valid_from, covered by nothing),
    5 and 6 Oct (approved 1: 2 used, 1 - 2 = -1). The payer then refuses beyond, and SEP (approved
    1, 25-30 Sep) is recorded. Editing the notes of each old appointment neither refuses nor moves
    a link: 21 and 28 Sep still on nothing, OCT still used 2 (-1), SEP untouched (1 left)."""
    payer = make_payer("Pacífico Seguros")
    pays_for(ana, payer)
    make_authorization(ana, payer, 1, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="OCT")
    clock.set("2026-10-15T12:00Z")
    old = [book(rosa, [ana], dt.datetime(2026, month, day, 10)) for month, day in ((9, 21), (9, 28), (10, 5), (10, 6))]
    payer.refuses_over_approved = True
    make_authorization(ana, payer, 1, dt.date(2026, 9, 25), dt.date(2026, 9, 30), reference="SEP")
    db.session.commit()

    for appointment in old:
        appointment.notes = "Discussed the homework."
        save_appointment(db.session, appointment=appointment)
    db.session.commit()

    assert linked_to(old) == [None, None, "OCT", "OCT"]
    assert figures(ana) == {"SEP": (0, 0, 1), "OCT": (0, 2, -1)}


def test_a_cancelled_session_reopened_is_booked_anew(rosa, ana):
    """Approved 1, the payer refuses beyond. 19 Oct is booked (0 left), then cancelled (1 left),
    and 26 Oct takes the session (0 left). Reopening 19 Oct would make 2 booked of 1: refused, and
    rolled back 19 Oct stays cancelled (scheduled 1, remaining 0)."""
    payer = make_payer("WorkSafeBC", refuses_over_approved=True)
    pays_for(ana, payer)
    make_authorization(ana, payer, 1, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="WS-1")
    first = book(rosa, [ana], dt.datetime(2026, 10, 19, 10), attendance=EXPECTED)
    db.session.commit()
    record_attendance(
        db.session,
        participant=first.participants[0],
        attendance=Attendance.CANCELLED,
        cancelled_by=CancelledBy.CLIENT,
        reason="Sick",
    )
    book(rosa, [ana], dt.datetime(2026, 10, 26, 10), attendance=EXPECTED)
    db.session.commit()
    assert figures(ana) == {"WS-1": (1, 0, 0)}

    participant = db.session.get(Appointment, first.id).participants[0]
    with pytest.raises(RuleViolation, match="1 session approved, 2 booked or used"):
        record_attendance(db.session, participant=participant, attendance=EXPECTED)
    db.session.rollback()

    assert participant.attendance == Attendance.CANCELLED
    assert figures(ana) == {"WS-1": (1, 0, 0)}


def test_correcting_a_no_show_to_attended_records_what_happened_even_beyond_what_is_approved(rosa, ana, clock):
    """Approved 1, the payer refuses beyond and does not count missed sessions; now is 15 October.
    5 Oct was recorded as a no-show, so 8 Oct (attended) took the session. Correcting 5 Oct to
    attended is no booking: it is saved, and the authorization shows it: used 2, 1 - 2 = -1, exhausted."""
    payer = make_payer("WorkSafeBC", refuses_over_approved=True)
    pays_for(ana, payer)
    make_authorization(ana, payer, 1, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="WS-1")
    clock.set("2026-10-15T12:00Z")
    first = book(rosa, [ana], dt.datetime(2026, 10, 5, 10), attendance=Attendance.NO_SHOW)
    book(rosa, [ana], dt.datetime(2026, 10, 8, 10))
    db.session.commit()

    record_attendance(db.session, participant=first.participants[0], attendance=Attendance.ATTENDED)
    db.session.commit()

    assert linked_to([first]) == ["WS-1"]
    [row] = authorization_rows(db.session, client_id=ana.id)
    assert (row.counts.used, row.remaining, row.status) == (2, -1, AuthorizationStatus.EXHAUSTED)
    assert texts(linking.booking_notices(db.session, [first])) == [
        "Authorization WorkSafeBC WS-1 (Ana Quispe): 1 session approved, 2 booked or used: 1 beyond what is approved."
    ]


def test_the_counts_of_a_list_of_authorizations_cost_one_query(rosa, ana):
    """Three clients, each with an authorization and three bookings: one query for the list."""
    payer = make_payer("ICBC")
    clients = [ana, make_client(rosa, full_name="Luis Rojas"), make_client(rosa, full_name="Mia Torres")]
    for hour, client in enumerate(clients, start=9):
        pays_for(client, payer)
        make_authorization(client, payer, 5, dt.date(2026, 10, 1), dt.date(2026, 12, 31))
        for day in (5, 12, 19):
            book(rosa, [client], dt.datetime(2026, 10, day, hour), attendance=EXPECTED)
    db.session.commit()

    with counted_queries() as statements:
        rows = authorization_rows(db.session)

    assert len(statements) == 1
    assert [(row.client, row.counts.scheduled, row.remaining) for row in rows] == [
        ("Ana Quispe", 3, 2),
        ("Luis Rojas", 3, 2),
        ("Mia Torres", 3, 2),
    ]


def test_the_notices_of_a_series_cost_a_few_queries_whatever_its_length(rosa, ana):
    """The notices of a committed weekly series of 12 (approved 10: 2 beyond) read in a fixed
    number of queries, not one per appointment."""
    payer = make_payer("ICBC")
    pays_for(ana, payer)
    make_authorization(ana, payer, 10, dt.date(2026, 10, 1), dt.date(2027, 3, 31), reference="IC-10")
    series = weekly(rosa, ana, dt.datetime(2026, 10, 5, 10), 12)
    db.session.commit()
    appointments = list(series.appointments)

    with counted_queries() as statements:
        notices = linking.booking_notices(db.session, appointments)

    assert texts(notices) == [
        "Authorization ICBC IC-10 (Ana Quispe): 10 sessions approved, 12 booked or used: 2 beyond what is approved."
    ]
    assert len(statements) <= 5


def _book_day_in_own_connection(app, engine, *, therapist_id: int, client_id: int, day: int, start) -> str:
    """One request booking 10:00 on that October day: its own connection and transaction, then commit."""
    with app.app_context(), Session(engine) as session:
        therapist, client = session.get(Therapist, therapist_id), session.get(Client, client_id)
        start.wait()
        appointment = Appointment(
            therapist=therapist,
            starts_at=from_local(dt.datetime(2026, 10, day, 10)),
            modality=Modality.VIRTUAL,
            participants=[Participant(client=client, attendance=EXPECTED)],
        )
        try:
            save_appointment(session, appointment=appointment)
            session.commit()
        except RuleViolation as refusal:
            session.rollback()
            return str(refusal)
        return "booked"


def test_simultaneous_bookings_never_take_a_refusing_payer_beyond_what_it_approved(app, rosa, ana):
    """Approved 3, the payer refuses beyond; 8 requests book 8 different days at the same moment:
    3 are booked (3 scheduled, 0 left) and the 5 others refused, each seeing the 3 already booked."""
    payer = make_payer("WorkSafeBC", refuses_over_approved=True)
    pays_for(ana, payer)
    make_authorization(ana, payer, 3, dt.date(2026, 10, 1), dt.date(2026, 10, 31), reference="WS-3")
    db.session.commit()
    engine = sa.create_engine(db.engine.url, poolclass=NullPool)
    start = threading.Barrier(8, timeout=30)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            book_day = partial(_book_day_in_own_connection, app, engine, therapist_id=rosa.id, client_id=ana.id)
            futures = [pool.submit(book_day, day=day, start=start) for day in range(5, 13)]
            outcomes = [future.result(timeout=60) for future in futures]
    finally:
        engine.dispose()

    assert outcomes.count("booked") == 3
    refusals = [outcome for outcome in outcomes if outcome != "booked"]
    assert len(refusals) == 5
    assert all("3 sessions approved, 4 booked or used: 1 beyond" in refusal for refusal in refusals)
    db.session.expire_all()
    assert figures(ana) == {"WS-3": (3, 0, 0)}


def test_the_booking_form_shows_what_is_left_after_this_booking(rosa, ana):
    """Approved 10 until 31 December, 6 booked: this booking leaves 10 - 6 - 1 = 3. A date after 31
    December is covered by nothing: a refusing payer would refuse it."""
    payer = make_payer("ICBC", refuses_over_approved=True)
    pays_for(ana, payer)
    make_authorization(ana, payer, 10, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="IC-10")
    weekly(rosa, ana, dt.datetime(2026, 10, 5, 10), 6)

    shown = linking.preview(
        db.session, client_id=ana.id, payer_id=payer.id, starts_at=from_local(dt.datetime(2026, 11, 20, 10))
    )
    assert (shown.label, shown.approved, shown.remaining_after, shown.beyond) == ("ICBC IC-10", 10, 3, False)
    assert shown.text == "Authorization ICBC IC-10: 3 of 10 left after this booking (valid until 2026-12-31)."

    later = linking.preview(
        db.session, client_id=ana.id, payer_id=payer.id, starts_at=from_local(dt.datetime(2027, 1, 4, 10))
    )
    assert (later.authorization_id, later.beyond, later.refused) == (None, True, True)
    assert later.text == (
        "No open authorization from ICBC covers 2027-01-04 for Ana Quispe. "
        "ICBC does not accept sessions beyond what it approved: this booking will be refused."
    )
