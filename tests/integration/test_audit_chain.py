"""The audit trail's hash chain: `flask audit verify` finds a row changed or deleted with plain SQL,
and writers at the same time (two processes) leave one valid chain: without the lock they fork it."""

from __future__ import annotations

import datetime as dt
import multiprocessing

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, update

from admin_app.extensions import db
from admin_app.models import AuditAction, AuditEvent
from admin_app.models.audit import record_event
from admin_app.services.audit.chain import ChainCheck, verify_chain
from tests.conftest import REAL_TIME, make_app
from tests.integration.test_migrations import empty_database  # noqa: F401 (a fixture)
from tests.integration.test_records_crud import client_form


def audit_ids() -> list[int]:
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def sql(statement: str, **params) -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


@pytest.fixture
def trail(admin_client):
    """A few events of every kind of writer: the screen (listener), a view (record_event), an export."""
    for n in range(3):
        admin_client.post("/admin/client/new/", data=client_form(national_id=f"CH{n:05d}", email=f"c{n}@example.com"))
    record_event(db.session, action=AuditAction.VIEW, entity="client", entity_id=1)
    db.session.commit()
    assert admin_client.get("/admin/client/export/csv/").status_code == 200
    ids = audit_ids()
    assert len(ids) >= 5
    return ids


def test_an_untouched_trail_verifies(runner, trail):
    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert f"The audit trail is intact: {len(trail)} rows checked." in result.output


def test_an_actor_changed_with_sql_is_found(runner, trail):
    sql("UPDATE audit_event SET actor = 'someone.else@example.com' WHERE id = :id", id=trail[2])

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code != 0
    assert f"Audit row {trail[2]} does not match the chain" in result.output
    assert "2 rows before it are intact" in result.output


def test_a_row_deleted_with_sql_is_found_at_the_next_row(runner, trail):
    sql("DELETE FROM audit_event WHERE id = :id", id=trail[1])

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code != 0
    assert f"Audit row {trail[2]} does not match the chain" in result.output


def test_a_changed_record_id_or_time_is_found(trail):
    sql("UPDATE audit_event SET entity_id = 999 WHERE id = :id", id=trail[3])
    assert verify_chain(db.session).broken_at == trail[3]

    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == trail[0]).values(occurred_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    )
    db.session.commit()
    assert verify_chain(db.session).broken_at == trail[0]


def test_rows_of_a_savepoint_rolled_back_leave_no_gap_in_the_chain(app):
    def view(entity_id: int) -> None:
        record_event(db.session, action=AuditAction.VIEW, entity="client", entity_id=entity_id)

    view(1)
    kept = db.session.begin_nested()
    view(2)
    kept.commit()
    dropped = db.session.begin_nested()
    view(3)
    dropped.rollback()
    view(4)
    db.session.commit()

    assert [e.entity_id for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [1, 2, 4]
    assert verify_chain(db.session) == ChainCheck(3, None)


def _write_events(database_url: str, process: int, start, count: int) -> None:
    """A writer in its own process: `count` transactions of two events each (nothing else in them: a new
    client would take the client-number counter's lock, which serialises the writers by itself)."""
    app = make_app(database_url)
    with app.app_context():
        start.wait(30)
        for n in range(count):
            for entity_id in (process, n):
                record_event(db.session, action=AuditAction.VIEW, entity="client", entity_id=entity_id)
            db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("clock", [REAL_TIME], indirect=True)
def test_two_processes_writing_at_once_leave_one_valid_chain(app, database_url):
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)  # both apps built before either writes
    writers = [context.Process(target=_write_events, args=(database_url, p, start, 25)) for p in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert [writer.exitcode for writer in writers] == [0, 0]

    assert db.session.scalar(select(func.count(AuditEvent.id))) == 2 * 25 * 2
    check = verify_chain(db.session)
    assert (check.checked, check.broken_at) == (100, None)


def test_the_migration_chains_the_rows_written_before_it(empty_database):  # noqa: F811
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0015_reservation_low_use"]).exit_code == 0
    engine = sa.create_engine(empty_database)
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(
                sa.text(
                    "INSERT INTO audit_event (occurred_at, actor, action, entity, entity_id, changed_fields) "
                    "VALUES (:at, 'staff@example.com', 'update', 'client', :n, '[\"phone\"]')"
                ),
                {"at": f"2026-11-0{n + 1} 10:00:00", "n": n},
            )

    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "3 rows checked" in verified.output

    with app.app_context():  # and the rows written after it follow them
        record_event(db.session, action=AuditAction.VIEW, entity="client", entity_id=1)
        db.session.commit()
        assert verify_chain(db.session) == ChainCheck(4, None)
        db.session.remove()
        db.engine.dispose()
    engine.dispose()
