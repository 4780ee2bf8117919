"""Appointments moved in from a spreadsheet: checked like bookings, all or nothing, idempotent.

The files are written here as a practice would export them (CSV with commas or semicolons, with
or without BOM, Spanish headers, XLSX with real date cells) and go through `read_table`, then the
kind's `plan` and `apply`, in the caller's one transaction. "Today" is the real clock: October
2026 is past, 2030 is future.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from flask import g
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    AuditEvent,
    CancelledBy,
    Modality,
    Participant,
    Therapist,
)
from admin_app.services.imports import Action, appointments
from admin_app.services.imports.reading import read_table
from admin_app.services.platform.months import Month
from admin_app.services.reports import figures as stats
from tests.conftest import make_app
from tests.factories import make_appointment, make_client, make_site, make_therapist

D = Decimal
UTC = dt.UTC
HEADER = "client_national_id,therapist_email,start,duration_minutes,modality,fee,currency,status"


@pytest.fixture
def practice(app):
    """Rosa and Luis (Lima); Ana, Carlos and María, clients of the practice."""
    g.audit_actor = "importer@example.com"
    rosa = make_therapist(full_name="Rosa Quispe", email="rosa@clinic.pe")
    luis = make_therapist(full_name="Luis Vega", email="luis@clinic.pe", default_currency="USD")
    ana = make_client(full_name="Ana Ruiz", national_id="40111222")
    carlos = make_client(full_name="Carlos Soto", national_id="40333444")
    maria = make_client(full_name="María Paz", national_id="40555666")
    db.session.commit()
    return type("Practice", (), {"rosa": rosa, "luis": luis, "ana": ana, "carlos": carlos, "maria": maria})


def csv_bytes(*lines: str, header: str = HEADER, bom: bool = False) -> bytes:
    data = "\n".join((header, *lines)).encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def plan_of(data: bytes, filename: str = "citas.csv"):
    return appointments.plan(db.session, read_table(data, filename, appointments.COLUMNS))


def import_file(data: bytes, filename: str = "citas.csv"):
    """Plan and, when the file is clean, apply and commit: what the command does."""
    plan = plan_of(data, filename)
    if plan.ok:
        appointments.apply(db.session, plan)
        db.session.commit()
    else:
        db.session.rollback()
    return plan


def errors_of(plan) -> list[tuple[int, str]]:
    return [(error.row, error.column) for error in plan.errors]


def counted() -> dict[str, int]:
    return {
        "appointments": db.session.scalar(select(func.count(Appointment.id))),
        "participants": db.session.scalar(select(func.count(Participant.id))),
        "audit events": db.session.scalar(select(func.count(AuditEvent.id))),
    }


def booked(therapist_email: str, starts_at: dt.datetime) -> tuple[Appointment, Participant]:
    db.session.expire_all()
    appointment = db.session.scalar(
        select(Appointment)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .where(Therapist.email == therapist_email, Appointment.starts_at == starts_at)
    )
    assert appointment is not None, (therapist_email, starts_at)
    [participant] = appointment.participants
    return appointment, participant


GOOD_FILE = (
    "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,",
    "40333444,rosa@clinic.pe,2026-10-05 11:00,60,presencial,150.50,PEN,cancelada",
    "40555666,luis@clinic.pe,2026-10-05 10:00,50,virtual,40,USD,no-show",
    "40111222,luis@clinic.pe,2030-01-14 09:00,,,150,PEN,",
    "40333444,luis@clinic.pe,2026-10-06 10:00,45,on-site,120,pen,late-cancelled",
    "40555666,luis@clinic.pe,2026-10-12 10:00,50,virtual,40,USD,completed",
)


def test_a_good_file_creates_every_session_with_its_attendance_and_audit(practice):
    plan = import_file(csv_bytes(*GOOD_FILE))

    assert plan.errors == []
    assert plan.counts() == {"created": 6, "updated": 0, "unchanged": 0}
    assert counted()["appointments"] == 6

    # Lima is UTC-5 all year: 10:00 local is 15:00 UTC.
    held, ana = booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 15, 0, tzinfo=UTC))
    assert held.ends_at == dt.datetime(2026, 10, 5, 15, 50, tzinfo=UTC)
    assert (held.status, held.modality, held.room_id) == (AppointmentStatus.HELD, Modality.VIRTUAL, None)
    assert (ana.client_id, ana.attendance, ana.fee, ana.currency) == (
        practice.ana.id,
        Attendance.ATTENDED,  # past and no status: attended
        D("150.00"),
        "PEN",
    )

    cancelled, carlos = booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 16, 0, tzinfo=UTC))
    assert cancelled.ends_at == dt.datetime(2026, 10, 5, 17, 0, tzinfo=UTC)
    assert (cancelled.status, cancelled.modality) == (AppointmentStatus.CANCELLED, Modality.ON_SITE)
    assert (carlos.attendance, carlos.fee, carlos.cancelled_by) == (
        Attendance.CANCELLED,
        D("150.50"),
        CancelledBy.CLIENT,
    )
    assert carlos.cancellation_reason == "Imported from a spreadsheet"

    no_show, maria = booked("luis@clinic.pe", dt.datetime(2026, 10, 5, 15, 0, tzinfo=UTC))
    assert (no_show.status, maria.attendance, maria.currency) == (AppointmentStatus.HELD, Attendance.NO_SHOW, "USD")

    future, ana_future = booked("luis@clinic.pe", dt.datetime(2030, 1, 14, 14, 0, tzinfo=UTC))
    assert future.ends_at == dt.datetime(2030, 1, 14, 14, 50, tzinfo=UTC)  # DEFAULT_APPOINTMENT_MINUTES
    assert (future.status, future.modality, ana_future.attendance) == (
        AppointmentStatus.SCHEDULED,
        Modality.VIRTUAL,
        Attendance.EXPECTED,
    )
    assert ana_future.cancelled_by is None and ana_future.cancellation_reason is None

    late, carlos_late = booked("luis@clinic.pe", dt.datetime(2026, 10, 6, 15, 0, tzinfo=UTC))
    assert (late.status, carlos_late.attendance, carlos_late.currency) == (
        AppointmentStatus.CANCELLED,
        Attendance.LATE_CANCELLED,
        "PEN",
    )
    assert carlos_late.cancelled_by is None

    # One CREATE per appointment and per participant, by whoever imported.
    created = db.session.execute(
        select(
            AuditEvent.entity, AuditEvent.entity_id, AuditEvent.action, AuditEvent.actor, AuditEvent.changed_fields
        ).where(AuditEvent.entity.in_(["appointment", "participant"]))
    ).all()
    appointment_ids = set(db.session.scalars(select(Appointment.id)))
    participant_ids = set(db.session.scalars(select(Participant.id)))
    assert {(e.entity, e.entity_id) for e in created} == {("appointment", i) for i in appointment_ids} | {
        ("participant", i) for i in participant_ids
    }
    assert len(created) == 12
    assert {(e.action.value, e.actor, tuple(e.changed_fields)) for e in created} == {
        ("create", "importer@example.com", ())
    }


def test_the_imported_sessions_count_in_the_month_figures(practice):
    import_file(csv_bytes(*GOOD_FILE))

    totals = stats.month_totals(db.session, Month(2026, 10))

    by_name = {line.name: line for line in totals.therapists}
    assert {name: line.sessions for name, line in by_name.items()} == {"Luis Vega": 1, "Rosa Quispe": 1}
    assert by_name["Rosa Quispe"].gross == {"PEN": D("150.00")}
    assert by_name["Luis Vega"].gross == {"USD": D("40.00")}
    assert totals.sessions == 2


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2026-10-31 23:30", dt.datetime(2026, 11, 1, 4, 30, tzinfo=UTC)),
        ("2026-02-28 23:30", dt.datetime(2026, 3, 1, 4, 30, tzinfo=UTC)),
    ],
)
def test_a_late_start_on_a_months_last_day_is_the_right_instant_in_lima(practice, local, utc):
    plan = import_file(csv_bytes(f"40111222,rosa@clinic.pe,{local},50,virtual,150,PEN,attended"))

    assert plan.counts()["created"] == 1
    appointment, _ = booked("rosa@clinic.pe", utc)
    assert appointment.starts_at == utc
    month = int(local[5:7])
    assert stats.month_totals(db.session, Month(int(local[:4]), month)).sessions == 1


def test_a_late_start_on_a_months_last_day_is_the_right_instant_in_vancouver(app, database_url):
    vancouver = make_app(database_url, CLINIC_TIMEZONE="America/Vancouver", CURRENCIES=("CAD",), DEFAULT_CURRENCY="CAD")
    with vancouver.app_context():
        make_therapist(full_name="June Park", email="june@network.ca", default_currency="CAD")
        make_client(full_name="Sam Lee", national_id="BC-1001")
        db.session.commit()
        # 31 October is still daylight time (PDT, UTC-7); 28 February and 31 December are PST (UTC-8).
        plan = import_file(
            csv_bytes(
                "bc-1001,june@network.ca,2026-10-31 23:30,50,virtual,120,CAD,attended",
                "BC-1001,june@network.ca,2026-02-28 23:30,50,virtual,120,CAD,attended",
                "BC-1001,june@network.ca,2026-12-31 23:30,50,virtual,120,CAD,",
            )
        )

        assert plan.errors == []
        starts = set(db.session.scalars(select(Appointment.starts_at)))
        assert starts == {
            dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 1, 7, 30, tzinfo=UTC),
            dt.datetime(2027, 1, 1, 7, 30, tzinfo=UTC),
        }
        assert stats.month_totals(db.session, Month(2026, 10)).sessions == 1
        assert stats.month_totals(db.session, Month(2026, 11)).sessions == 0
        assert stats.month_totals(db.session, Month(2026, 2)).sessions == 1

        # 8 March 2026 02:30 does not exist there: the clocks jump from 02:00 to 03:00.
        gap = plan_of(csv_bytes("BC-1001,june@network.ca,2026-03-08 02:30,50,virtual,120,CAD,"))
        assert [str(error) for error in gap.errors] == [
            "row 2, column start: 2026-03-08 02:30 does not exist in America/Vancouver "
            "(the clocks skip it for daylight saving)."
        ]
        db.session.rollback()
        db.session.remove()


def test_the_same_file_twice_changes_nothing_the_second_time(practice):
    data = csv_bytes(*GOOD_FILE)
    import_file(data)
    before = counted()

    again = import_file(data)

    assert again.errors == []
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 6}
    assert again.changes == []
    assert counted() == before


def test_a_changed_row_updates_the_appointment_and_is_audited(practice):
    import_file(csv_bytes(*GOOD_FILE))
    before = counted()
    changed = list(GOOD_FILE)
    changed[0] = "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,165,PEN,"  # fee 150 -> 165
    changed[5] = "40555666,luis@clinic.pe,2026-10-12 10:00,50,virtual,40,USD,cancelled"  # attended -> cancelled

    plan = import_file(csv_bytes(*changed))

    assert plan.counts() == {"created": 0, "updated": 2, "unchanged": 4}
    appointment, participant = booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 15, 0, tzinfo=UTC))
    assert participant.fee == D("165.00")
    assert appointment.status == AppointmentStatus.HELD
    cancelled, maria = booked("luis@clinic.pe", dt.datetime(2026, 10, 12, 15, 0, tzinfo=UTC))
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert (maria.attendance, maria.cancelled_by) == (Attendance.CANCELLED, CancelledBy.CLIENT)

    after = counted()
    assert after["appointments"] == before["appointments"]
    assert after["audit events"] == before["audit events"] + 3
    updates = db.session.execute(
        select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.changed_fields, AuditEvent.actor)
        .where(AuditEvent.action == "update")
        .order_by(AuditEvent.id)
    ).all()
    assert sorted((u.entity, u.entity_id, tuple(u.changed_fields)) for u in updates) == sorted(
        [
            ("participant", participant.id, ("fee",)),
            ("appointment", cancelled.id, ("status",)),
            ("participant", maria.id, ("attendance", "cancelled_by", "cancellation_reason")),
        ]
    )
    assert {u.actor for u in updates} == {"importer@example.com"}
    # The month's figures follow: Luis's only attended October session was cancelled.
    assert {line.name: line.sessions for line in stats.month_totals(db.session, Month(2026, 10)).therapists} == {
        "Rosa Quispe": 1
    }


def test_every_error_of_the_file_is_reported_at_once_and_nothing_is_written(practice):
    # In the book: Rosa sees Carlos on 7 October 10:00-10:50.
    make_appointment(practice.rosa, practice.carlos, dt.datetime(2026, 10, 7, 15, 0, tzinfo=UTC))
    db.session.commit()
    before = counted()
    data = csv_bytes(
        "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,",  # 2: fine
        "40111222,rosa@clinic.pe,2026-13-01 10:00,50,virtual,150,PEN,",  # 3: no month 13
        "40111222,nobody@clinic.pe,2026-10-08 10:00,50,virtual,150,PEN,",  # 4: unknown therapist
        "40555666,luis@clinic.pe,2026-10-08 10:00,50,virtual,150,EUR,",  # 5: unknown currency
        "40555666,luis@clinic.pe,2026-10-09 10:00,50,virtual,-10,PEN,",  # 6: negative fee
        "40555666,rosa@clinic.pe,2026-10-05 10:30,50,virtual,150,PEN,",  # 7: Rosa is with Ana (row 2)
        "40333444,luis@clinic.pe,2026-10-07 10:20,50,virtual,150,PEN,",  # 8: Carlos is with Rosa (book)
        "40555666,rosa@clinic.pe,2026-10-07 10:40,50,virtual,150,PEN,",  # 9: Rosa is with Carlos (book)
        "99999999,luis@clinic.pe,2026-10-10 10:00,50,virtual,150,PEN,",  # 10: unknown client
        "40111222,luis@clinic.pe,2026-10-10 10:00,50,virtual,150,PEN,",  # 11: duplicate key of row 10
        "40111222,luis@clinic.pe,2026-10-11 10:00,50,maybe,150,PEN,done",  # 12: modality and status
    )

    plan = import_file(data)

    assert errors_of(plan) == [
        (3, "start"),
        (4, "therapist_email"),
        (5, "currency"),
        (6, "fee"),
        (7, "start"),
        (8, "start"),
        (9, "start"),
        (10, "client_national_id"),
        (11, "start"),
        (12, "modality"),
        (12, "status"),
    ]
    reasons = {error.row: error.reason for error in plan.errors}
    assert reasons[3] == "2026-13-01 is not a day of the calendar"
    assert reasons[4] == "no therapist has the email nobody@clinic.pe"
    assert "EUR is not one of the practice's currencies (PEN, USD)" in reasons[5]
    assert "must not be negative" in reasons[6]
    assert reasons[7] == "overlaps row 2 (Ana Ruiz, 2026-10-05 10:00)"
    assert reasons[8] == "Carlos Soto already has an appointment on 2026-10-07 10:00–10:50 with Rosa Quispe."
    assert reasons[9] == "Clashes with Rosa Quispe's appointment on 2026-10-07 10:00–10:50 (same therapist)."
    assert reasons[10] == "no client has the national ID 99999999"
    assert reasons[11] == (
        "overlaps row 10 (Luis Vega, 2026-10-10 10:00); several clients in one session need the kind column: "
        "couple, family or group"
    )
    assert str(plan.errors[0]) == f"row 3, column start: {reasons[3]}"
    assert plan.actions == {2: Action.CREATE}  # what the good row would do, once the others are fixed
    assert plan.changes == []
    assert counted() == before


def test_a_missing_required_column_is_one_error_on_the_header_row(practice):
    data = csv_bytes("40111222,rosa@clinic.pe,2026-10-05 10:00,150", header="dni,correo_terapeuta,inicio,tarifa")

    plan = plan_of(data)

    assert errors_of(plan) == [(1, "currency")]
    assert plan.errors[0].reason == "the column is missing (accepted headers: currency, moneda)"


def test_end_or_duration_and_their_mistakes(practice):
    header = "client_national_id,therapist_email,start,end,duration_minutes,fee,currency"
    plan = plan_of(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,2026-10-05 11:30,,150,PEN",  # 2: end as date and time
            "40333444,rosa@clinic.pe,2026-10-05 12:00,12:45,,150,PEN",  # 3: end as a time of the day
            "40555666,rosa@clinic.pe,2026-10-05 14:00,13:00,,150,PEN",  # 4: end before the start
            "40555666,rosa@clinic.pe,2026-10-05 16:00,17:00,50,150,PEN",  # 5: end and duration disagree
            "40555666,rosa@clinic.pe,2026-10-05 18:00,18:50,50,150,PEN",  # 6: they agree
            "40555666,rosa@clinic.pe,2026-10-05 19:00,,0,150,PEN",  # 7: no duration
            header=header,
        )
    )

    assert errors_of(plan) == [(4, "end"), (5, "end"), (7, "duration_minutes")]
    assert plan.errors[0].reason == "the end must be after the start"
    assert plan.errors[1].reason == "17:00 does not match the duration of 50 minutes"

    fixed = plan_of(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,2026-10-05 11:30,,150,PEN",
            "40333444,rosa@clinic.pe,2026-10-05 12:00,12:45,,150,PEN",
            header=header,
        )
    )
    appointments.apply(db.session, fixed)
    db.session.commit()
    assert booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 15, 0, tzinfo=UTC))[0].ends_at == dt.datetime(
        2026, 10, 5, 16, 30, tzinfo=UTC
    )
    assert booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 17, 0, tzinfo=UTC))[0].ends_at == dt.datetime(
        2026, 10, 5, 17, 45, tzinfo=UTC
    )


def test_day_first_dates_and_a_fee_with_a_comma(practice):
    plan = import_file(csv_bytes('40111222,rosa@clinic.pe,05/10/2026 10:00,50,virtual,"150,50",PEN,attended'))

    assert plan.errors == []
    _, participant = booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 15, 0, tzinfo=UTC))
    assert participant.fee == D("150.50")


def test_a_semicolon_csv_with_bom_and_spanish_headers(practice):
    data = csv_bytes(
        "40111222;rosa@clinic.pe;05/10/2026 10:00;50;presencial;150,50;PEN;atendida",
        "40333444;rosa@clinic.pe;05/10/2026 11:00;50;virtual;150;PEN;no asistió",
        "40555666;rosa@clinic.pe;05/10/2026 12:00;50;virtual;150;PEN;Programada",
        header="DNI;Correo terapeuta;Inicio;Duración;Modalidad;Tarifa;Moneda;Estado",
        bom=True,
    )

    plan = import_file(data)

    assert plan.errors == []
    assert plan.counts()["created"] == 3
    first, ana = booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 15, 0, tzinfo=UTC))
    assert (first.modality, ana.fee, ana.attendance) == (Modality.ON_SITE, D("150.50"), Attendance.ATTENDED)
    assert booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 16, 0, tzinfo=UTC))[1].attendance == Attendance.NO_SHOW
    third, maria = booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 17, 0, tzinfo=UTC))
    assert (third.status, maria.attendance) == (AppointmentStatus.SCHEDULED, Attendance.EXPECTED)


def test_spanish_headers_name_the_column_in_errors_as_written(practice):
    data = csv_bytes(
        "40111222;rosa@clinic.pe;2026-10-05 25:00;50;150;PEN",
        header="DNI;Correo terapeuta;Inicio;Duración;Tarifa;Moneda",
    )

    assert errors_of(plan_of(data)) == [(2, "Inicio")]


def test_an_xlsx_file_with_real_date_cells(practice):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["DNI", "correo_terapeuta", "inicio", "fin", "modalidad", "tarifa", "moneda", "estado"])
    sheet.append(
        [
            40111222,
            "rosa@clinic.pe",
            dt.datetime(2026, 10, 5, 10, 0),
            dt.time(10, 50),
            "virtual",
            150.5,
            "PEN",
            "atendida",
        ]
    )
    sheet.append(
        [
            "40333444",
            "luis@clinic.pe",
            dt.datetime(2030, 1, 14, 9, 0),
            dt.datetime(2030, 1, 14, 10, 0),
            None,
            120,
            "USD",
            None,
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)

    plan = import_file(buffer.getvalue(), "citas.xlsx")

    assert plan.errors == []
    assert plan.counts()["created"] == 2
    past, ana = booked("rosa@clinic.pe", dt.datetime(2026, 10, 5, 15, 0, tzinfo=UTC))
    assert past.ends_at == dt.datetime(2026, 10, 5, 15, 50, tzinfo=UTC)
    assert (ana.client_id, ana.fee, ana.attendance) == (practice.ana.id, D("150.50"), Attendance.ATTENDED)
    future, carlos = booked("luis@clinic.pe", dt.datetime(2030, 1, 14, 14, 0, tzinfo=UTC))
    assert future.ends_at == dt.datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
    assert (future.status, carlos.attendance, carlos.currency) == (
        AppointmentStatus.SCHEDULED,
        Attendance.EXPECTED,
        "USD",
    )


def test_overlaps_are_judged_on_the_book_as_the_import_leaves_it(practice):
    """A row that cancels a booked appointment frees its time for another row of the same file."""
    make_appointment(practice.rosa, practice.carlos, dt.datetime(2026, 10, 7, 15, 0, tzinfo=UTC))
    db.session.commit()

    plan = import_file(
        csv_bytes(
            "40333444,rosa@clinic.pe,2026-10-07 10:00,50,,150,PEN,cancelled",
            "40111222,rosa@clinic.pe,2026-10-07 10:30,50,virtual,150,PEN,attended",
        )
    )

    assert plan.errors == []
    assert plan.counts() == {"created": 1, "updated": 1, "unchanged": 0}
    cancelled, carlos = booked("rosa@clinic.pe", dt.datetime(2026, 10, 7, 15, 0, tzinfo=UTC))
    assert (cancelled.status, carlos.attendance) == (AppointmentStatus.CANCELLED, Attendance.CANCELLED)


def test_time_given_up_by_one_row_can_be_taken_by_another(practice):
    """Carlos's session is cancelled by the file, María's cancelled one revived over its time and
    a new one added after it: on PostgreSQL the overlap guard sees every step, so the order of
    the writes matters."""
    carlos = make_appointment(practice.rosa, practice.carlos, dt.datetime(2026, 10, 7, 15, 0, tzinfo=UTC))
    maria = make_appointment(
        practice.rosa, practice.maria, dt.datetime(2026, 10, 7, 15, 30, tzinfo=UTC), attendance=Attendance.CANCELLED
    )
    db.session.commit()

    plan = import_file(
        csv_bytes(
            "40333444,rosa@clinic.pe,2026-10-07 10:00,50,virtual,150,PEN,cancelled",
            "40555666,rosa@clinic.pe,2026-10-07 10:30,50,virtual,150,PEN,attended",
            "40111222,rosa@clinic.pe,2026-10-07 11:20,50,virtual,150,PEN,attended",
        )
    )

    assert plan.errors == []
    assert plan.counts() == {"created": 1, "updated": 2, "unchanged": 0}
    assert booked("rosa@clinic.pe", carlos.starts_at)[0].status == AppointmentStatus.CANCELLED
    revived, participant = booked("rosa@clinic.pe", maria.starts_at)
    assert (revived.status, participant.attendance) == (AppointmentStatus.HELD, Attendance.ATTENDED)
    assert (participant.cancelled_by, participant.cancellation_reason) == (None, None)


def test_an_on_site_session_made_longer_keeps_its_room_and_must_fit_in_it(practice):
    room = make_site(name="Miraflores", rooms=("Room 1",)).rooms[0]
    mine = make_appointment(
        practice.rosa,
        practice.carlos,
        dt.datetime(2026, 10, 7, 15, 0, tzinfo=UTC),
        modality=Modality.ON_SITE,
        room=room,
    )
    make_appointment(
        practice.luis, practice.maria, dt.datetime(2026, 10, 7, 16, 0, tzinfo=UTC), modality=Modality.ON_SITE, room=room
    )
    db.session.commit()

    too_long = plan_of(csv_bytes("40333444,rosa@clinic.pe,2026-10-07 10:00,90,on-site,150,PEN,attended"))
    assert [str(error) for error in too_long.errors] == [
        "row 2, column start: "
        "Clashes with Luis Vega's appointment on 2026-10-07 11:00–11:50 in room Miraflores · Room 1."
    ]
    db.session.rollback()

    plan = import_file(csv_bytes("40333444,rosa@clinic.pe,2026-10-07 10:00,60,on-site,150,PEN,attended"))
    assert plan.counts()["updated"] == 1
    appointment, _ = booked("rosa@clinic.pe", mine.starts_at)
    assert (appointment.room_id, appointment.ends_at) == (room.id, dt.datetime(2026, 10, 7, 16, 0, tzinfo=UTC))
    audit = db.session.scalar(select(AuditEvent.changed_fields).where(AuditEvent.action == "update"))
    assert audit == ["ends_at"]


def test_empty_cells_leave_a_booked_appointment_as_it_is(practice):
    """Status, modality and duration left empty do not undo what the appointment book says."""
    in_the_book = make_appointment(
        practice.rosa, practice.ana, dt.datetime(2030, 1, 14, 14, 0, tzinfo=UTC), attendance=Attendance.EXPECTED
    )
    db.session.commit()

    plan = import_file(csv_bytes("40111222,rosa@clinic.pe,2030-01-14 09:00,,,150,PEN,"))

    assert plan.counts() == {"created": 0, "updated": 0, "unchanged": 1}
    assert booked("rosa@clinic.pe", in_the_book.starts_at)[1].attendance == Attendance.EXPECTED


# A row is identified by therapist, start and client (issue #12): another client at a booked
# therapist and start is a clash, unless the rows say the session is a couple, family or group one.

KIND_HEADER = "client_national_id,therapist_email,start,duration_minutes,modality,fee,currency,status,kind"
ROSA_AT_TEN = dt.datetime(2026, 10, 5, 15, 0, tzinfo=UTC)  # 10:00 in Lima


def run_cli(runner, tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return runner.invoke(args=["import", "appointments", str(path)])


def sessions_at(therapist_email: str, starts_at: dt.datetime) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(status, kind, [(client, attendance)...]) of every appointment of the therapist at that start."""
    db.session.expire_all()
    found = db.session.scalars(
        select(Appointment)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .where(Therapist.email == therapist_email, Appointment.starts_at == starts_at)
        .order_by(Appointment.id)
    ).all()
    return [
        (
            appointment.status.value,
            appointment.kind.value,
            sorted((p.client.full_name, p.attendance.value) for p in appointment.participants),
        )
        for appointment in found
    ]


