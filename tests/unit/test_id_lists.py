"""How a list of ids is written into a statement (services/platform/id_lists.py), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError

from admin_app.models import Authorization, Participant
from admin_app.models.base import Base
from admin_app.services.platform.id_lists import AmongSelected, among, ids_parameter


def _sql(statement, dialect) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_among_selected_is_a_plain_condition_on_sqlite_so_its_planner_looks_the_ids_up_by_index():
    chosen = select(Authorization.id).where(Authorization.client_id == 7)
    statement = select(Participant.id).where(AmongSelected(Participant.authorization_id, chosen))

    written = _sql(statement, sqlite.dialect())

    assert "participant.authorization_id IN (SELECT payer_authorization.id" in written
    assert not written.rstrip().endswith("= 1")  # `IN (...) = 1` is read row by row, not by index


def test_among_selected_is_an_array_lookup_on_postgresql():
    chosen = select(Authorization.id).where(Authorization.client_id == 7)
    statement = select(Participant.id).where(AmongSelected(Participant.authorization_id, chosen))

    written = _sql(statement, postgresql.dialect())

    assert "participant.authorization_id = ANY(ARRAY((SELECT payer_authorization.id" in written


def test_among_writes_the_ids_into_the_statement():
    statement = select(Participant.id).where(among(Participant.id, [3, 1, 2]))

    assert "participant.id IN (3, 1, 2)" in _sql(statement, sqlite.dialect())


def test_a_statement_built_once_is_given_its_ids_when_it_runs_and_writes_them_as_integers():
    """`ids_parameter`: the caseloads' unpaid sessions are built once and given each page's clients."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    statement = select(Participant.id).where(among(Participant.id, ids_parameter("ids")))
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_rest: sent.append(sql))

    with engine.connect() as connection:
        connection.execute(statement, {"ids": [3, 1, 2]})
        connection.execute(statement, {"ids": ["4"]})
        with pytest.raises(StatementError, match="Could not render literal value"):
            connection.execute(statement, {"ids": ["1) OR (1=1"]})

    assert [sql.rsplit("WHERE ", 1)[1] for sql in sent] == ["participant.id IN (3, 1, 2)", "participant.id IN (4)"]
