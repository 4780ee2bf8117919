"""Checking the audit trail's hash chain (written by models.audit.write_events): a row changed or
deleted in the database no longer hashes to what the next row says."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import AuditEvent
from admin_app.models.audit import GENESIS_HASH, chain_hash


@dataclasses.dataclass(frozen=True)
class ChainCheck:
    """The outcome of a check: how many rows matched, and the first that did not (None: all did)."""

    checked: int
    broken_at: int | None


def verify_chain(session: Session, *, batch: int = 5000) -> ChainCheck:
    """Walk the whole trail in id order (batches read by id, so memory stays flat), recomputing each
    row's hash from the previous one. A deleted row shows at the row after it, a changed one at
    itself; a deleted last row leaves no trace (the chain has no successor to vouch for it)."""
    columns = AuditEvent.__table__.c
    head, after, checked = GENESIS_HASH, 0, 0
    while True:
        rows = session.execute(select(AuditEvent.__table__).where(columns.id > after).order_by(columns.id).limit(batch))
        rows = rows.mappings().all()
        if not rows:
            return ChainCheck(checked, None)
        for row in rows:
            head = chain_hash(head, dict(row))
            if head != row["chain_hash"]:
                return ChainCheck(checked, row["id"])
            checked += 1
        after = rows[-1]["id"]