def test_another_client_at_a_booked_therapist_and_start_is_a_clash_not_a_replacement(practice, runner, tmp_path):
    first = run_cli(
        runner, tmp_path, "a.csv", csv_bytes("40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,")
    )
    assert first.exit_code == 0, first.output
    before = counted()

    second = run_cli(
        runner, tmp_path, "b.csv", csv_bytes("40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,")
    )

    assert second.exit_code == 1
    assert (
        "row 2, column start: Clashes with Rosa Quispe's appointment on 2026-10-05 10:00–10:50 (same therapist)."
        in (second.output)
    )
    assert "nothing was written" in second.output
    assert sessions_at("rosa@clinic.pe", ROSA_AT_TEN) == [("held", "individual", [("Ana Ruiz", "attended")])]
    assert counted() == before


def test_two_clients_at_one_therapist_and_start_in_one_file_clash(practice):
    plan = import_file(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,",
            "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,",
        )
    )

    assert [str(error) for error in plan.errors] == [
        "row 3, column start: overlaps row 2 (Ana Ruiz, 2026-10-05 10:00); several clients in one session "
        "need the kind column: couple, family or group"
    ]
    assert counted()["appointments"] == 0


def test_rows_of_a_couple_session_are_participants_of_one_appointment(practice, runner, tmp_path):
    data = csv_bytes(
        "40111222,rosa@clinic.pe,2026-10-05 10:00,60,virtual,150,PEN,,pareja",
        "40333444,rosa@clinic.pe,2026-10-05 10:00,60,virtual,100,PEN,no-show,couple",
        header=KIND_HEADER,
    )

    result = run_cli(runner, tmp_path, "couple.csv", data)

    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged" in result.output
    assert sessions_at("rosa@clinic.pe", ROSA_AT_TEN) == [
        ("held", "couple", [("Ana Ruiz", "attended"), ("Carlos Soto", "no_show")])
    ]
    appointment = db.session.scalar(select(Appointment))
    assert appointment.ends_at == ROSA_AT_TEN + dt.timedelta(minutes=60)
    assert {p.client.full_name: p.fee for p in appointment.participants} == {
        "Ana Ruiz": D("150.00"),
        "Carlos Soto": D("100.00"),
    }
    before = counted()

    again = run_cli(runner, tmp_path, "couple.csv", data)

    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 2 unchanged" in again.output
    assert counted() == before


