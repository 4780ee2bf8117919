"""`flask billing authorizations`: every authorization with its counts and status, as JSON and CSV,
checked against figures worked out by hand; `--as-of` sets the day the status is read on."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Attendance, AuditAction, AuditEvent
from admin_app.services.billing import report
from tests.factories import book, make_authorization, make_client, make_payer, make_therapist, pays_for
from tests.queries import counted_queries

COLUMNS = [
    "client_national_id",
    "client_number",
    "client",
    "payer",
    "reference",
    "approved",
    "scheduled",
    "used",
    "billed",
    "remaining",
    "valid_from",
    "valid_until",
    "status",
]


@pytest.fixture
def authorizations(app, clock):
    """Lima, 15 October 2026 (low: 2 sessions left or 14 days to go). Pacífico does not count
    missed sessions; Rímac does.

    - Ana, PAC-1, 10 approved to 31 Dec: 2 attended, 1 booked, 1 cancelled → used 2, scheduled 1, 7 left: active
    - Beto, PAC-2, 3 approved: 1 attended, 1 booked → 1 left: low
    - Carla, RIM-1, 2 approved: 1 attended, 1 no-show (Rímac counts it) → used 2: exhausted
    - Dora, PAC-3, 5 approved to 20 Oct (low by date), extension requested: extension_requested
    - Eva, PAC-4, 5 approved 1 Sep to 14 Oct, 1 attended: expired; Eva, RIM-2, 4 approved, closed: closed
    """
    clock.set("2026-10-15T15:00Z")
    therapist = make_therapist(full_name="Lucía Paredes")
    pacifico = make_payer("Pacífico Seguros")
    rimac = make_payer("Rímac EPS", counts_missed_sessions=True)
    ana, beto, carla, dora, eva = (
        make_client(therapist, full_name=name, national_id=f"4000000{n}", client_number=f"C-{n}")
        for n, name in enumerate(["Ana Soto", "Beto Ruiz", "Carla Díaz", "Dora Vega", "Eva Luna"], start=1)
    )
    for client in (ana, beto, dora, eva):
        pays_for(client, pacifico)
    pays_for(carla, rimac)
    october = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    make_authorization(ana, pacifico, 10, *october, reference="PAC-1")
    make_authorization(beto, pacifico, 3, *october, reference="PAC-2")
    make_authorization(carla, rimac, 2, *october, reference="RIM-1")
    make_authorization(
        dora,
        pacifico,
        5,
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 20),
        reference="PAC-3",
        extension_requested_at=clock.now(),
    )
    make_authorization(eva, pacifico, 5, dt.date(2026, 9, 1), dt.date(2026, 10, 14), reference="PAC-4")
    make_authorization(eva, rimac, 4, *october, reference="RIM-2", closed_at=clock.now())
    book(therapist, [ana], dt.datetime(2026, 10, 2, 9))
    book(therapist, [ana], dt.datetime(2026, 10, 9, 9))
    book(therapist, [ana], dt.datetime(2026, 10, 12, 9), attendance=Attendance.CANCELLED)
    book(therapist, [ana], dt.datetime(2026, 10, 20, 9), attendance=Attendance.EXPECTED)
    book(therapist, [beto], dt.datetime(2026, 10, 5, 11))
    book(therapist, [beto], dt.datetime(2026, 10, 22, 11), attendance=Attendance.EXPECTED)
    book(therapist, [carla], dt.datetime(2026, 10, 6, 12))
    book(therapist, [carla], dt.datetime(2026, 10, 13, 12), attendance=Attendance.NO_SHOW)
    book(therapist, [eva], dt.datetime(2026, 9, 10, 16))
    db.session.commit()


def entry(n, name, payer, reference, approved, scheduled, used, valid, status):
    return {
        "client_national_id": f"4000000{n}",
        "client_number": f"C-{n}",
        "client": name,
        "payer": payer,
        "reference": reference,
        "approved": approved,
        "scheduled": scheduled,
        "used": used,
        "billed": 0,
        "remaining": approved - used - scheduled,
        "valid_from": valid[0],
        "valid_until": valid[1],
        "status": status,
    }


OCTOBER = ("2026-10-01", "2026-12-31")
EXPECTED = [
    entry(1, "Ana Soto", "Pacífico Seguros", "PAC-1", 10, 1, 2, OCTOBER, "active"),
    entry(2, "Beto Ruiz", "Pacífico Seguros", "PAC-2", 3, 1, 1, OCTOBER, "low"),
    entry(3, "Carla Díaz", "Rímac EPS", "RIM-1", 2, 0, 2, OCTOBER, "exhausted"),
    entry(4, "Dora Vega", "Pacífico Seguros", "PAC-3", 5, 0, 0, ("2026-10-01", "2026-10-20"), "extension_requested"),
    entry(5, "Eva Luna", "Pacífico Seguros", "PAC-4", 5, 0, 1, ("2026-09-01", "2026-10-14"), "expired"),
    entry(5, "Eva Luna", "Rímac EPS", "RIM-2", 4, 0, 0, OCTOBER, "closed"),
]


def invoke(runner, *args: str):
    return runner.invoke(args=["billing", "authorizations", *args])


def test_the_report_as_json_has_every_status_and_the_counts_worked_out_by_hand(runner, authorizations):
    result = invoke(runner, "--as-of", "2026-10-15")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == EXPECTED


def test_without_as_of_the_status_is_read_today(runner, authorizations):
    assert json.loads(invoke(runner).output) == EXPECTED


def test_as_of_moves_the_day_the_status_is_read_on(runner, authorizations):
    """20 Dec: Ana's authorization ends within 14 days (low); Dora's has ended, so it is expired
    although an extension was requested; 1 Jan 2027: Ana's has expired too."""
    december = json.loads(invoke(runner, "--as-of", "2026-12-20").output)
    january = json.loads(invoke(runner, "--as-of", "2027-01-01").output)

    assert [line["status"] for line in december] == ["low", "low", "exhausted", "expired", "expired", "closed"]
    assert [line["status"] for line in january] == ["expired", "expired", "expired", "expired", "expired", "closed"]
    assert december[0]["remaining"] == 7


