"""A long list of ids in a statement, written into it as numbers rather than one placeholder each.

psycopg splits a statement at its placeholders in Python, in a time that grows with the square of
their number: the caseloads of every therapist (558 clients, some 2,000 placeholders in the ledger's
statement of their unpaid sessions) spent about 0.4 s there on the 30 x 36 bench. Ids are integers,
so writing them into the statement is safe; the statement's cached compiled form is kept (SQLAlchemy
renders them at execution).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, bindparam


def among(column: ColumnElement[int], ids: Iterable[int]) -> ColumnElement[bool]:
    """`column IN (ids)`, the ids written into the statement."""
    return column.in_(bindparam(None, [int(each) for each in ids], expanding=True, literal_execute=True))