def test_a_client_joins_a_booked_session_when_the_row_says_it_is_a_family_session(practice):
    import_file(csv_bytes("40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,"))
    before = counted()

    plan = import_file(csv_bytes("40555666,rosa@clinic.pe,2026-10-05 10:00,,,90,PEN,,familia", header=KIND_HEADER))

    assert plan.errors == []
    assert plan.counts() == {"created": 1, "updated": 0, "unchanged": 0}
    assert sessions_at("rosa@clinic.pe", ROSA_AT_TEN) == [
        ("held", "family", [("Ana Ruiz", "attended"), ("María Paz", "attended")])
    ]
    after = counted()
    assert after["appointments"] == before["appointments"]
    assert after["participants"] == before["participants"] + 1
    appointment = db.session.scalar(select(Appointment))
    changes = db.session.execute(
        select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.action, AuditEvent.changed_fields).where(
            AuditEvent.id > 0
        )
    ).all()
    maria = next(p for p in appointment.participants if p.client_id == practice.maria.id)
    assert ("participant", maria.id, "create") in {(c.entity, c.entity_id, c.action.value) for c in changes}
    assert ("appointment", appointment.id, "update", ("kind",)) in {
        (c.entity, c.entity_id, c.action.value, tuple(c.changed_fields)) for c in changes
    }


