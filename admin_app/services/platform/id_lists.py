"""A long list of ids in a statement, written into it as numbers rather than one placeholder each.

psycopg splits a statement at its placeholders in Python, in a time that grows with the square of
their number: the caseloads of every therapist (558 clients, some 2,000 placeholders in the ledger's
statement of their unpaid sessions) spent about 0.4 s there on the 30 x 36 bench. Ids are integers,
so writing them into the statement is safe; the statement's cached compiled form is kept (SQLAlchemy
renders them at execution).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BindParameter, Boolean, ColumnElement, Integer, Select, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal


def among(column: ColumnElement[int], ids: Iterable[int] | BindParameter) -> ColumnElement[bool]:
    """`column IN (ids)`, the ids written into the statement; or `ids` an `ids_parameter`, for a
    statement built once and given its ids when it runs."""
    if isinstance(ids, BindParameter):
        return column.in_(ids)
    return column.in_(bindparam(None, [int(each) for each in ids], expanding=True, literal_execute=True))


def ids_parameter(name: str) -> BindParameter:
    """A parameter for a list of ids, written into the statement as `among` writes them (as integers,
    whatever the caller gives)."""
    return bindparam(name, type_=Integer(), expanding=True, literal_execute=True)


class AmongSelected(ColumnElement[bool]):
    """`column IN (select)`, which PostgreSQL runs as `column = ANY(ARRAY(select))`: the ids are read
    once, then looked up by the column's index. With IN, PostgreSQL may join instead and walk the
    whole index of the column (the counts of a caseload page's authorizations read every linked
    participant of the practice: 11,184 rows and their invoice lines for the 3,302 it needed)."""

    inherit_cache = True
    type = Boolean()
    # A condition, as `IN` is: without this SQLite's compiler writes `... IN (select) = 1`, which
    # its planner cannot look up by index (the authorizations list read every linked participant).
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("selected", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[int], selected: Select) -> None:
        self.column = column
        self.selected = selected


@compiles(AmongSelected)
def _in_subquery(element: AmongSelected, compiler, **kw) -> str:
    return compiler.process(element.column.in_(element.selected), **kw)


@compiles(AmongSelected, "postgresql")
def _any_array(element: AmongSelected, compiler, **kw) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY(ARRAY({compiler.process(element.selected.scalar_subquery(), **kw)}))"
