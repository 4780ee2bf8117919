"""`flask db upgrade` names the PostgreSQL settings that differ from README "Production", and never fails on them."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from admin_app.services.platform.database_settings import differences
from tests.conftest import make_app, private_schema

on_postgresql = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL settings")


def with_session_settings(url: str, **settings: str) -> str:
    """The URL whose connections start with these settings (libpq `options`, as the bench sets search_path)."""
    parsed = sa.make_url(url).set(drivername="postgresql+psycopg")
    options = " ".join([parsed.query.get("options", ""), *(f"-c{name}={value}" for name, value in settings.items())])
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@on_postgresql
def test_upgrade_on_postgresql_warns_about_each_setting_off_the_advice_and_still_succeeds():
    with private_schema(os.environ["TEST_DATABASE_URL"], "settings") as url:
        app = make_app(with_session_settings(url, random_page_cost="4", work_mem="4MB", jit="on"))
        upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert upgraded.exit_code == 0, upgraded.output
    assert "PostgreSQL setting random_page_cost = 4, advised 1.1" in upgraded.output
    assert "PostgreSQL setting work_mem = 4MB, advised 16MB" in upgraded.output
    assert "PostgreSQL setting jit = on, advised off" in upgraded.output


@on_postgresql
def test_settings_that_follow_the_advice_are_not_named():
    engine = sa.create_engine(
        with_session_settings(
            os.environ["TEST_DATABASE_URL"],
            random_page_cost="1.1",
            work_mem="64MB",
            jit="off",
            effective_cache_size="8GB",
        )
    )
    try:
        with engine.connect() as connection:
            named = {line.split(" = ")[0] for line in differences(connection)}
            assert not named & {"random_page_cost", "work_mem", "jit", "effective_cache_size"}

            connection.execute(sa.text("SET effective_cache_size = '512MB'"))
            assert "effective_cache_size = 512MB, advised 4GB" in " ".join(differences(connection))
    finally:
        engine.dispose()


def test_upgrade_on_sqlite_says_nothing_about_postgresql_settings(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert upgraded.exit_code == 0, upgraded.output
    assert "PostgreSQL setting" not in upgraded.output
