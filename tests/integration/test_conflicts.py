"""Nobody is booked twice at once: not a therapist, not a room, not a client.

The screens refuse a clash with a message that names the other appointment and write nothing;
back-to-back is fine and cancelled appointments (or cancelled participants) block nothing. Two
bookings of one slot at the same moment cannot both succeed: PostgreSQL's overlap guard (with a
savepoint and a bounded retry) and SQLite's write lock, each tested with real concurrent
connections.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from decimal import Decimal
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    Client,
    Modality,
    Participant,
    Room,
    Therapist,
)
from admin_app.services.platform import races
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.scheduling import guard
from admin_app.services.scheduling.conflicts import Conflict, ConflictKind, find_conflicts
from admin_app.services.scheduling.rules import save_appointment
from tests import factories
from tests.factories import make_client, make_site, make_therapist
from tests.forms import appointment_form
from tests.pages import flashed
from tests.queries import counted_queries

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="the overlap guard is PostgreSQL's (TEST_DATABASE_URL)")
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's write lock (run without TEST_DATABASE_URL)")

LIMA = dt.timezone(dt.timedelta(hours=-5))
TEN = dt.datetime(2026, 10, 5, 10, 0, tzinfo=LIMA)  # Monday 5 October 2026, 10:00 at the clinic


def at(hour: int, minute: int = 0) -> dt.datetime:
    return TEN.replace(hour=hour, minute=minute)


# This file's bookings: 10:00 on 5 October unless said, clients still expected.
book = partial(factories.book, starts_at=TEN, attendance=Attendance.EXPECTED)


def count_appointments() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Appointment))


@pytest.fixture
def rosa(app):
    return make_therapist(full_name="Rosa Mendoza")


@pytest.fixture
def ana(app):
    return make_client(full_name="Ana Quispe")


@pytest.fixture
def room(app):
    return make_site("Sede Miraflores", rooms=("Consultorio 1",)).rooms[0]


# --- the screens -------------------------------------------------------------------------------


def test_the_same_therapist_twice_at_once_is_refused_naming_the_other_appointment(admin_client, rosa, ana):
    book(rosa, [ana])
    luis = make_client(full_name="Luis Torres")
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(rosa, luis, starts_at="2026-10-05 10:30", ends_at="2026-10-05 11:20"),
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert flashed(response) == ["Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist)."]
    assert count_appointments() == 1


def test_the_same_room_twice_at_once_is_refused_naming_the_room(admin_client, rosa, ana, room):
    book(rosa, [ana], room=room)
    jorge = make_therapist(full_name="Jorge Salas")
    luis = make_client(full_name="Luis Torres")
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(
            jorge,
            luis,
            starts_at="2026-10-05 09:30",
            ends_at="2026-10-05 10:20",
            modality="on_site",
            room=str(room.id),
        ),
        follow_redirects=True,
    )

    assert flashed(response) == [
        "Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 in room Sede Miraflores · Consultorio 1."
    ]
    assert count_appointments() == 1


def test_the_same_client_twice_at_once_is_refused_naming_the_client_and_therapist(admin_client, rosa, ana):
    book(rosa, [ana])
    jorge = make_therapist(full_name="Jorge Salas")
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(jorge, ana, starts_at="2026-10-05 10:49", ends_at="2026-10-05 11:39"),
        follow_redirects=True,
    )

    assert flashed(response) == ["Ana Quispe already has an appointment on 2026-10-05 10:00–10:50 with Rosa Mendoza."]
    assert count_appointments() == 1
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1


def test_back_to_back_is_allowed_for_the_same_therapist_room_and_client(admin_client, rosa, ana, room):
    book(rosa, [ana], room=room)
    db.session.commit()

    after = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(
            rosa, ana, starts_at="2026-10-05 10:50", ends_at="2026-10-05 11:40", modality="on_site", room=str(room.id)
        ),
        follow_redirects=True,
    )
    before = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(
            rosa, ana, starts_at="2026-10-05 09:10", ends_at="2026-10-05 10:00", modality="on_site", room=str(room.id)
        ),
        follow_redirects=True,
    )

    assert "Record was successfully created." in flashed(after)
    assert "Record was successfully created." in flashed(before)
    assert count_appointments() == 3


def test_a_cancelled_appointment_blocks_nothing(admin_client, rosa, ana, room):
    book(rosa, [ana], room=room, status=AppointmentStatus.CANCELLED)
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(rosa, ana, modality="on_site", room=str(room.id)),
        follow_redirects=True,
    )

    assert "Record was successfully created." in flashed(response)
    assert count_appointments() == 2


@pytest.mark.parametrize("absence", [Attendance.CANCELLED, Attendance.LATE_CANCELLED])
def test_a_participant_who_cancelled_is_free_for_another_appointment(admin_client, rosa, ana, absence):
    luis = make_client(full_name="Luis Torres")
    family = book(rosa, [ana, luis])  # the appointment goes on: Luis still comes
    family.participants[0].attendance = absence
    save_appointment(db.session, appointment=family)
    jorge = make_therapist(full_name="Jorge Salas")
    db.session.commit()
    assert family.status == AppointmentStatus.SCHEDULED

    response = admin_client.post("/admin/appointment/new/", data=appointment_form(jorge, ana), follow_redirects=True)

    assert "Record was successfully created." in flashed(response)
    assert count_appointments() == 2


def test_editing_an_appointment_does_not_clash_with_itself(admin_client, rosa, ana):
    appointment = book(rosa, [ana])
    db.session.commit()
    participant_id = appointment.participants[0].id

    response = admin_client.post(
        f"/admin/appointment/edit/?id={appointment.id}",
        data=appointment_form(
            rosa,
            ana,
            starts_at="2026-10-05 10:20",
            ends_at="2026-10-05 11:10",
            **{"participants-0-id": str(participant_id)},
        ),
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(response)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).starts_at == at(10, 20)
    assert count_appointments() == 1


def test_moving_an_appointment_onto_another_is_refused_and_it_stays_where_it_was(admin_client, rosa, ana):
    book(rosa, [ana])
    luis = make_client(full_name="Luis Torres")
    later = book(rosa, [luis], starts_at=at(11))
    db.session.commit()

    response = admin_client.post(
        f"/admin/appointment/edit/?id={later.id}",
        data=appointment_form(
            rosa,
            luis,
            starts_at="2026-10-05 10:40",
            ends_at="2026-10-05 11:30",
            **{"participants-0-id": str(later.participants[0].id)},
        ),
        follow_redirects=True,
    )

    assert flashed(response) == ["Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist)."]
    db.session.expire_all()
    assert db.session.get(Appointment, later.id).starts_at == at(11)


def test_reopening_a_cancelled_appointment_whose_slot_was_taken_is_refused(app, rosa, ana):
    cancelled = book(rosa, [ana], status=AppointmentStatus.CANCELLED, attendance=Attendance.CANCELLED)
    luis = make_client(full_name="Luis Torres")
    book(rosa, [luis])
    db.session.commit()

    participant = cancelled.participants[0]
    cancelled.status = AppointmentStatus.SCHEDULED
    participant.attendance = Attendance.EXPECTED
    with pytest.raises(RuleViolation) as refused:
        save_appointment(db.session, appointment=cancelled)

    assert refused.value.field == "starts_at"
    assert str(refused.value) == "Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist)."


# --- find_conflicts ----------------------------------------------------------------------------


def test_find_conflicts_reports_every_kind_in_one_query_in_clinic_time(app, rosa, ana, room):
    luis = make_client(full_name="Luis Torres")
    mia = make_client(full_name="Mía Flores")
    jorge = make_therapist(full_name="Jorge Salas")
    ours = book(rosa, [ana, luis], room=room)
    theirs = book(jorge, [mia], starts_at=at(10, 30))
    db.session.commit()

    wanted = {"therapist_id": rosa.id, "room_id": room.id, "client_ids": (ana.id, luis.id, mia.id)}
    ours_id, theirs_id = ours.id, theirs.id

    with counted_queries() as statements:
        conflicts = find_conflicts(db.session, starts_at=at(10, 10), ends_at=at(11, 0), **wanted)

    assert len(statements) == 1
    assert conflicts == [
        Conflict(ConflictKind.THERAPIST, ours_id, TEN, at(10, 50), "Rosa Mendoza", "Sede Miraflores · Consultorio 1"),
        Conflict(ConflictKind.ROOM, ours_id, TEN, at(10, 50), "Rosa Mendoza", "Sede Miraflores · Consultorio 1"),
        Conflict(
            ConflictKind.CLIENT,
            ours_id,
            TEN,
            at(10, 50),
            "Rosa Mendoza",
            "Sede Miraflores · Consultorio 1",
            "Ana Quispe",
        ),
        Conflict(
            ConflictKind.CLIENT,
            ours_id,
            TEN,
            at(10, 50),
            "Rosa Mendoza",
            "Sede Miraflores · Consultorio 1",
            "Luis Torres",
        ),
        Conflict(ConflictKind.CLIENT, theirs_id, at(10, 30), at(11, 20), "Jorge Salas", None, "Mía Flores"),
    ]
    assert conflicts[0].starts_at.utcoffset() == dt.timedelta(hours=-5)  # clinic time, not UTC


def test_find_conflicts_treats_times_as_half_open_and_can_leave_one_appointment_out(app, rosa, ana):
    appointment = book(rosa, [ana])
    db.session.commit()

    def clashes(starts_at, ends_at, **kwargs):
        return [
            c.kind
            for c in find_conflicts(
                db.session, starts_at=starts_at, ends_at=ends_at, therapist_id=rosa.id, client_ids=(ana.id,), **kwargs
            )
        ]

    assert clashes(at(9, 10), at(10, 0)) == []  # ends as it starts
    assert clashes(at(10, 50), at(11, 40)) == []  # starts as it ends
    assert clashes(at(9, 10), at(10, 1)) == [ConflictKind.THERAPIST, ConflictKind.CLIENT]
    assert clashes(at(10, 49), at(11, 40)) == [ConflictKind.THERAPIST, ConflictKind.CLIENT]
    assert clashes(at(10, 10), at(10, 20)) == [ConflictKind.THERAPIST, ConflictKind.CLIENT]  # inside it
    assert clashes(at(9, 0), at(12, 0)) == [ConflictKind.THERAPIST, ConflictKind.CLIENT]  # around it
    assert clashes(at(10, 10), at(10, 20), exclude_appointment_id=appointment.id) == []


def test_a_cancelled_appointment_is_saved_without_looking_for_clashes(app, rosa, ana):
    book(rosa, [ana])
    db.session.commit()

    cancelled = book(rosa, [ana], status=AppointmentStatus.CANCELLED)
    db.session.commit()

    assert cancelled.id is not None
    assert [p.attendance for p in cancelled.participants] == [Attendance.CANCELLED]
    assert count_appointments() == 2


# --- two bookings of one slot at the same moment -----------------------------------------------


def _book_in_own_connection(app, engine, *, therapist_id: int, client_id: int, room_id: int | None, start) -> str:
    """One request: its own connection and transaction, through the service, then commit."""
    with app.app_context(), Session(engine) as session:
        therapist = session.get(Therapist, therapist_id)
        client = session.get(Client, client_id)
        room = session.get(Room, room_id) if room_id else None
        start.wait()
        appointment = Appointment(
            therapist=therapist,
            starts_at=TEN,
            ends_at=at(10, 50),
            modality=Modality.ON_SITE if room else Modality.VIRTUAL,
            room=room,
            participants=[Participant(client=client, fee=Decimal("150.00"), currency="PEN")],
        )
        try:
            save_appointment(session, appointment=appointment)
            session.commit()
        except RuleViolation as refusal:
            session.rollback()
            return str(refusal)
        return "booked"


def _race(app, engine, bookings: list[dict]) -> list[str]:
    start = threading.Barrier(len(bookings), timeout=30)
    with ThreadPoolExecutor(max_workers=len(bookings)) as pool:
        futures = [pool.submit(_book_in_own_connection, app, engine, start=start, **booking) for booking in bookings]
        return [future.result(timeout=60) for future in futures]


@pytest.fixture
def own_engine(app):
    """A connection per thread, outside the app's pool (and its scoped session)."""
    engine = sa.create_engine(db.engine.url, poolclass=NullPool)
    yield engine
    engine.dispose()


