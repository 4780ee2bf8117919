"""`flask import rooms|reservations FILE`: real CSV and XLSX files, all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Room, RoomReservation, Site
from tests.factories import make_reservation, make_site, make_therapist
from tests.integration.test_import_people import run_import, write_csv, write_xlsx


def counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Site, Room, RoomReservation))


def site(name: str) -> Site:
    return db.session.scalars(select(Site).where(Site.name == name)).one()


# --- rooms ------------------------------------------------------------------------------------


def test_a_rooms_file_creates_sites_and_rooms_and_fills_an_empty_address(runner, tmp_path):
    make_site("Miraflores", rooms=("Room 1",))
    db.session.commit()
    path = write_csv(
        tmp_path,
        "rooms.csv",
        [
            ["site", "room", "address"],
            ["Miraflores", "room 1", "Av. Larco 100"],
            ["Miraflores", "Room 2", ""],
            ["San Isidro", "A", "Calle Las Begonias 200"],
            ["San Isidro", "B", ""],
        ],
    )
    result = run_import(runner, "rooms", path)
    assert result.exit_code == 0, result.output
    assert "3 created, 1 updated, 0 unchanged" in result.output
    assert site("Miraflores").address == "Av. Larco 100"
    assert [room.name for room in site("Miraflores").rooms] == ["Room 1", "Room 2"]
    assert site("San Isidro").address == "Calle Las Begonias 200"
    assert [room.name for room in site("San Isidro").rooms] == ["A", "B"]


def test_a_different_address_is_an_error_and_nothing_is_written(runner, tmp_path):
    make_site("Miraflores", rooms=())
    site("Miraflores").address = "Av. Larco 100"
    db.session.commit()
    before = counts()
    path = write_xlsx(
        tmp_path,
        "sedes.xlsx",
        [
            ["Sede", "Consultorio", "Dirección"],
            ["Nueva", "1", ""],
            ["MIRAFLORES", "2", "av. larco  100"],
            ["Miraflores", "3", "Jr. Otro 5"],
        ],
    )
    result = run_import(runner, "rooms", path)
    assert result.exit_code == 1
    assert "row 4, column Dirección: Miraflores already has the address Av. Larco 100" in result.output
    assert counts() == before


# --- reservations ----------------------------------------------------------------------------


@pytest.fixture
def practice(app):
    make_site("Downtown", rooms=("Room 1", "Room 2"))
    make_therapist(full_name="Ana Pérez", email="ana@example.com")
    jorge = make_therapist(full_name="Jorge Salas", email="jorge@example.com")
    make_reservation(site("Downtown").rooms[0], jorge, 1, ("09:00", "12:00"), dt.date(2026, 9, 1))
    db.session.commit()


def test_a_reservations_file_in_spanish_with_day_names_in_three_languages(runner, tmp_path, practice):
    path = write_csv(
        tmp_path,
        "reservas.csv",
        [
            ["correo_terapeuta", "Sede", "Consultorio", "Día", "Desde", "Hasta", "Vigente desde", "Vigente hasta"],
            ["ANA@example.com", "downtown", "Room 1", "miércoles", "09:00", "10:00", "2026-09-01", ""],
            ["ana@example.com", "Downtown", "Room 1", "Mercredi", "10:00", "11:00", "2026-09-01", "2026-12-31"],
            ["ana@example.com", "Downtown", "Room 1", "3", "11:00", "12:00", "01/09/2026", ""],
            ["ana@example.com", "Downtown", "Room 1", "lunes", "12:00", "13:00", "2026-09-01", ""],
        ],
        delimiter=";",
    )
    result = run_import(runner, "reservations", path)
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output
    stored = db.session.scalars(
        select(RoomReservation).order_by(RoomReservation.starts_time, RoomReservation.weekday)
    ).all()
    assert [(r.weekday, f"{r.starts_time:%H:%M}") for r in stored] == [
        (1, "09:00"),
        (3, "09:00"),
        (3, "10:00"),
        (3, "11:00"),
        (1, "12:00"),
    ]


def test_a_bad_row_leaves_the_database_unchanged(runner, tmp_path, practice):
    before = counts()
    path = write_xlsx(
        tmp_path,
        "reservations.xlsx",
        [
            ["therapist_email", "site", "room", "weekday", "from", "to", "valid_from", "valid_until"],
            ["ana@example.com", "Downtown", "Room 2", "Monday", "09:00", "10:00", "2026-09-01", None],
            ["ana@example.com", "Downtown", "Room 1", "Monday", "11:00", "13:00", "2026-10-01", None],
            ["ana@example.com", "Downtown", "Room 2", "Monday", "09:30", "10:30", "2026-09-01", None],
            ["ana@example.com", "Downtown", "Room 2", "Funday", "09:30", "10:30", "2026-09-01", None],
            ["ana@example.com", "Downtown", "Room 2", "2", "10:30", "09:30", "2026-09-01", None],
        ],
    )
    result = run_import(runner, "reservations", path)
    assert result.exit_code == 1
    output = result.output
    assert (
        "row 3, column from: Room Downtown · Room 1 is reserved by Jorge Salas every Monday 09:00–12:00 from "
        "2026-09-01." in output
    )
    assert "row 4, column from: Room Downtown · Room 2 is reserved by Ana Pérez every Monday 09:00–10:00" in output
    assert "(row 2)" in output
    assert "row 5, column weekday: Funday is not a day of the week" in output
    assert "row 6, column to:" in output
    assert "4 error(s)" in output
    assert counts() == before
