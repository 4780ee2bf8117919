"""The audit chain's bulk path (`models.audit.chain_rows`) serialises the parts events share once; the
bytes it hashes must be those `canonical_fields` gives, which the chain check reads back."""

from __future__ import annotations

import datetime as dt

from admin_app.models import AuditAction
from admin_app.models.audit import _Framing, canonical_fields

NOW = dt.datetime(2026, 12, 6, 15, 4, 5, 123456, tzinfo=dt.UTC)
LIMA_MORNING = dt.datetime(2026, 1, 1, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))

ROWS = [
    *(
        {"occurred_at": NOW, "actor": "bench", "action": "create", "entity": "invoice_line", "entity_id": i}
        for i in (1, 22, 333)
    ),
    {
        "occurred_at": NOW,
        "actor": "bench",
        "action": "create",
        "entity": "invoice_line",
        "entity_id": 4,
        "changed_fields": [],
    },
    {
        "occurred_at": NOW,
        "actor": "Lucía Ñ \u2028",
        "action": AuditAction.UPDATE,
        "entity": "client",
        "entity_id": 5,
        "changed_fields": ["phone", "email"],
        "detail": None,
    },
    {
        "occurred_at": NOW,
        "actor": "Lucía Ñ \u2028",
        "action": AuditAction.UPDATE,
        "entity": "client",
        "entity_id": 6,
        "changed_fields": ["email"],
    },
    {
        "occurred_at": NOW,
        "actor": "admin@example.com",
        "action": "export",
        "entity": "client",
        "entity_id": None,
        "detail": {"rows": 12, "filters": {"name": "é"}, "screen": "client"},
    },
    {"occurred_at": LIMA_MORNING, "actor": "system", "action": "delete", "entity": "session", "entity_id": 7},
    {"occurred_at": NOW, "actor": "system", "action": "delete", "entity": "session", "entity_id": True},
]


def test_the_shared_parts_give_the_bytes_of_canonical_fields():
    framing = _Framing()
    assert [framing.canonical(row) for row in ROWS] == [canonical_fields(row) for row in ROWS]


def test_canonical_fields_keep_the_form_written_chains_were_hashed_in():
    """Chains already written are checked against these bytes: they never change."""
    assert canonical_fields(ROWS[4]) == (
        b'["2026-12-06T15:04:05.123456+00:00","Luc\\u00eda \\u00d1 \\u2028","update","client",5,["phone","email"],null]'
    )