def test_a_participants_own_row_still_updates_their_seat(practice):
    couple = csv_bytes(
        "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,,couple",
        "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,,couple",
        header=KIND_HEADER,
    )
    import_file(couple)

    plan = import_file(csv_bytes("40333444,rosa@clinic.pe,2026-10-05 10:00,,,175,PEN,cancelled,", header=KIND_HEADER))

    assert plan.errors == []
    assert plan.counts() == {"created": 0, "updated": 1, "unchanged": 0}
    assert sessions_at("rosa@clinic.pe", ROSA_AT_TEN) == [
        ("held", "couple", [("Ana Ruiz", "attended"), ("Carlos Soto", "cancelled")])
    ]
    carlos = db.session.scalar(select(Participant).where(Participant.client_id == practice.carlos.id))
    assert carlos.fee == D("175.00")


def test_rows_of_one_session_must_agree(practice):
    plan = plan_of(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,,couple",
            "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,,family",  # 3: kind
            "40555666,rosa@clinic.pe,2026-10-05 10:00,60,on-site,150,PEN,,couple",  # 4: duration and modality
            "40111222,luis@clinic.pe,2026-10-06 10:00,50,virtual,40,USD,,group",
            "40111222,luis@clinic.pe,2026-10-06 10:00,50,virtual,40,USD,,group",  # 6: the same client twice
            header=KIND_HEADER,
        )
    )

    assert [str(error) for error in plan.errors] == [
        "row 3, column kind: family differs from row 2 (couple) for the same session",
        "row 4, column duration_minutes: the session ends at 11:00 on this row and at 10:50 on row 2",
        "row 4, column modality: on-site differs from row 2 (virtual) for the same session",
        "row 6, column start: the same therapist, start and client as row 5",
    ]