@postgres_only
def test_twenty_simultaneous_bookings_of_one_therapist_slot_make_exactly_one_appointment(app, own_engine, rosa):
    clients = [make_client() for _ in range(20)]
    db.session.commit()

    outcomes = _race(app, own_engine, [{"therapist_id": rosa.id, "client_id": c.id, "room_id": None} for c in clients])

    assert outcomes.count("booked") == 1
    refusal = "Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist)."
    assert [o for o in outcomes if o != "booked"] == [refusal] * 19
    assert count_appointments() == 1
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1


@postgres_only
def test_twenty_simultaneous_bookings_of_one_room_make_exactly_one_appointment(app, own_engine, room):
    therapists = [make_therapist(full_name=f"Therapist {n:02d}") for n in range(20)]
    clients = [make_client() for _ in range(20)]
    db.session.commit()

    outcomes = _race(
        app,
        own_engine,
        [
            {"therapist_id": t.id, "client_id": c.id, "room_id": room.id}
            for t, c in zip(therapists, clients, strict=True)
        ],
    )

    assert outcomes.count("booked") == 1
    winner = db.session.scalar(select(Appointment)).therapist.full_name
    refusal = f"Clashes with {winner}'s appointment on 2026-10-05 10:00–10:50 in room Sede Miraflores · Consultorio 1."
    assert [o for o in outcomes if o != "booked"] == [refusal] * 19
    assert count_appointments() == 1


