"""Bulk writes (an import, the allocations of a payment), audited as the listener would audit them.

The audit trail's listener sees only ORM flushes of records; a bulk writer uses executemany
statements (a flush of a model with a relationship to itself, such as an authorization, sends one
INSERT per record), so it records its CREATE and UPDATE events here, in bulk too, with field names
only, as the listener does.

On PostgreSQL the rows go as arrays instead, one per column (`unnest`): an executemany of thousands
of rows spends most of its time in the driver, which builds and parses a statement of thousands of
placeholders per batch, where the arrays are one parameter per column and one statement in all. The
arrays go in binary (`_execute`): as text, psycopg quotes each value with a regular expression, a
third of an invoice run's time in Python.
"""

from __future__ import annotations

import functools
import json

from sqlalchemy import insert, inspect, update
from sqlalchemy.orm import Session

from admin_app.models import AuditAction
from admin_app.models.audit import chain_rows, current_actor, write_events
from admin_app.models.base import utcnow


def audit_stamp() -> dict:
    """Who and when, shared by every event of one bulk write."""
    actor_id, actor = current_actor()
    return {"occurred_at": utcnow(), "actor_user_id": actor_id, "actor": actor}


def insert_records(session: Session, model, rows: list[dict], stamp: dict) -> list[int]:
    """Insert the rows (`insert_rows`) and record their creation; the new ids, in no particular order."""
    ids = insert_rows(session, model, rows)
    record_creations(session, stamp, model.__tablename__, ids)
    return ids


def insert_rows(session: Session, model, rows: list[dict], *, render_nulls: bool = False) -> list[int]:
    """Insert the rows, unaudited, in one statement on PostgreSQL (`_arrays`) and batched elsewhere;
    the new ids, in no particular order (asking for the rows' order makes SQLite send one INSERT per
    row). A None leaves the column to its default, as the ORM does, unless `render_nulls`: then it
    is written as NULL, and rows that leave out different columns are still one batch."""
    if not rows:
        return []
    arrays = None
    if _on_postgresql(session):
        arrays = _arrays(session, model, rows, for_insert=True, render_nulls=render_nulls)
    if arrays is None:
        statement = insert(model).returning(model.id).execution_options(render_nulls=render_nulls)
        return list(session.scalars(statement, rows))
    casts, values = arrays
    names, sources = _columns(session, casts)
    statement = f"INSERT INTO {model.__tablename__} ({names}) SELECT * FROM unnest({sources}) RETURNING id"
    return list(_execute(session, statement, values).scalars())


def _execute(session: Session, statement: str, params: dict):
    """Run a statement written for psycopg, as `session.execute` would (flushing first unless
    autoflush is off). Its arrays are `%(name)b` (binary, value by value, no quoting), its single
    values `%(name)s`."""
    if session.autoflush:
        session.flush()
    return session.connection().exec_driver_sql(statement, params)


def _columns(session: Session, casts: dict[str, str]) -> tuple[str, str]:
    """The column names, quoted where they must be, and the arrays' parameters, cast."""
    quote = session.get_bind().dialect.identifier_preparer.quote
    return ", ".join(quote(name) for name in casts), _sources(casts)


def _sources(casts: dict[str, str]) -> str:
    """The arrays' parameters, cast, in binary (`_execute`)."""
    return ", ".join(f"CAST(%({name})b AS {cast})" for name, cast in casts.items())


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _arrays(session: Session, model, rows: list[dict], *, for_insert: bool, render_nulls: bool = False):
    """The rows as one array per column: the columns' array types by name, and the arrays of their
    values as the columns' types write them. In an INSERT a column left out, or None unless
    `render_nulls`, takes its Python default as the ORM would give it. None when a column has a kind
    of default or type this does not handle (a SQL expression or server default to fill in, JSON):
    the caller then writes the rows as the ORM does."""
    dialect = session.get_bind().dialect
    keys = {key for row in rows for key in row}
    casts, values = {}, {}
    for attribute in inspect(model).column_attrs:
        column = attribute.columns[0]
        given = attribute.key in keys
        if column.primary_key and not given:
            continue
        default = column.default if for_insert and not (given and render_nulls) else None
        filled = None
        if default is not None:
            if not (default.is_scalar or default.is_callable):
                return None
            filled = default.arg if default.is_scalar else default.arg(None)
        if not given and default is None:
            continue  # before reading it from every row: an UPDATE gives a few of a model's columns
        column_values = [row.get(attribute.key) for row in rows]
        if given and for_insert and not render_nulls and column.server_default is not None and None in column_values:
            return None
        cast = column.type.compile(dialect=dialect)
        if "JSON" in cast or "[]" in cast:
            return None
        process = column.type.bind_processor(dialect) or (lambda value: value)
        casts[column.name] = f"{cast}[]"
        values[column.name] = [process(filled if value is None else value) for value in column_values]
    return casts, values


