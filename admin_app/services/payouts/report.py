"""The payouts report as a file (`flask report payouts`): JSON and CSV of a month's statements.

Figures come from `statements.month_overview`, the one place that adds a month's statements up (the
screen and the ZIP read it too): per therapist the status, the number of paid and held lines, and per
currency what the lines earned, what the held lines will bring once paid, and the adjustments.
Amounts are strings with two decimals; a currency appears only where its amount is not zero. The
files name therapists and what they are owed, so each is recorded in the audit trail as an export.
"""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy.orm import Session

from admin_app.models import PayoutStatement
from admin_app.services.payouts.statements import StatementSummary, Totals, month_overview
from admin_app.services.platform import documents
from admin_app.services.platform.clinic_time import clinic_zone
from admin_app.services.platform.months import Month

COLUMNS = ("month", "email", "name", "status", "lines", "held_lines", "currency", "earned", "held", "adjustments")
EXPORT = documents.Export(f"{PayoutStatement.__tablename__}:report")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def payouts_report(session: Session, month: Month) -> dict:
    """{"month", "timezone", "therapists": [{email, name, status, lines, earned, held_lines, held,
    adjustments}]}, one entry per statement of the month, by therapist name."""
    return {
        "month": str(month),
        "timezone": clinic_zone().key,
        "therapists": [_entry(row) for row in month_overview(session, month)],
    }


def _entry(row: StatementSummary) -> dict:
    return {
        "email": row.therapist_email,
        "name": row.therapist_name,
        "status": row.status.value,
        "lines": row.lines,
        "earned": _amounts(row.earned),
        "held_lines": row.held_lines,
        "held": _amounts(row.held),
        "adjustments": _amounts(row.adjustments),
    }


def _nonzero(totals: Totals) -> Totals:
    return {currency: amount for currency, amount in sorted(totals.items()) if amount}


def _amounts(totals: Totals) -> dict[str, str]:
    return {currency: f"{amount:.2f}" for currency, amount in _nonzero(totals).items()}


def payouts_json(session: Session, month: Month) -> documents.Document:
    text = json.dumps(payouts_report(session, month), ensure_ascii=False, indent=2) + "\n"
    return documents.text_document(
        session, text, mimetype="application/json", filename=_name(month, "json"), export=EXPORT
    )


def payouts_csv(session: Session, month: Month) -> documents.Document:
    """One row per therapist and currency (earned, held and adjustments as numbers with two
    decimals, 0.00 where another figure of the currency is not zero); a statement without any
    amount still has one row, with an empty currency and empty amounts. The status and counts are
    the statement's, repeated on each of its currency rows."""
    return documents.csv_document(
        session, COLUMNS, _csv_rows(session, month), filename=_name(month, "csv"), export=EXPORT
    )


def _csv_rows(session: Session, month: Month) -> list[tuple]:
    rows = []
    for row in month_overview(session, month):
        earned, held, adjustments = _nonzero(row.earned), _nonzero(row.held), _nonzero(row.adjustments)
        currencies = sorted(earned.keys() | held.keys() | adjustments.keys()) or [""]
        for currency in currencies:
            figures = (
                (part.get(currency, ZERO).quantize(CENT) for part in (earned, held, adjustments))
                if currency
                else (None, None, None)
            )
            rows.append(
                (
                    str(month),
                    row.therapist_email,
                    row.therapist_name,
                    row.status.value,
                    row.lines,
                    row.held_lines,
                    currency,
                    *figures,
                )
            )
    return rows


def _name(month: Month, extension: str) -> str:
    return documents.file_name("payouts", str(month), extension=extension)