def test_the_report_as_csv_to_a_file_has_the_same_rows_and_is_recorded_as_an_export(runner, authorizations, tmp_path):
    target = tmp_path / "authorizations.csv"

    result = invoke(runner, "--as-of", "2026-10-15", "--format", "csv", "--output", str(target))

    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == COLUMNS
    assert rows[1:] == [[str(line[column]) for column in COLUMNS] for line in EXPECTED]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).all()
    assert event.entity == "payer_authorization" and event.actor.endswith("billing authorizations")


def test_a_client_without_national_id_has_an_empty_cell_and_a_formula_is_neutralised(runner, app, clock):
    clock.set("2026-10-15T15:00Z")
    client = make_client(full_name="=HYPERLINK(1)", national_id=None, client_number="C-9")
    make_authorization(client, make_payer("Pacífico"), 4, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="X")
    db.session.commit()

    rows = list(csv.reader(io.StringIO(invoke(runner, "--format", "csv").output.removeprefix("\ufeff"))))

    assert rows[1][:5] == ["", "C-9", "'=HYPERLINK(1)", "Pacífico", "X"]
    assert json.loads(invoke(runner).output)[0]["client_national_id"] is None


@pytest.mark.parametrize("as_of", ["2026-02-30", "15/10/2026", "1899-12-31", "2100-01-01"])
def test_a_bad_as_of_is_named_and_nothing_is_written(runner, authorizations, as_of):
    result = invoke(runner, "--as-of", as_of)

    assert result.exit_code != 0
    assert "--as-of" in result.output and "YYYY-MM-DD" in result.output
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).all() == []


def test_the_report_reads_every_authorization_in_one_query(app, authorizations):
    with counted_queries() as statements:
        lines = report.authorizations_report(db.session, dt.date(2026, 10, 15))

    assert len(lines) == 6
    assert len(statements) == 1