def test_an_individual_kind_for_a_session_of_two_is_refused(practice):
    import_file(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,,couple",
            "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,,couple",
            header=KIND_HEADER,
        )
    )

    plan = plan_of(csv_bytes("40111222,rosa@clinic.pe,2026-10-05 10:00,,,150,PEN,,individual", header=KIND_HEADER))

    assert [str(error) for error in plan.errors] == [
        "row 2, column kind: an individual session has one client; this one has 2 (Ana Ruiz, Carlos Soto)"
    ]


def test_a_cancelled_session_leaves_its_time_to_another_client(practice):
    """A cancelled appointment blocks nothing: a rebooking at its time is a session of its own."""
    plan = import_file(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,cancelled",
            "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,attended",
        )
    )

    assert plan.errors == []
    assert sessions_at("rosa@clinic.pe", ROSA_AT_TEN) == [
        ("cancelled", "individual", [("Ana Ruiz", "cancelled")]),
        ("held", "individual", [("Carlos Soto", "attended")]),
    ]
    again = import_file(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,cancelled",
            "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,attended",
        )
    )
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 2}


def test_a_longer_session_is_checked_for_every_participant_even_those_without_a_row(practice):
    import_file(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,,couple",
            "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,,couple",
            "40333444,luis@clinic.pe,2026-10-05 11:00,50,virtual,40,USD,,",
            header=KIND_HEADER,
        )
    )

    plan = plan_of(csv_bytes("40111222,rosa@clinic.pe,2026-10-05 10:00,90,,150,PEN,,", header=KIND_HEADER))

    assert [str(error) for error in plan.errors] == [
        "row 2, column start: Carlos Soto already has an appointment on 2026-10-05 11:00–11:50 with Luis Vega."
    ]


