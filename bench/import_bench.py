"""How long a large appointments import takes, against a bare bulk insert of the same rows.

Creates therapists and clients once in a PostgreSQL schema of its own, writes an appointments CSV
of `--rows` rows (weekday sessions of each therapist with their own clients, some weeks past and
some to come, a few cancelled or no-show), then times, each in one transaction that is rolled
back afterwards so every run starts from the same database:

- the import: `read_table` of the file, `appointments.plan`, `appointments.apply` (bulk INSERTs of
  appointments and participants, audit events), and a second `plan` of the same file in the same
  transaction, which must find every row unchanged;
- the bare insert: Core INSERTs of the same appointments and participants, values already typed
  (no reading, no checks, no audit).

The printed ratio is import / bare: what reading, checking and auditing cost on top of the writes.

    .venv/bin/python bench/import_bench.py [--database-url URL] [--schema bench_import]
                                           [--rows 100000] [--therapists 200] [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal

import sqlalchemy as sa
from run import DEFAULT_URL, ROOT, make_bench_app, schema_url

CLIENTS_PER_THERAPIST = 25
SESSIONS_PER_DAY = 10  # hourly from 08:00, 50 minutes each
PAST_WEEKS = 6
HEADER = "client_national_id,therapist_email,start,duration_minutes,modality,fee,currency,status"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--schema", default="bench_import", help="PostgreSQL schema to create and use")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--therapists", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each side; the median is printed")
    return parser.parse_args(argv)


def prepare(args: argparse.Namespace) -> None:
    """Migrate; make sure the schema holds the therapists and clients and no appointment."""
    from flask import g
    from flask_migrate import upgrade

    from admin_app.extensions import db
    from admin_app.models import Client, CompensationModel, Therapist

    upgrade(directory=str(ROOT / "migrations"))
    g.audit_actor = "bench"
    session = db.session
    session.execute(sa.text("TRUNCATE appointment, participant, audit_event RESTART IDENTITY CASCADE"))
    have = session.scalar(sa.select(sa.func.count(Therapist.id)))
    if have < args.therapists:
        print(f"Creating {args.therapists - have} therapists and their clients ...", flush=True)
        session.execute(
            sa.insert(Therapist.__table__),
            [
                {
                    "full_name": f"Therapist {n}",
                    "email": therapist_email(n),
                    "compensation_model": CompensationModel.COMMISSION,
                    "commission_percent": Decimal("40.00"),
                    "default_fee": Decimal("150.00"),
                    "default_currency": "PEN",
                    "active": True,
                }
                for n in range(have, args.therapists)
            ],
        )
        session.execute(
            sa.insert(Client.__table__),
            [
                {
                    "full_name": f"Client {n}",
                    "national_id": national_id(n),
                    "preferred_language": "es",
                    "reminder_preference": "email",
                    "survey_opt_out": False,
                    "active": True,
                    "registered_at": dt.datetime.now(dt.UTC),
                }
                for n in range(have * CLIENTS_PER_THERAPIST, args.therapists * CLIENTS_PER_THERAPIST)
            ],
        )
    session.commit()
    session.execute(sa.text("ANALYZE"))
    session.commit()


def therapist_email(n: int) -> str:
    return f"bench-therapist-{n}@example.com"


def national_id(n: int) -> str:
    return f"BENCH{n:07d}"


def sessions(args: argparse.Namespace, today: dt.date) -> list[tuple[int, int, dt.datetime, str]]:
    """(therapist, client, local start, status) per row: each therapist's weekday hours in turn,
    each client seeing only their own therapist, so nobody is booked twice."""
    monday = today - dt.timedelta(days=today.weekday() + 7 * PAST_WEEKS)
    rows = []
    for k in range(args.rows):
        therapist = k % args.therapists
        nth = k // args.therapists  # the therapist's nth session
        weekday_index, hour = divmod(nth, SESSIONS_PER_DAY)
        weeks, weekday = divmod(weekday_index, 5)
        day = monday + dt.timedelta(weeks=weeks, days=weekday)
        start = dt.datetime.combine(day, dt.time(8 + hour))
        client = therapist * CLIENTS_PER_THERAPIST + nth % CLIENTS_PER_THERAPIST
        status = "cancelled" if k % 10 == 3 else "no-show" if k % 17 == 5 else ""
        rows.append((therapist, client, start, status))
    return rows


def csv_file(rows) -> bytes:
    lines = [HEADER]
    lines += [
        f"{national_id(client)},{therapist_email(therapist)},{start:%Y-%m-%d %H:%M},50,virtual,150.00,PEN,{status}"
        for therapist, client, start, status in rows
    ]
    return "\n".join(lines).encode()


def timed_import(data: bytes, expected: int) -> dict[str, float]:
    from admin_app.extensions import db
    from admin_app.models import Appointment
    from admin_app.services.imports import appointments
    from admin_app.services.imports.reading import read_table

    session = db.session
    times = {}
    started = time.perf_counter()
    table = read_table(data, "appointments.csv", appointments.COLUMNS)
    times["read_table"] = time.perf_counter() - started
    started = time.perf_counter()
    plan = appointments.plan(session, table)
    times["plan"] = time.perf_counter() - started
    if plan.errors or plan.counts()["created"] != expected:
        raise SystemExit(f"unexpected plan: {plan.counts()}, first errors {[str(e) for e in plan.errors[:5]]}")
    started = time.perf_counter()
    appointments.apply(session, plan)
    times["apply"] = time.perf_counter() - started
    if session.scalar(sa.select(sa.func.count(Appointment.id))) != expected:
        raise SystemExit("the import did not write every row")
    started = time.perf_counter()
    again = appointments.plan(session, table)
    times["plan again (all unchanged)"] = time.perf_counter() - started
    if again.counts()["unchanged"] != expected:
        raise SystemExit(f"the second plan is not all unchanged: {again.counts()}")
    session.rollback()
    return times


def timed_bare(rows, zone) -> float:
    """The same appointments and participants, typed in advance, in two Core executemany INSERTs
    with the appointments' ids read back between them (the fastest way found for the import too;
    INSERT ... RETURNING batches are slower with psycopg)."""
    from admin_app.extensions import db
    from admin_app.models import Appointment, AppointmentStatus, Attendance, Client, Participant, Therapist

    session = db.session
    therapist_ids = dict(session.execute(sa.select(Therapist.email, Therapist.id)).all())
    client_ids = dict(session.execute(sa.select(Client.national_id, Client.id)).all())
    now = dt.datetime.now(dt.UTC)
    minutes = dt.timedelta(minutes=50)
    appointment_rows, participant_rows = [], []
    for therapist, client, start, status in rows:
        starts_at = start.replace(tzinfo=zone).astimezone(dt.UTC)
        attendance = {"cancelled": Attendance.CANCELLED, "no-show": Attendance.NO_SHOW}.get(
            status, Attendance.ATTENDED if starts_at < now else Attendance.EXPECTED
        )
        appointment_rows.append(
            {
                "therapist_id": therapist_ids[therapist_email(therapist)],
                "starts_at": starts_at,
                "ends_at": starts_at + minutes,
                "kind": "individual",
                "modality": "virtual",
                "status": {
                    Attendance.CANCELLED: AppointmentStatus.CANCELLED,
                    Attendance.EXPECTED: AppointmentStatus.SCHEDULED,
                }.get(attendance, AppointmentStatus.HELD),
                "created_at": now,
            }
        )
        participant_rows.append(
            {
                "client_id": client_ids[national_id(client)],
                "attendance": attendance,
                "fee": Decimal("150.00"),
                "currency": "PEN",
                "billed_to": "client",
            }
        )
    table = Appointment.__table__
    started = time.perf_counter()
    session.execute(sa.insert(table), appointment_rows)
    ids = {
        (therapist_id, starts_at): id_
        for id_, therapist_id, starts_at in session.execute(
            sa.select(table.c.id, table.c.therapist_id, table.c.starts_at)
        )
    }
    for appointment, participant in zip(appointment_rows, participant_rows, strict=True):
        participant["appointment_id"] = ids[(appointment["therapist_id"], appointment["starts_at"])]
    session.execute(sa.insert(Participant.__table__), participant_rows)
    elapsed = time.perf_counter() - started
    session.rollback()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = schema_url(args.database_url, args.schema)
    app = make_bench_app(url)
    with app.app_context():
        from admin_app.services.platform.clinic_time import clinic_zone

        prepare(args)
        zone = clinic_zone()
        rows = sessions(args, dt.datetime.now(zone).date())
        data = csv_file(rows)
        print(
            f"{len(rows)} rows ({len(data) // 1024} KiB of CSV), {args.therapists} therapists, "
            f"{args.therapists * CLIENTS_PER_THERAPIST} clients, zone {zone.key}, median of {args.repeat}",
            flush=True,
        )
        imports = [timed_import(data, len(rows)) for _ in range(args.repeat)]
        bare = statistics.median(timed_bare(rows, zone) for _ in range(args.repeat))
    steps = {name: statistics.median(run[name] for run in imports) for name in imports[0]}
    writing = steps["plan"] + steps["apply"]
    print()
    for name, seconds in steps.items():
        print(f"  {name:<28} {seconds:8.2f} s")
    print(f"  {'plan + apply':<28} {writing:8.2f} s")
    print(f"  {'bare bulk insert':<28} {bare:8.2f} s")
    print(f"  ratio (plan + apply) / bare: {writing / bare:.2f}")
    print(f"  ratio (read + plan + apply) / bare: {(steps['read_table'] + writing) / bare:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
