"""The audit trail: one SQLAlchemy listener records every change to protected data.

Any model that mixes in `Audited` gets a row per create, update and delete, written in the
same transaction as the change (so a rolled-back change leaves no trace, and a committed one
always has its trace). Only the names of changed fields are kept, never their values: the
trail must not become a second copy of clinical data.

Every row is written through `write_events`, which chains it: `chain_hash` is the sha256 of the
previous row's hash and this row's canonical fields (`canonical_fields`), so a row changed or
deleted in the database breaks the chain at the next row (`flask audit verify`). The head of the
chain is read once per transaction, after taking a lock that serialises audited transactions
(PostgreSQL: a transaction-level advisory lock; SQLite: its write lock, taken before the read), so
two writers never chain from the same row.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Callable, Sequence

from sqlalchemy import JSON, ForeignKey, Index, String, event, insert, inspect, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from admin_app.models.base import Base, UTCDateTime, str_enum, utcnow


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    VIEW = "view"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"


class Audited:
    """Marker mixin: changes to this model are recorded in the audit trail.

    `audit_ignored` names columns whose changes are not worth an event (a login's sign-in counters,
    recorded as sign-ins instead); `audit_collections` names many-to-many relationships whose
    additions and removals are recorded (a login's roles, kept in an association table the flush
    does not otherwise show)."""

    audit_ignored: frozenset[str] = frozenset()
    audit_collections: tuple[str, ...] = ()


class AuditEvent(Base):
    __tablename__ = "audit_event"
    # A record's events newest first (its history, a client's access history, the trail filtered by a
    # record) as one index range per entity kind (services.audit.trail.newest_events); its prefix
    # serves the trail filtered by entity alone.
    __table_args__ = (Index("ix_audit_event_record_history", "entity", "entity_id", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction, "audit_action"))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(index=True)
    changed_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the event was about beyond one record (an export's screen, filters and row count; the
    # roles added to a login): never a client's name or a value of a changed field.
    detail: Mapped[dict | None] = mapped_column(JSON)
    chain_hash: Mapped[str] = mapped_column(String(64))


# The hash the first row of the chain follows.
GENESIS_HASH = "0" * 64
# PostgreSQL advisory lock key of the chain's head ("audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974
_HEAD = "audit_chain_head"


def canonical_fields(row: dict) -> bytes:
    """The fields a row's hash covers, as stable bytes: the instant in UTC to the microsecond, the JSON
    values with sorted keys. `actor_user_id` is left out: the database clears it when a login is
    deleted (the actor's email, kept in `actor`, is what the chain vouches for)."""
    return _json(_who_and_what(row) + [row["entity_id"]] + _changes(row))


def _json(values: list) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _who_and_what(row: dict) -> list:
    occurred_at = row["occurred_at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
    action = row["action"].value if isinstance(row["action"], enum.Enum) else row["action"]
    return [occurred_at, row["actor"], action, row["entity"]]


def _changes(row: dict) -> list:
    return [list(row.get("changed_fields") or []), row.get("detail")]


def chain_hash(previous: str, row: dict) -> str:
    return _next_hash(previous, canonical_fields(row))


def _next_hash(previous: str, canonical: bytes) -> str:
    return hashlib.sha256(previous.encode() + canonical).hexdigest()


class _Framing:
    """`canonical_fields` of many rows, the parts they share serialised once: a bulk write's
    thousands of events differ in their record's id (and changed fields) only. A compact JSON list
    is its elements' JSON joined by commas, so the bytes are those of `canonical_fields` (the chain
    check, `services.audit.chain`, reads them back that way)."""

    def __init__(self) -> None:
        self._heads: dict[tuple, bytes] = {}
        self._tails: dict[tuple, bytes] = {}

    def canonical(self, row: dict) -> bytes:
        key = (row["occurred_at"], row["actor"], row["action"], row["entity"])
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = _json(_who_and_what(row))[:-1] + b","
        entity_id = row["entity_id"]  # an int's JSON is its digits
        middle = str(entity_id).encode() if type(entity_id) is int else _json([entity_id])[1:-1]
        return head + middle + self._tail(row)

    def _tail(self, row: dict) -> bytes:
        changes = _changes(row)
        if changes[1] is not None:  # a detail (a dict) is rare, and no key
            return b"," + _json(changes)[1:]
        key = tuple(changes[0])
        tail = self._tails.get(key)
        if tail is None:
            tail = self._tails[key] = b"," + _json(changes)[1:]
        return tail


def chain_rows(session: Session, rows: Sequence[dict]) -> list[dict]:
    """The rows with their `chain_hash`, in order, following the transaction's head of the chain
    (read, under the lock, by the transaction's first audit write)."""
    head = _chain_head(session)
    framing = _Framing()
    chained = []
    for row in rows:
        head = _next_hash(head, framing.canonical(row))
        chained.append({**row, "chain_hash": head})
    session.info[_HEAD] = head
    return chained


def _chain_head(session: Session) -> str:
    head = session.info.get(_HEAD)
    if head is not None:
        return head
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    else:  # SQLite: a write that changes nothing takes the database's write lock before the read
        connection.execute(text("UPDATE audit_event SET id = id WHERE 0"))
    last = connection.scalar(select(AuditEvent.chain_hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS_HASH


@event.listens_for(Session, "after_transaction_end")
def _forget_chain_head(session: Session, transaction) -> None:
    """The transaction ended, and its lock with it: the next one reads the head again. A savepoint
    released keeps it (its rows stay)."""
    if transaction.parent is None:
        session.info.pop(_HEAD, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_head(session: Session, _previous_transaction) -> None:
    """A rollback, of a savepoint too, may have taken the rows the head was: read it again."""
    session.info.pop(_HEAD, None)


def write_events(session: Session, rows: Sequence[dict]) -> None:
    """Insert audit rows (dicts of the table's columns but `id` and `chain_hash`), chained, in the
    session's transaction: the one way rows enter the trail."""
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), chain_rows(session, rows))


Actor = tuple[int | None, str]


def _system_actor() -> Actor:
    return None, "system"


_actor_resolver: list[Callable[[], Actor]] = [_system_actor]


def set_actor_resolver(resolver: Callable[[], Actor]) -> None:
    """Tell the audit trail how to find who is acting (the web user, the CLI, a job)."""
    _actor_resolver[0] = resolver


def current_actor() -> Actor:
    return _actor_resolver[0]()


def _changed_columns(obj) -> list[str]:
    state = inspect(obj)
    changed = []
    for attr in state.mapper.column_attrs:
        if attr.key in obj.audit_ignored:
            continue
        history = state.attrs[attr.key].history
        if history.has_changes() and list(history.deleted) != list(history.added):
            changed.append(attr.key)
    return changed


def _changed_collections(obj) -> tuple[list[str], dict]:
    """The audited collections that changed, and what was added and removed (by name)."""
    state = inspect(obj)
    changed, detail = [], {}
    for key in obj.audit_collections:
        history = state.attrs[key].history
        added, removed = sorted(map(str, history.added)), sorted(map(str, history.deleted))
        if added != removed:
            changed.append(key)
            detail[key] = {"added": sorted(set(added) - set(removed)), "removed": sorted(set(removed) - set(added))}
    return changed, detail


def _identity(obj) -> int | None:
    return inspect(obj).identity[0] if inspect(obj).identity else getattr(obj, "id", None)


def _rows_for_flush(session: Session) -> list[dict]:
    actor_id, actor = current_actor()
    now = utcnow()

    def row(obj, action: AuditAction, fields: list[str], detail: dict | None = None) -> dict:
        return {
            "occurred_at": now,
            "actor_user_id": actor_id,
            "actor": actor,
            "action": action.value,
            "entity": obj.__tablename__,
            "entity_id": _identity(obj),
            "changed_fields": fields,
            "detail": detail,
        }

    rows = []
    for obj in session.new:
        if isinstance(obj, Audited):
            _fields, detail = _changed_collections(obj)
            rows.append(row(obj, AuditAction.CREATE, [], detail or None))
    for obj in session.dirty:
        if isinstance(obj, Audited):
            collections, detail = _changed_collections(obj)
            if fields := _changed_columns(obj) + collections:
                rows.append(row(obj, AuditAction.UPDATE, fields, detail or None))
    rows += [row(obj, AuditAction.DELETE, []) for obj in session.deleted if isinstance(obj, Audited)]
    return rows


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush_context) -> None:
    write_events(session, _rows_for_flush(session))


def record_event(
    session: Session,
    *,
    action: AuditAction,
    entity: str,
    entity_id: int | None = None,
    actor: Actor | None = None,
    changed_fields: Sequence[str] = (),
    detail: dict | None = None,
) -> None:
    """Record what the listener cannot see: exports, views of protected data, sign-ins. `actor` is who
    acted when it was read earlier (a download records its export after the view has returned).
    Written at once, in the session's transaction (the caller commits)."""
    actor_id, actor = actor or current_actor()
    row = {
        "occurred_at": utcnow(),
        "actor_user_id": actor_id,
        "actor": actor,
        "action": action.value,
        "entity": entity,
        "entity_id": entity_id,
        "changed_fields": list(changed_fields),
        "detail": detail,
    }
    write_events(session, [row])