@postgres_only
def test_twenty_simultaneous_bookings_of_one_client_with_different_therapists_make_exactly_one(app, own_engine, ana):
    """No constraint sees a client booked with two therapists: the per-client lock queues them."""
    therapists = [make_therapist(full_name=f"Therapist {n:02d}") for n in range(20)]
    db.session.commit()

    outcomes = _race(
        app, own_engine, [{"therapist_id": t.id, "client_id": ana.id, "room_id": None} for t in therapists]
    )

    assert outcomes.count("booked") == 1
    winner = db.session.scalar(select(Appointment)).therapist.full_name
    refusal = f"Ana Quispe already has an appointment on 2026-10-05 10:00–10:50 with {winner}."
    assert [o for o in outcomes if o != "booked"] == [refusal] * 19
    assert count_appointments() == 1


@pytest.fixture
def fooled_once(monkeypatch):
    """The first look sees nothing, as when a concurrent winner commits just after it."""
    real = guard.find_conflicts
    calls = []

    def look(*args, **kwargs):
        calls.append(kwargs)
        return [] if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(guard, "find_conflicts", look)
    return calls


@postgres_only
def test_a_write_beaten_by_the_overlap_guard_looks_again_and_names_the_winner(app, rosa, ana, fooled_once):
    book(rosa, [ana])
    db.session.commit()
    fooled_once.clear()
    luis = make_client(full_name="Luis Torres")  # other work of the same transaction

    with pytest.raises(RuleViolation) as refused:
        book(rosa, [luis], starts_at=at(10, 30))

    assert str(refused.value) == "Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist)."
    assert len(fooled_once) == 2  # looked, was refused by the database, looked again
    db.session.commit()  # only the savepoint was rolled back: the rest of the transaction stands
    assert db.session.scalar(select(Client.full_name).where(Client.id == luis.id)) == "Luis Torres"
    assert count_appointments() == 1


