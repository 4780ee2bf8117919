"""The appointments import names the room of an on-site session: `site` [sede] and `room`
[consultorio], both or neither, all or nothing with the rest of the file.

Lima. Sede Miraflores has Consultorio 1, 2 and 3 (3 no longer in use); Sede Surco is closed.
Luis holds Consultorio 2 on Mondays 09:00–12:00 from 1 September 2026; 5 October 2026 is a Monday.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask import g
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Appointment, Room
from admin_app.services.imports import appointments
from admin_app.services.imports.reading import read_table
from tests.factories import make_client, make_reservation, make_site, make_therapist
from tests.integration.test_import_people import run_import, write_csv
from tests.pages import body, flashed, text_of
from tests.queries import counted_queries

HEADER = ["dni", "correo_terapeuta", "inicio", "duracion", "modalidad", "tarifa", "moneda", "sede", "consultorio"]
LUIS_HOLDS = (
    "row 2: room Sede Miraflores · Consultorio 2 is reserved by Luis Vega on Monday from 09:00 to 12:00 "
    "(the session of 2026-10-05 10:00 is imported; agree on the room with them)"
)


@pytest.fixture
def practice(app):
    g.audit_actor = "importer@example.com"
    miraflores = make_site("Sede Miraflores", rooms=("Consultorio 1", "Consultorio 2", "Consultorio 3"))
    miraflores.rooms[2].active = False
    make_site("Sede Surco", rooms=("Sala 1",)).active = False
    make_therapist(full_name="Rosa Quispe", email="rosa@clinic.pe")
    luis = make_therapist(full_name="Luis Vega", email="luis@clinic.pe")
    make_reservation(miraflores.rooms[1], luis, 1, ("09:00", "12:00"), dt.date(2026, 9, 1))
    make_client(full_name="Ana Ruiz", national_id="40111222")
    make_client(full_name="Carlos Soto", national_id="40333444")
    db.session.commit()
    return {room.name: room.id for room in miraflores.rooms}


def row(dni="40111222", start="2026-10-05 10:00", modality="presencial", site="", room="", email="rosa@clinic.pe"):
    return [dni, email, start, "50", modality, "150", "PEN", site, room]


def plan_of(tmp_path, *rows):
    path = write_csv(tmp_path, "citas.csv", [HEADER, *rows])
    return appointments.plan(db.session, read_table(path.read_bytes(), "citas.csv", appointments.COLUMNS))


def rooms_booked() -> list[tuple[str, str | None]]:
    db.session.expire_all()
    found = db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
    return [(a.modality.value, a.room.name if a.room else None) for a in found]


def test_on_site_rows_get_the_room_their_site_and_room_name(practice, runner, tmp_path):
    path = write_csv(
        tmp_path,
        "citas.csv",
        [
            HEADER,
            row(site=" sede MIRAFLORES ", room="consultorio 1"),
            row(dni="40333444", start="2026-10-06 10:00"),  # on site, no room named
            row(start="2026-10-07 10:00", modality="virtual"),
        ],
    )

    result = run_import(runner, "appointments", path)
    again = run_import(runner, "appointments", path)

    assert result.exit_code == 0, result.output
    assert "3 created" in result.output
    assert "Warning" not in result.output
    assert rooms_booked() == [("on_site", "Consultorio 1"), ("on_site", None), ("virtual", None)]
    assert "3 unchanged" in again.output


def test_a_row_naming_a_room_moves_a_booked_on_site_session_into_it(practice, runner, tmp_path):
    first = write_csv(tmp_path, "a.csv", [HEADER, row(site="Sede Miraflores", room="Consultorio 1")])
    run_import(runner, "appointments", first)

    # An empty modality keeps the booked one (on site), so the room is accepted.
    moved = run_import(
        runner,
        "appointments",
        write_csv(tmp_path, "b.csv", [HEADER, row(modality="", site="Sede Miraflores", room="Consultorio 2")]),
    )

    assert moved.exit_code == 0, moved.output
    assert "1 updated" in moved.output
    assert f"Warning: {LUIS_HOLDS}" in moved.output
    assert rooms_booked() == [("on_site", "Consultorio 2")]


def test_a_room_another_therapist_reserved_then_is_imported_with_a_warning(practice, runner, tmp_path):
    path = write_csv(tmp_path, "citas.csv", [HEADER, row(site="Sede Miraflores", room="Consultorio 2")])

    result = run_import(runner, "appointments", path)

    assert result.exit_code == 0, result.output
    assert f"Warning: {LUIS_HOLDS}" in result.output
    assert rooms_booked() == [("on_site", "Consultorio 2")]


def test_the_holder_booking_their_reserved_room_is_not_warned(practice, tmp_path):
    plan = plan_of(tmp_path, row(email="luis@clinic.pe", site="Sede Miraflores", room="Consultorio 2"))

    assert plan.ok and plan.warnings == []


def test_the_reservations_of_every_row_are_read_in_one_query(practice, tmp_path):
    def statements(rows: int) -> int:
        lines = [
            row(start=f"2026-10-{day:02d} 10:00", site="Sede Miraflores", room="Consultorio 2")
            for day in range(5, 5 + rows)
        ]
        with counted_queries() as sent:
            plan = plan_of(tmp_path, *lines)
        db.session.rollback()
        assert plan.ok, plan.errors
        return len([s for s in sent if "room_reservation" in s])

    assert statements(1) == statements(12) == 1


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        ({"site": "Sede Miraflores"}, "consultorio", "the site Sede Miraflores is given: name its room too"),
        ({"room": "Consultorio 1"}, "sede", "the room Consultorio 1 is given: name its site too"),
        ({"site": "Sede Barranco", "room": "Consultorio 1"}, "sede", "no site is named Sede Barranco"),
        ({"site": "Sede Miraflores", "room": "Consultorio 9"}, "consultorio", "has no room named Consultorio 9"),
        ({"site": "Sede Miraflores", "room": "Consultorio 3"}, "consultorio", "Consultorio 3 is not in use"),
        ({"site": "Sede Surco", "room": "Sala 1"}, "sede", "the site Sede Surco is not in use"),
        (
            {"modality": "virtual", "site": "Sede Miraflores", "room": "Consultorio 1"},
            "consultorio",
            "a virtual session has no room",
        ),
        (  # an empty modality is virtual for a new session
            {"modality": "", "site": "Sede Miraflores", "room": "Consultorio 1"},
            "consultorio",
            "a virtual session has no room",
        ),
    ],
)
def test_a_wrong_room_refuses_the_whole_file_naming_row_column_and_value(
    practice, runner, tmp_path, cells, column, reason
):
    good = row(dni="40333444", site="Sede Miraflores", room="Consultorio 1")
    path = write_csv(tmp_path, "citas.csv", [HEADER, good, row(start="2026-10-06 10:00", **cells)])

    result = run_import(runner, "appointments", path)

    assert result.exit_code == 1
    assert f"row 3, column {column}: " in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("row 3"))
    assert reason in line
    assert db.session.scalar(select(func.count(Appointment.id))) == 0


def test_two_sessions_in_one_room_at_once_are_refused(practice, tmp_path):
    plan = plan_of(
        tmp_path,
        row(site="Sede Miraflores", room="Consultorio 1"),
        row(
            dni="40333444",
            email="luis@clinic.pe",
            start="2026-10-05 10:30",
            site="Sede Miraflores",
            room="Consultorio 1",
        ),
    )

    assert [(error.row, error.column) for error in plan.errors] == [(3, "inicio")]
    assert "overlaps row 2" in plan.errors[0].reason
    assert db.session.scalar(select(func.count(Room.id))) == 4


def test_the_import_screen_shows_the_warning_before_and_after_confirming(admin_client, practice, tmp_path, monkeypatch):
    monkeypatch.setattr(admin_client.application, "instance_path", str(tmp_path))
    data = write_csv(tmp_path, "citas.csv", [HEADER, row(site="Sede Miraflores", room="Consultorio 2")]).read_bytes()

    admin_client.post(
        "/admin/import/upload",
        data={"kind": "appointments", "file": (io.BytesIO(data), "citas.csv")},
        content_type="multipart/form-data",
    )
    preview = admin_client.get("/admin/import/preview")
    confirmed = admin_client.post("/admin/import/confirm", follow_redirects=True)

    assert text_of(re.search(r'<ul[^>]*id="import-warnings">(.*?)</ul>', body(preview), re.S).group(1)) == LUIS_HOLDS
    assert flashed(confirmed) == [
        "citas.csv imported: 1 created, 0 updated, 0 unchanged.",
        "Clients matched by national ID: 1.",
        LUIS_HOLDS,
    ]
    assert rooms_booked() == [("on_site", "Consultorio 2")]
