"""Authorizations moved in from a spreadsheet: keyed by payer and reference, all or nothing,
idempotent, and the sessions waiting for them linked by the rule in order of start.

The files go through `imports.run` as the command and the screen call it; figures are read back
through `authorizations.authorization_rows`, as every list shows them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Attendance, AuditEvent, Authorization
from admin_app.services import imports
from admin_app.services.billing import authorizations
from tests.factories import book, make_authorization, make_client, make_payer, make_therapist, pays_for
from tests.queries import counted_queries

HEADER = "client_national_id,payer,reference,approved_sessions,valid_from,valid_until,therapist_email,rate,currency"


@pytest.fixture
def practice(app, clock):
    """ICBC and WorkSafeBC; Ana and Carlos, clients of Rosa."""
    clock.set("2026-10-01T12:00Z")
    g.audit_actor = "importer@example.com"
    rosa = make_therapist(full_name="Rosa Quispe", email="rosa@clinic.pe")
    ana = make_client(rosa, full_name="Ana Ruiz", national_id="40111222", email="ana@example.com")
    carlos = make_client(rosa, full_name="Carlos Soto", national_id="40333444", email="carlos@example.com")
    icbc = make_payer("ICBC")
    worksafe = make_payer("WorkSafeBC", refuses_over_approved=True)
    db.session.commit()
    return type("Practice", (), {"rosa": rosa, "ana": ana, "carlos": carlos, "icbc": icbc, "worksafe": worksafe})


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return "\n".join((header, *lines)).encode("utf-8")


def import_file(data: bytes, filename: str = "authorizations.csv"):
    """What `flask import authorizations FILE` does: run, then commit a clean file or roll back."""
    plan = imports.run(db.session, "authorizations", data, filename)
    if plan.ok:
        db.session.commit()
    else:
        db.session.rollback()
    return plan


def rows_of(client) -> list[tuple]:
    return [
        (row.payer, row.reference, row.approved, row.valid_from, row.valid_until, row.counts.used, row.remaining)
        for row in authorizations.authorization_rows(db.session, client_id=client.id)
    ]


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


GOOD_FILE = (
    "40111222,ICBC,CLM-1001,10,2026-10-01,2027-03-31,rosa@clinic.pe,120.00,PEN",
    "40111222,worksafebc,WS-77,6,2026-09-15,2026-12-31,,,",
    "40333444,Icbc,CLM-2002,4,2026-10-01,2026-11-30,,,",
)


def test_a_file_with_english_headers_creates_each_authorization(practice, runner, tmp_path):
    path = tmp_path / "authorizations.csv"
    path.write_bytes(csv_bytes(*GOOD_FILE))

    result = runner.invoke(args=["import", "authorizations", str(path)])

    assert result.exit_code == 0, result.output
    assert "Imported authorizations from authorizations.csv: 3 created, 0 updated, 0 unchanged." in result.output
    assert "Clients matched by national ID: 3." in result.output
    assert rows_of(practice.ana) == [
        ("WorkSafeBC", "WS-77", 6, dt.date(2026, 9, 15), dt.date(2026, 12, 31), 0, 6),
        ("ICBC", "CLM-1001", 10, dt.date(2026, 10, 1), dt.date(2027, 3, 31), 0, 10),
    ]
    assert rows_of(practice.carlos) == [("ICBC", "CLM-2002", 4, dt.date(2026, 10, 1), dt.date(2026, 11, 30), 0, 4)]
    claim = db.session.scalar(select(Authorization).where(Authorization.reference == "CLM-1001"))
    assert (claim.therapist_id, claim.rate, claim.currency) == (practice.rosa.id, Decimal("120.00"), "PEN")
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.entity == "payer_authorization", AuditEvent.action == "create"
            )
        )
        == 3
    )


def test_a_semicolon_file_with_spanish_headers_and_day_first_dates(practice):
    plan = import_file(
        csv_bytes(
            "ana@example.com;icbc;CLM-1001;8;01/10/2026;31/01/2027;rosa@clinic.pe;95,50;pen",
            header="correo_cliente;pagador;referencia;sesiones_aprobadas;desde;hasta;correo_terapeuta;tarifa;moneda",
        )
    )

    assert plan.errors == []
    assert plan.counts() == {"created": 1, "updated": 0, "unchanged": 0}
    assert rows_of(practice.ana) == [("ICBC", "CLM-1001", 8, dt.date(2026, 10, 1), dt.date(2027, 1, 31), 0, 8)]
    claim = db.session.scalar(select(Authorization).where(Authorization.reference == "CLM-1001"))
    assert (claim.rate, claim.currency) == (Decimal("95.50"), "PEN")


def test_the_same_file_twice_writes_nothing_the_second_time_and_a_change_updates(practice):
    import_file(csv_bytes(*GOOD_FILE))
    events = count(AuditEvent)

    again = import_file(csv_bytes(*GOOD_FILE))

    assert again.errors == []
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 3}
    assert count(AuditEvent) == events
    assert count(Authorization) == 3

    # Empty therapist, rate and currency keep what is stored; a new approved count is an update.
    changed = import_file(csv_bytes("40111222,ICBC,CLM-1001,12,2026-10-01,2027-03-31,,,"))
    assert changed.counts() == {"created": 0, "updated": 1, "unchanged": 0}
    claim = db.session.scalar(select(Authorization).where(Authorization.reference == "CLM-1001"))
    assert (claim.approved_sessions, claim.therapist_id, claim.rate) == (12, practice.rosa.id, Decimal("120.00"))


def test_a_key_of_another_clients_authorization_is_refused_not_overwritten(practice):
    make_authorization(
        practice.ana, practice.icbc, 10, dt.date(2026, 10, 1), dt.date(2027, 3, 31), reference="CLM-1001"
    )
    db.session.commit()

    plan = import_file(csv_bytes("40333444,ICBC,CLM-1001,4,2026-10-01,2026-11-30,,,"))

    assert [str(error) for error in plan.errors] == [
        f"row 2, column reference: ICBC CLM-1001 is an authorization of Ana Ruiz (#{practice.ana.client_number}), "
        f"not of Carlos Soto (#{practice.carlos.client_number})"
    ]
    assert rows_of(practice.ana) == [("ICBC", "CLM-1001", 10, dt.date(2026, 10, 1), dt.date(2027, 3, 31), 0, 10)]
    assert rows_of(practice.carlos) == []


def test_every_bad_row_is_reported_and_nothing_is_written(practice):
    events = count(AuditEvent)

    plan = import_file(
        csv_bytes(
            "40111222,ICBC,CLM-1,10,2026-10-01,2027-03-31,,,",  # good, but the file is not
            "40111222,ICBC,CLM-2,0,2026-10-01,2027-03-31,,,",
            "40111222,ICBC,CLM-3,5,2026-13-01,31/02/2027,,,",
            "40111222,ICBC,CLM-4,5,2026-10-01,2026-09-30,,,",
            "40111222,Blue Cross,CLM-5,5,2026-10-01,2027-03-31,,,",
            "99999999,ICBC,CLM-6,5,2026-10-01,2027-03-31,,,",
            "40111222,ICBC,CLM-1,5,2026-10-01,2027-03-31,nobody@clinic.pe,120,",
            ",ICBC,CLM-8,five,2026-10-01,2027-03-31,,,",
        )
    )

    assert [str(error) for error in plan.errors] == [
        "row 3, column approved_sessions: must be at least 1, got 0",
        "row 4, column valid_from: 2026-13-01 is not a day of the calendar",
        "row 4, column valid_until: 31/02/2027 is not a day of the calendar",
        "row 5, column valid_until: 2026-09-30 is before the start, 2026-10-01",
        "row 6, column payer: no payer is named Blue Cross",
        "row 7, column client_national_id: no client has the national ID 99999999",
        "row 8, column currency: a rate needs its currency",
        "row 8, column reference: CLM-1 of this payer is already on row 2",
        "row 8, column therapist_email: no therapist has the email nobody@clinic.pe",
        "row 9, column client_national_id: a value is required",
        "row 9, column approved_sessions: five is not a whole number",
    ]
    assert count(Authorization) == 0
    assert count(AuditEvent) == events


def test_a_file_without_a_client_column_or_a_required_column_is_refused_on_its_header(practice):
    plan = import_file(csv_bytes("ICBC,CLM-1,10,2026-10-01", header="payer,reference,approved_sessions,valid_from"))

    assert [str(error) for error in plan.errors] == [
        "row 1, column valid_until: the column is missing (accepted headers: valid_until, hasta)",
        "row 1, column client_national_id: the file needs a column that names the client: client_national_id, "
        "client_number or client_email (dni, numero_cliente, correo_cliente)",
    ]


def test_sessions_booked_before_the_approval_are_linked_in_order_of_start(practice):
    """Ana's ICBC sessions were booked before ICBC approved anything: the import links them, the
    earliest start first, to the authorization ending first while it has a session left."""
    pays_for(practice.ana, practice.icbc)
    rosa = practice.rosa
    # Booked out of order; two attended (October), three to come, one cancelled (takes no session).
    book(rosa, [practice.ana], dt.datetime(2026, 11, 20, 10), attendance=Attendance.EXPECTED)
    book(rosa, [practice.ana], dt.datetime(2026, 10, 2, 10), attendance=Attendance.ATTENDED)
    book(rosa, [practice.ana], dt.datetime(2026, 11, 6, 10), attendance=Attendance.EXPECTED)
    book(rosa, [practice.ana], dt.datetime(2026, 10, 9, 10), attendance=Attendance.ATTENDED)
    book(rosa, [practice.ana], dt.datetime(2026, 10, 16, 10), attendance=Attendance.CANCELLED)
    book(rosa, [practice.ana], dt.datetime(2026, 11, 13, 10), attendance=Attendance.EXPECTED)
    db.session.commit()

    plan = import_file(
        csv_bytes(
            "40111222,ICBC,LATER,10,2026-10-01,2027-03-31,,,",
            "40111222,ICBC,FIRST,3,2026-10-01,2026-12-31,,,",
        )
    )

    assert plan.errors == []
    # FIRST (ends first) takes Oct 2, Oct 9 (attended) and Nov 6; the Oct 16 cancellation is linked
    # but takes nothing; LATER takes Nov 13 and Nov 20.
    by_reference = {row.reference: row.counts for row in authorizations.authorization_rows(db.session)}
    assert by_reference == {
        "FIRST": authorizations.Counts(approved=3, scheduled=1, used=2, billed=0),
        "LATER": authorizations.Counts(approved=10, scheduled=2, used=0, billed=0),
    }
    assert import_file(csv_bytes("40111222,ICBC,FIRST,3,2026-10-01,2026-12-31,,,")).counts()["unchanged"] == 1


def test_the_statements_sent_do_not_grow_with_the_file(practice):
    """A few statements for the whole file, whatever its length, waiting sessions linked included."""
    clients = [make_client(practice.rosa, national_id=f"5000{n:04d}") for n in range(12)]
    for number, client in enumerate(clients):
        pays_for(client, practice.icbc)
        book(practice.rosa, [client], dt.datetime(2026, 10, 5, 8) + dt.timedelta(hours=number))
    db.session.commit()

    def imported(some) -> int:
        lines = [
            f"{client.national_id},ICBC,R-{client.id},10,2026-10-01,2027-03-31,rosa@clinic.pe,," for client in some
        ]
        with counted_queries() as statements:
            plan = import_file(csv_bytes(*lines))
        assert plan.counts()["created"] == len(some)
        return len(statements)

    assert imported(clients[:2]) == imported(clients[2:])
    assert [row.counts.used for row in authorizations.authorization_rows(db.session)] == [1] * 12


def test_new_dates_must_not_overlap_the_extension_chain(practice):
    first = make_authorization(
        practice.ana, practice.icbc, 6, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="CLM-1"
    )
    make_authorization(
        practice.ana, practice.icbc, 6, dt.date(2027, 1, 1), dt.date(2027, 3, 31), reference="CLM-1-EXT", extends=first
    )
    db.session.commit()

    plan = import_file(
        csv_bytes(
            "40111222,ICBC,CLM-1,6,2026-10-01,2027-01-10,,,",
            "40111222,ICBC,CLM-1-EXT,6,2026-12-15,2027-03-31,,,",
        )
    )

    assert [str(error) for error in plan.errors] == [
        "row 2, column valid_until: overlaps its extension CLM-1-EXT (valid from 2027-01-01)",
        "row 3, column valid_from: overlaps CLM-1, which this authorization extends (valid until 2026-12-31)",
    ]
    assert import_file(csv_bytes("40111222,ICBC,CLM-1-EXT,8,2027-01-01,2027-04-30,,,")).counts()["updated"] == 1