@postgres_only
def test_the_screen_names_the_winner_when_the_database_refuses_the_write(admin_client, rosa, ana, fooled_once):
    book(rosa, [ana])
    luis = make_client(full_name="Luis Torres")
    db.session.commit()
    fooled_once.clear()

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(rosa, luis, starts_at="2026-10-05 10:30", ends_at="2026-10-05 11:20"),
        follow_redirects=True,
    )

    assert flashed(response) == ["Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist)."]
    assert len(fooled_once) == 2
    assert count_appointments() == 1


@postgres_only
def test_an_edit_refused_by_the_overlap_guard_names_the_winner(app, rosa, ana, fooled_once):
    book(rosa, [ana])
    luis = make_client(full_name="Luis Torres")
    later = book(rosa, [luis], starts_at=at(11))
    db.session.commit()
    fooled_once.clear()

    later.starts_at, later.ends_at = at(10, 40), at(11, 30)
    with pytest.raises(RuleViolation) as refused:
        save_appointment(db.session, appointment=later)

    assert str(refused.value) == "Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist)."
    db.session.rollback()  # as every caller does: an edit refused by the database loses its transaction
    assert db.session.get(Appointment, later.id).starts_at == at(11)


@postgres_only
def test_the_retries_are_bounded(app, rosa, ana, monkeypatch):
    book(rosa, [ana])
    luis = make_client(full_name="Luis Torres")
    db.session.commit()
    looks = []
    monkeypatch.setattr(guard, "find_conflicts", lambda *args, **kwargs: looks.append(kwargs) or [])

    with pytest.raises(RuleViolation) as refused:
        book(rosa, [luis], starts_at=at(10, 30))

    assert len(looks) == guard.BOOKING_ATTEMPTS
    assert str(refused.value) == str(races.TAKEN_MEANWHILE)
    db.session.rollback()
    assert count_appointments() == 1