def test_a_cancelled_couple_session_revived_by_one_row_takes_its_time_back(practice):
    """On PostgreSQL the overlap guard sees the revival: it is written after the time is freed."""
    import_file(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,cancelled,couple",
            "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,cancelled,couple",
            "40555666,rosa@clinic.pe,2026-10-05 10:30,50,virtual,150,PEN,attended,",
            header=KIND_HEADER,
        )
    )

    plan = import_file(
        csv_bytes(
            "40555666,rosa@clinic.pe,2026-10-05 10:30,50,virtual,150,PEN,cancelled,",
            "40333444,rosa@clinic.pe,2026-10-05 10:00,50,virtual,150,PEN,attended,",
            header=KIND_HEADER,
        )
    )

    assert plan.errors == []
    assert plan.counts() == {"created": 0, "updated": 2, "unchanged": 0}
    assert sessions_at("rosa@clinic.pe", ROSA_AT_TEN) == [
        ("held", "couple", [("Ana Ruiz", "cancelled"), ("Carlos Soto", "attended")])
    ]


def test_the_client_of_a_row_is_found_by_national_id_else_number_else_email(practice, runner, tmp_path):
    sam = make_client(full_name="Sam Lee", national_id=None, email="sam@example.com")
    kim = make_client(full_name="Kim Ho", national_id=None, email=None)
    db.session.commit()
    header = "client_national_id,client_number,client_email,therapist_email,start,fee,currency"
    data = csv_bytes(
        ",,SAM@example.com,rosa@clinic.pe,2026-10-05 10:00,150,PEN",
        f",{kim.client_number},,rosa@clinic.pe,2026-10-05 11:00,150,PEN",
        f"40111222,{practice.ana.client_number},,rosa@clinic.pe,2026-10-05 12:00,150,PEN",
        header=header,
    )

    result = run_cli(runner, tmp_path, "by-keys.csv", data)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Clients matched by national ID: 1, by client number: 1, by email: 1."
    starts = {hour: dt.datetime(2026, 10, 5, hour + 5, 0, tzinfo=UTC) for hour in (10, 11, 12)}
    assert [booked("rosa@clinic.pe", starts[hour])[1].client_id for hour in (10, 11, 12)] == [
        sam.id,
        kim.id,
        practice.ana.id,
    ]

    wrong = plan_of(
        csv_bytes(
            f"40111222,{kim.client_number},,rosa@clinic.pe,2026-10-05 13:00,150,PEN",
            ",,,rosa@clinic.pe,2026-10-05 14:00,150,PEN",
            ",999999,,rosa@clinic.pe,2026-10-05 15:00,150,PEN",
            header=header,
        )
    )
    assert [str(error) for error in wrong.errors] == [
        f"row 2, column client_number: matches two clients: Ana Ruiz (#{practice.ana.client_number}) by national "
        f"ID and Kim Ho (#{kim.client_number}) by client number",
        "row 3, column client_national_id: a value is required",
        "row 4, column client_number: no client has the client number 999999",
    ]
