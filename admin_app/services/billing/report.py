"""The authorizations report (`flask billing authorizations`): one entry per authorization with its
counts and status, as JSON or CSV.

Counts and status come from `authorizations.authorization_rows`, the one query every list shares;
`as_of` only sets the day the status is read on (expired, low by date), as a screen's today would.
The file names clients, so making it is recorded in the audit trail as an export.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from admin_app.models import Authorization
from admin_app.services.billing.authorizations import authorization_rows
from admin_app.services.platform import documents

COLUMNS = (
    "client_national_id",
    "client_number",
    "client",
    "payer",
    "reference",
    "approved",
    "scheduled",
    "used",
    "billed",
    "remaining",
    "valid_from",
    "valid_until",
    "status",
)
EXPORT = documents.Export(Authorization.__tablename__)


def authorizations_report(session: Session, as_of: dt.date) -> list[dict]:
    """Every authorization, ordered by client then end date; dates ISO, status as its code."""
    return [
        {
            "client_national_id": row.client_national_id,
            "client_number": row.client_number,
            "client": row.client,
            "payer": row.payer,
            "reference": row.reference,
            "approved": row.counts.approved,
            "scheduled": row.counts.scheduled,
            "used": row.counts.used,
            "billed": row.counts.billed,
            "remaining": row.counts.remaining,
            "valid_from": row.valid_from.isoformat(),
            "valid_until": row.valid_until.isoformat(),
            "status": row.status.value,
        }
        for row in authorization_rows(session, today=as_of)
    ]


def authorizations_report_json(session: Session, as_of: dt.date) -> documents.Document:
    """The report as a JSON array, one object per authorization."""
    text = json.dumps(authorizations_report(session, as_of), ensure_ascii=False, indent=2) + "\n"
    return documents.text_document(
        session, text, mimetype="application/json", filename=_name(as_of, "json"), export=EXPORT
    )


def authorizations_report_csv(session: Session, as_of: dt.date) -> documents.Document:
    """The report as CSV, its header the JSON keys (empty cell for a missing national ID or number)."""
    entries = authorizations_report(session, as_of)
    return documents.csv_document(
        session,
        COLUMNS,
        ([entry[column] for column in COLUMNS] for entry in entries),
        filename=_name(as_of, "csv"),
        export=EXPORT,
    )


def _name(as_of: dt.date, extension: str) -> str:
    return documents.file_name("authorizations", as_of.isoformat(), extension=extension)