@postgres_only
def test_the_overlap_guard_met_elsewhere_reads_as_a_rule(app, rosa, ana):
    first = book(rosa, [ana])
    db.session.commit()
    row = {c: getattr(first, c) for c in ("therapist_id", "starts_at", "ends_at", "kind", "modality", "status")}

    with pytest.raises(IntegrityError) as refused:
        db.session.execute(sa.insert(Appointment), [row])
    db.session.rollback()

    assert races.slot_taken(refused.value)
    assert str(races.refusal(refused.value)) == str(races.TAKEN_MEANWHILE)


@sqlite_only
def test_two_simultaneous_bookings_on_sqlite_make_exactly_one_appointment(app, own_engine, rosa, monkeypatch):
    """Each booking, once it has looked, waits (up to half a second) for the other to look too.

    Without the write lock both would look, find the slot free and both insert; with it, the
    second cannot look until the first has committed, and is refused by name.
    """
    clients = [make_client(), make_client()]
    db.session.commit()
    real = guard.find_conflicts
    both_looked = threading.Barrier(2)

    def look_then_wait(*args, **kwargs):
        found = real(*args, **kwargs)
        with suppress(threading.BrokenBarrierError):
            both_looked.wait(timeout=0.5)
        return found

    monkeypatch.setattr(guard, "find_conflicts", look_then_wait)

    outcomes = _race(app, own_engine, [{"therapist_id": rosa.id, "client_id": c.id, "room_id": None} for c in clients])

    assert sorted(outcomes) == [
        "Clashes with Rosa Mendoza's appointment on 2026-10-05 10:00–10:50 (same therapist).",
        "booked",
    ]
    assert count_appointments() == 1
