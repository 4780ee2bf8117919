"""The appointments import bills rows to a payer and links them to its authorizations by the
rule, the file's rows taken in order of start; a payer that refuses bookings beyond what it
approved makes such a row an error. Counts are read back through `authorization_rows`.
"""

from __future__ import annotations

import datetime as dt

import pytest
from flask import g
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Appointment, BilledTo, Participant
from admin_app.services import imports
from admin_app.services.billing import authorizations
from admin_app.services.billing.authorizations import Counts
from admin_app.services.platform.clinic_time import from_local
from tests.factories import make_authorization, make_client, make_payer, make_therapist
from tests.queries import counted_queries

HEADER = "client_national_id,therapist_email,start,fee,currency,payer,authorization"


@pytest.fixture
def practice(app, clock):
    """Mid-October 2026 in Lima: Rosa's clients Ana and Carlos; ICBC warns beyond what it
    approved, WorkSafeBC refuses."""
    clock.set("2026-10-15T12:00Z")
    g.audit_actor = "importer@example.com"
    rosa = make_therapist(full_name="Rosa Quispe", email="rosa@clinic.pe")
    ana = make_client(rosa, full_name="Ana Ruiz", national_id="40111222")
    carlos = make_client(rosa, full_name="Carlos Soto", national_id="40333444")
    icbc = make_payer("ICBC")
    worksafe = make_payer("WorkSafeBC", refuses_over_approved=True)
    db.session.commit()
    return type("Practice", (), {"rosa": rosa, "ana": ana, "carlos": carlos, "icbc": icbc, "worksafe": worksafe})


def csv_bytes(*lines: str) -> bytes:
    return "\n".join((HEADER, *lines)).encode("utf-8")


def import_file(data: bytes):
    plan = imports.run(db.session, "appointments", data, "citas.csv")
    if plan.ok:
        db.session.commit()
    else:
        db.session.rollback()
    return plan


def counts_by_reference() -> dict[str, Counts]:
    return {row.reference: row.counts for row in authorizations.authorization_rows(db.session)}


def participant_at(local: str) -> Participant:
    starts_at = from_local(dt.datetime.fromisoformat(local))
    return db.session.scalar(select(Participant).join(Appointment).where(Appointment.starts_at == starts_at))


def test_a_batch_is_linked_in_order_of_start_the_earliest_ending_authorization_first(practice):
    short = make_authorization(
        practice.ana, practice.icbc, 2, dt.date(2026, 10, 1), dt.date(2026, 11, 30), reference="SHORT"
    )
    long = make_authorization(
        practice.ana, practice.icbc, 5, dt.date(2026, 10, 1), dt.date(2027, 3, 31), reference="LONG"
    )
    other = make_authorization(
        practice.carlos, practice.icbc, 4, dt.date(2026, 10, 1), dt.date(2027, 3, 31), reference="C-1"
    )
    db.session.commit()
    rows = (
        "40111222,rosa@clinic.pe,2026-11-17 10:00,150,PEN,ICBC,",
        "40111222,rosa@clinic.pe,2026-11-03 10:00,150,PEN,icbc,",
        "40111222,rosa@clinic.pe,2026-10-27 10:00,150,PEN,ICBC,LONG",  # the staff's choice
        "40111222,rosa@clinic.pe,2026-10-20 10:00,150,PEN,ICBC,",
        "40111222,rosa@clinic.pe,2026-10-06 10:00,150,PEN,ICBC,",  # past: attended
        "40111222,rosa@clinic.pe,2026-10-13 10:00,150,PEN,,",  # the client pays this one
        "40333444,rosa@clinic.pe,2026-10-06 12:00,150,PEN,ICBC,",
    )

    plan = import_file(csv_bytes(*rows))

    assert plan.errors == []
    assert plan.counts() == {"created": 7, "updated": 0, "unchanged": 0}
    # In order of start: Oct 6 and Oct 20 fill SHORT (ends first); Oct 27 is LONG by choice; Nov 3
    # and Nov 17 find SHORT full and go to LONG.
    assert counts_by_reference() == {
        "SHORT": Counts(approved=2, scheduled=1, used=1, billed=0),
        "LONG": Counts(approved=5, scheduled=3, used=0, billed=0),
        "C-1": Counts(approved=4, scheduled=0, used=1, billed=0),
    }
    assert participant_at("2026-10-20T10:00").authorization_id == short.id
    assert participant_at("2026-11-03T10:00").authorization_id == long.id
    chosen = participant_at("2026-10-27T10:00")
    assert (chosen.authorization_id, chosen.authorization_chosen) == (long.id, True)
    assert participant_at("2026-11-17T10:00").authorization_chosen is False
    self_paid = participant_at("2026-10-13T10:00")
    assert (self_paid.billed_to, self_paid.payer_id, self_paid.authorization_id) == (BilledTo.CLIENT, None, None)
    assert participant_at("2026-10-06T12:00").authorization_id == other.id

    again = import_file(csv_bytes(*rows))
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 7}
    assert counts_by_reference()["SHORT"] == Counts(approved=2, scheduled=1, used=1, billed=0)


