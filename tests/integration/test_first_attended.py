"""`Client.first_attended_at`, kept by the database's triggers (migration 0022), follows every write
that can move a client's first attended session: booking, marking, unmarking, moving the session,
moving the line to another client, deleting, and a bulk SQL statement no ORM event sees. Each step
is checked against the figure worked out from the participants, and against the instant expected."""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from sqlalchemy import create_engine, func, select, text, update

from admin_app.extensions import db
from admin_app.models import Appointment, Attendance, Client, Participant
from admin_app.services.scheduling import rules
from tests.factories import book, make_client, make_therapist

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
LIMA = dt.timezone(dt.timedelta(hours=-5))


def at(month: int, day: int) -> dt.datetime:
    """10:00 in Lima on that day of 2026, as the UTC instant the database keeps."""
    return dt.datetime(2026, month, day, 10, 0, tzinfo=LIMA).astimezone(dt.UTC)


def first_attended(client: Client) -> dt.datetime | None:
    """What the client's column holds, after what was written is flushed, checked against the
    earliest attended start worked out from the participants."""
    db.session.flush()
    kept = db.session.scalar(select(Client.first_attended_at).where(Client.id == client.id))
    worked_out = db.session.scalar(
        select(func.min(Appointment.starts_at))
        .join(Participant, Participant.appointment_id == Appointment.id)
        .where(Participant.client_id == client.id, Participant.attendance == Attendance.ATTENDED)
    )
    assert kept == worked_out
    return kept


def participant_of(appointment: Appointment) -> Participant:
    return db.session.scalars(select(Participant).where(Participant.appointment_id == appointment.id)).one()


def test_the_first_attended_session_follows_every_change(app):
    ana = make_therapist(full_name="Ana")
    luis = make_client(full_name="Luis")
    assert first_attended(luis) is None

    march = book(ana, [luis], at(3, 10), attendance=Attendance.EXPECTED)
    assert first_attended(luis) is None  # booked, not yet attended

    may = book(ana, [luis], at(5, 5))  # booked as attended
    assert first_attended(luis) == at(5, 5)

    rules.mark_attended(db.session, appointment_ids=[march.id])
    assert first_attended(luis) == at(3, 10)

    rules.record_attendance(db.session, participant=participant_of(march), attendance=Attendance.NO_SHOW)
    assert first_attended(luis) == at(5, 5)  # a missed session is not attended

    may.starts_at, may.ends_at = at(2, 2), at(2, 2) + dt.timedelta(minutes=50)
    assert first_attended(luis) == at(2, 2)  # the session moved earlier
    may.starts_at, may.ends_at = at(6, 1), at(6, 1) + dt.timedelta(minutes=50)
    assert first_attended(luis) == at(6, 1)  # and later again


def test_a_line_moved_to_another_client_a_deleted_session_and_a_bulk_update(app):
    ana = make_therapist(full_name="Ana")
    luis, marta = make_client(full_name="Luis"), make_client(full_name="Marta")
    january = book(ana, [luis], at(1, 12))
    april = book(ana, [luis], at(4, 6))
    book(ana, [marta], at(3, 3))
    assert (first_attended(luis), first_attended(marta)) == (at(1, 12), at(3, 3))

    db.session.execute(update(Participant).where(Participant.appointment_id == january.id).values(client_id=marta.id))
    assert (first_attended(luis), first_attended(marta)) == (at(4, 6), at(1, 12))

    db.session.delete(january)  # its line goes with it (ON DELETE CASCADE)
    assert (first_attended(luis), first_attended(marta)) == (at(4, 6), at(3, 3))

    # A statement no ORM event sees: Close the day's kind of bulk write, or a fix by hand.
    db.session.execute(
        update(Participant).where(Participant.appointment_id == april.id).values(attendance=Attendance.LATE_CANCELLED)
    )
    assert first_attended(luis) is None
    db.session.execute(
        text("UPDATE participant SET attendance = 'attended' WHERE appointment_id = :id"), {"id": april.id}
    )
    assert first_attended(luis) == at(4, 6)


@pytest.mark.skipif(not ON_POSTGRES, reason="two transactions at once on PostgreSQL (TEST_DATABASE_URL)")
def test_two_people_changing_one_clients_sessions_at_once_both_count(app):
    """One marks an earlier session attended and has not committed; the other unmarks a later one,
    which makes the database work the date out again. The second waits for the first's lock on
    the client and then reads what it committed: January, not the later session left."""
    ana = make_therapist(full_name="Ana")
    luis = make_client(full_name="Luis")
    january = book(ana, [luis], at(1, 12), attendance=Attendance.EXPECTED)
    march = book(ana, [luis], at(3, 3))
    book(ana, [luis], at(5, 5))
    db.session.commit()
    engine = create_engine(db.engine.url)
    failures: list[BaseException] = []

    def unmark_march() -> None:
        try:
            with app.app_context(), engine.begin() as unmarking:
                unmarking.execute(
                    text("UPDATE participant SET attendance = 'no_show' WHERE appointment_id = :id"), {"id": march.id}
                )
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    second = threading.Thread(target=unmark_march)
    try:
        with engine.begin() as marking:
            marking.execute(
                text("UPDATE participant SET attendance = 'attended' WHERE appointment_id = :id"), {"id": january.id}
            )
            second.start()
            second.join(1)
            waited = second.is_alive()  # for the client's lock, until this commits
    finally:
        second.join(30)
        engine.dispose()
    assert [str(error) for error in failures] == []
    assert waited
    db.session.expire_all()
    assert first_attended(luis) == at(1, 12)