def record_creations(session: Session, stamp: dict, entity: str, ids: list[int]) -> None:
    """One CREATE event per new record, as the listener writes them (no fields), chained."""
    record_created(session, stamp, [(entity, id_) for id_ in ids])


def record_created(session: Session, stamp: dict, records: list[tuple[str, int]]) -> None:
    """`record_creations` of records of several kinds (entity, id), in their order, in one write."""
    _record(session, stamp, AuditAction.CREATE, [(entity, id_, []) for entity, id_ in records])


def update_by_id(session: Session, model, changes: list[tuple[int, dict]]) -> None:
    """Bulk UPDATE by primary key. On PostgreSQL one statement per set of columns changed, joining
    their arrays (`_arrays`); elsewhere an ORM bulk UPDATE, rows changing the same columns side by
    side, since each run of them is one executemany."""
    rows = sorted(({"id": id_, **changed} for id_, changed in changes if changed), key=lambda row: sorted(row))
    if not rows:
        return
    if not _on_postgresql(session):
        session.execute(update(model), rows)
        return
    shapes: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for shape_rows in shapes.values():
        arrays = _arrays(session, model, shape_rows, for_insert=False)
        if arrays is None:
            session.execute(update(model), shape_rows)
            continue
        casts, values = arrays
        shared = _shared_values(casts, values)
        names, sources = _columns(session, casts)
        quote = session.get_bind().dialect.identifier_preparer.quote
        settings = ", ".join(
            [f"{quote(name)} = v.{quote(name)}" for name in casts if name != "id"]
            + [f"{quote(name)} = CAST(%({name})s AS {cast})" for name, (cast, _value) in shared.items()]
        )
        _execute(
            session,
            f"UPDATE {model.__tablename__} SET {settings} FROM unnest({sources}) AS v({names}) "
            f"WHERE {model.__tablename__}.id = v.id",
            {**values, **{name: value for name, (_cast, value) in shared.items()}},
        )


def _shared_values(casts: dict[str, str], values: dict[str, list], keep: str = "id") -> dict[str, tuple[str, object]]:
    """Take out of `casts` and `values` the columns (but `keep`) that every row sets to one value, as
    name -> (the column's cast, the value): one parameter instead of an array of copies (issuing
    sets one status, series and instant on thousands of invoices; the driver quoted each copy)."""
    shared = {}
    for name, column_values in list(values.items()):
        first = column_values[0]
        if name != keep and all(value == first for value in column_values):
            shared[name] = (casts.pop(name).removesuffix("[]"), first)
            del values[name]
    return shared


def record_updates(session: Session, stamp: dict, changes: list[tuple[str, int, dict]]) -> None:
    """One UPDATE event per (entity, id, changed values) that changed something."""
    _record(
        session,
        stamp,
        AuditAction.UPDATE,
        [(entity, id_, list(changed)) for entity, id_, changed in changes if changed],
    )


@functools.cache  # a bulk write's thousands of events name a handful of field lists
def _fields_json(fields: tuple[str, ...]) -> str:
    return json.dumps(list(fields))


def _record(session: Session, stamp: dict, action: AuditAction, events: list[tuple[str, int, list[str]]]) -> None:
    """The events (entity, id, changed fields) of one bulk write, chained in their order.

    On PostgreSQL one INSERT ... SELECT over the arrays of what differs (in their order, so the ids
    follow the chain), since the events share who, when and what: a fraction of the time of a
    hundred thousand single-row INSERTs.
    """
    if not events:
        return
    rows = [
        {**stamp, "action": action.value, "entity": entity, "entity_id": id_, "changed_fields": fields, "detail": None}
        for entity, id_, fields in events
    ]
    if not _on_postgresql(session):
        write_events(session, rows)
        return
    hashes = [row["chain_hash"] for row in chain_rows(session, rows)]
    arrays = {
        "entity": [entity for entity, _, _ in events],
        "entity_id": [id_ for _, id_, _ in events],
        "changed_fields": [_fields_json(tuple(fields)) for _, _, fields in events],
        "chain_hash": hashes,
    }
    casts = {"entity": "varchar[]", "entity_id": "integer[]", "changed_fields": "json[]", "chain_hash": "varchar[]"}
    shared = _shared_values(casts, arrays, keep="entity_id")
    shared["action"] = ("varchar", action.value)
    values = [f"t.{name}" for name in casts] + [
        f"CAST(%({name})s AS {cast})" for name, (cast, _value) in shared.items()
    ]
    names = [*casts, *shared]
    sources = _sources(casts)
    _execute(
        session,
        f"INSERT INTO audit_event (occurred_at, actor_user_id, actor, {', '.join(names)}) "
        "SELECT CAST(%(occurred_at)s AS timestamptz), CAST(%(actor_user_id)s AS integer), "
        f"CAST(%(actor)s AS varchar), {', '.join(values)} "
        f"FROM unnest({sources}) WITH ORDINALITY AS t({', '.join(casts)}, n) ORDER BY t.n",
        {**stamp, **arrays, **{name: value for name, (_cast, value) in shared.items()}},
    )
