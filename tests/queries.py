"""Counting the SQL statements a request or a service call sends."""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import event

from admin_app.extensions import db


@contextmanager
def counted_queries():
    """Yield a list that fills with every statement sent to the app's engine meanwhile, but the
    session store's (one read a request, a write at most once a minute: the same for every page)."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "web_session" not in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


_ID_LIST = re.compile(r"\bIN \((?:[^()]|\([^()]*\))*\)")


def grown_statements(many: list[str], one: list[str]) -> dict[str, int]:
    """The statements a request over many rows sent more often than the same request over one row:
    empty when nothing is read per row. A list of ids is one shape whatever its length, and a
    relationship the one row did not hold (an appointment without a room) may be read once."""
    shapes_of_many = Counter(_ID_LIST.sub("IN (...)", statement) for statement in many)
    shapes_of_one = Counter(_ID_LIST.sub("IN (...)", statement) for statement in one)
    return {shape: sent for shape, sent in shapes_of_many.items() if sent > max(shapes_of_one[shape], 1)}
