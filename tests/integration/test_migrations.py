"""The Alembic migrations: one head, and from an empty database they build exactly the models' schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from admin_app.models import Base
from tests.conftest import make_app, private_schema

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_the_migrations_have_a_single_head():
    script = ScriptDirectory(str(MIGRATIONS))
    heads = script.get_heads()
    assert len(heads) == 1, f"several heads, merge them: {heads}"
    # Every revision is reachable from that head down to the base.
    assert len(list(script.walk_revisions())) == len(list(script.iterate_revisions(heads[0], "base")))


@pytest.fixture(params=["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"])
def empty_database(request, tmp_path):
    """A database with nothing in it: a SQLite file, or a new PostgreSQL schema (TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    base_url = os.environ["TEST_DATABASE_URL"]
    with private_schema(base_url, "fresh") as url:
        yield url


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_flask_db_upgrade_builds_the_schema_and_db_check_finds_no_drift(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()

    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert table_names(empty_database) == {*Base.metadata.tables, "alembic_version"}

    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output  # alembic check exits non-zero on any difference

    engine = sa.create_engine(empty_database)
    with engine.begin() as connection:
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()
        # The check really compares: a schema that lost an index is reported.
        connection.execute(sa.text("DROP INDEX ix_client_full_name"))
    engine.dispose()
    drifted = runner.invoke(args=["db", "check"])
    assert drifted.exit_code != 0


def test_the_migrations_downgrade_to_empty_and_upgrade_again(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0

    downgraded = runner.invoke(args=["db", "downgrade", "base"])
    assert downgraded.exit_code == 0, downgraded.output
    assert table_names(empty_database) <= {"alembic_version"}

    again = runner.invoke(args=["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert table_names(empty_database) == {*Base.metadata.tables, "alembic_version"}


def test_clients_registered_before_client_numbers_are_numbered_in_order_and_new_ones_follow(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0004"]).exit_code == 0
    engine = sa.create_engine(empty_database)
    with engine.begin() as connection:
        for national_id, name in (("B-2", "Berta"), ("A-1", "Ana"), ("C-3", "Carla")):
            connection.execute(
                sa.text(
                    "INSERT INTO client (full_name, national_id, preferred_language, reminder_preference,"
                    " survey_opt_out, active, registered_at) VALUES (:name, :nid, 'es', 'none', false, true, :at)"
                ),
                {"name": name, "nid": national_id, "at": "2026-01-01 10:00:00+00:00"},
            )

    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output

    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO client (full_name, preferred_language, reminder_preference, survey_opt_out, active,"
                " registered_at, client_number) VALUES ('Dana', 'en', 'none', false, true, :at, '7')"
            ),
            {"at": "2026-02-01 10:00:00+00:00"},
        )
        numbers = connection.execute(sa.text("SELECT full_name, client_number FROM client ORDER BY id")).all()
        counter = connection.execute(sa.text("SELECT last_value FROM number_counter WHERE series = 'client'")).scalar()
    engine.dispose()
    assert [tuple(row) for row in numbers] == [("Berta", "1"), ("Ana", "2"), ("Carla", "3"), ("Dana", "7")]
    assert counter == 3  # the next automatic number is 4


def test_0015_widens_the_task_kinds_and_its_downgrade_narrows_them_again(empty_database):
    """The kind is a VARCHAR with a CHECK constraint: the new kind is refused before 0015, stored
    after it, and refused again once 0015 is undone (which drops the tasks of that kind)."""
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    engine = sa.create_engine(empty_database)
    insert = sa.text(
        "INSERT INTO admin_task (kind, subject, params, status, opened_at, opened_on)"
        " VALUES ('reservation_low_use', '7', '{}', 'open', '2026-12-05 10:00:00+00:00', '2026-12-05')"
    )

    def stored_kinds() -> list[str]:
        with engine.begin() as connection:
            return connection.execute(sa.text("SELECT kind FROM admin_task ORDER BY id")).scalars().all()

    def insert_refused() -> bool:
        try:
            with engine.begin() as connection:
                connection.execute(insert)
        except sa.exc.IntegrityError:
            return True
        return False

    try:
        assert runner.invoke(args=["db", "upgrade", "0014_room_reservations"]).exit_code == 0
        assert insert_refused()

        upgraded = runner.invoke(args=["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        assert not insert_refused()
        assert stored_kinds() == ["reservation_low_use"]

        downgraded = runner.invoke(args=["db", "downgrade", "0014_room_reservations"])
        assert downgraded.exit_code == 0, downgraded.output
        assert stored_kinds() == []
        assert insert_refused()
    finally:
        engine.dispose()
