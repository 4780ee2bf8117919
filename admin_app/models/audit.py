"""The audit trail: one SQLAlchemy listener records every change to protected data.

Any model that mixes in `Audited` gets a row per create, update and delete, written in the
same transaction as the change (so a rolled-back change leaves no trace, and a committed one
always has its trace). Only the names of changed fields are kept, never their values: the
trail must not become a second copy of clinical data.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable

from sqlalchemy import JSON, ForeignKey, String, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from admin_app.models.base import Base, UTCDateTime, str_enum, utcnow


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    VIEW = "view"


class Audited:
    """Marker mixin: changes to this model are recorded in the audit trail."""


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction, "audit_action"))
    entity: Mapped[str] = mapped_column(String(64), index=True)
    entity_id: Mapped[int | None] = mapped_column(index=True)
    changed_fields: Mapped[list[str]] = mapped_column(JSON, default=list)


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
        history = state.attrs[attr.key].history
        if history.has_changes() and list(history.deleted) != list(history.added):
            changed.append(attr.key)
    return changed


def _identity(obj) -> int | None:
    return inspect(obj).identity[0] if inspect(obj).identity else getattr(obj, "id", None)


def _rows_for_flush(session: Session) -> list[dict]:
    actor_id, actor = current_actor()
    now = utcnow()

    def row(obj, action: AuditAction, fields: list[str]) -> dict:
        return {
            "occurred_at": now,
            "actor_user_id": actor_id,
            "actor": actor,
            "action": action.value,
            "entity": obj.__tablename__,
            "entity_id": _identity(obj),
            "changed_fields": fields,
        }

    rows = [row(obj, AuditAction.CREATE, []) for obj in session.new if isinstance(obj, Audited)]
    for obj in session.dirty:
        if isinstance(obj, Audited) and (fields := _changed_columns(obj)):
            rows.append(row(obj, AuditAction.UPDATE, fields))
    rows += [row(obj, AuditAction.DELETE, []) for obj in session.deleted if isinstance(obj, Audited)]
    return rows


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush_context) -> None:
    rows = _rows_for_flush(session)
    if rows:
        session.connection().execute(AuditEvent.__table__.insert(), rows)


def record_event(
    session: Session, *, action: AuditAction, entity: str, entity_id: int | None = None, actor: Actor | None = None
) -> None:
    """Record what the listener cannot see: exports and views of protected data. `actor` is who acted
    when it was read earlier (a download records its export after the view has returned)."""
    actor_id, actor = actor or current_actor()
    session.add(
        AuditEvent(
            actor_user_id=actor_id,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changed_fields=[],
        )
    )