def test_a_booked_session_billed_to_a_payer_by_a_later_import(practice):
    make_authorization(practice.ana, practice.icbc, 3, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="A-1")
    db.session.commit()
    import_file(csv_bytes("40111222,rosa@clinic.pe,2026-10-20 10:00,150,PEN,,"))
    assert counts_by_reference()["A-1"].scheduled == 0

    plan = import_file(csv_bytes("40111222,rosa@clinic.pe,2026-10-20 10:00,150,PEN,ICBC,"))

    assert plan.counts() == {"created": 0, "updated": 1, "unchanged": 0}
    assert counts_by_reference()["A-1"] == Counts(approved=3, scheduled=1, used=0, billed=0)
    # An empty payer cell leaves a booked participant billed as it is.
    assert import_file(csv_bytes("40111222,rosa@clinic.pe,2026-10-20 10:00,150,PEN,,")).counts()["unchanged"] == 1
    assert counts_by_reference()["A-1"].scheduled == 1

    # Naming another authorization moves the session to it, as the staff's choice.
    make_authorization(practice.ana, practice.icbc, 3, dt.date(2026, 10, 1), dt.date(2027, 3, 31), reference="A-2")
    db.session.commit()
    moved = import_file(csv_bytes("40111222,rosa@clinic.pe,2026-10-20 10:00,150,PEN,ICBC,A-2"))
    assert moved.counts() == {"created": 0, "updated": 1, "unchanged": 0}
    assert {reference: counts.scheduled for reference, counts in counts_by_reference().items()} == {"A-1": 0, "A-2": 1}
    assert participant_at("2026-10-20T10:00").authorization_chosen is True


def test_a_refusing_payer_makes_the_row_beyond_its_approval_an_error_and_nothing_is_written(practice):
    make_authorization(
        practice.ana, practice.worksafe, 2, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="WS-1"
    )
    make_authorization(practice.ana, practice.icbc, 1, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="I-1")
    db.session.commit()

    plan = import_file(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-11-10 10:00,150,PEN,WorkSafeBC,",
            "40111222,rosa@clinic.pe,2026-10-20 10:00,150,PEN,WorkSafeBC,",
            "40111222,rosa@clinic.pe,2026-10-27 10:00,150,PEN,WorkSafeBC,",
            "40111222,rosa@clinic.pe,2027-01-12 10:00,150,PEN,WorkSafeBC,",
            "40111222,rosa@clinic.pe,2026-11-03 10:00,150,PEN,Blue Cross,",
            "40333444,rosa@clinic.pe,2026-11-04 10:00,150,PEN,ICBC,I-1",
            "40333444,rosa@clinic.pe,2026-11-05 10:00,150,PEN,,I-1",
        )
    )

    assert [str(error) for error in plan.errors] == [
        "row 2, column payer: this payer does not accept sessions beyond what it approved. Authorization "
        "WorkSafeBC WS-1 (Ana Ruiz): 2 sessions approved, 3 booked or used: 1 beyond what is approved.",
        "row 5, column payer: this payer does not accept sessions beyond what it approved. No open authorization "
        "from WorkSafeBC covers 2027-01-12 for Ana Ruiz.",
        "row 6, column payer: no payer is named Blue Cross",
        "row 7, column authorization: I-1 is not an authorization of Carlos Soto from ICBC",
        "row 8, column authorization: an authorization needs the payer column",
    ]
    assert db.session.scalar(select(func.count(Participant.id))) == 0


def test_a_warning_payers_rows_beyond_its_approval_are_imported(practice):
    make_authorization(practice.ana, practice.icbc, 1, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="I-1")
    db.session.commit()

    plan = import_file(
        csv_bytes(
            "40111222,rosa@clinic.pe,2026-10-20 10:00,150,PEN,ICBC,",
            "40111222,rosa@clinic.pe,2026-10-27 10:00,150,PEN,ICBC,",
        )
    )

    assert plan.errors == []
    [row] = authorizations.authorization_rows(db.session)
    assert (row.counts.scheduled, row.remaining) == (2, -1)


def test_billing_rows_to_a_payer_costs_the_same_statements_for_any_number_of_rows(practice):
    make_authorization(practice.ana, practice.icbc, 20, dt.date(2026, 10, 1), dt.date(2027, 3, 31), reference="I-1")
    db.session.commit()

    def imported(days: range) -> int:
        rows = [f"40111222,rosa@clinic.pe,2026-11-{day:02d} 10:00,150,PEN,ICBC," for day in days]
        with counted_queries() as statements:
            plan = import_file(
                csv_bytes(*rows, f"40111222,rosa@clinic.pe,2026-12-{days[0]:02d} 10:00,150,PEN,ICBC,I-1")
            )
        assert plan.counts()["created"] == len(days) + 1
        return len(statements)

    assert imported(range(1, 3)) == imported(range(3, 11))
    [row] = authorizations.authorization_rows(db.session)
    assert row.counts.scheduled == 12
