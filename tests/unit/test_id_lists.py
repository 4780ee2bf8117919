"""How a list of ids is written into a statement (services/platform/id_lists.py), on both databases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from admin_app.models import Authorization, Participant
from admin_app.services.platform.id_lists import AmongSelected, among


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
