"""The ageing report as a file: JSON and CSV (`flask report ageing`), Excel and PDF (the screen).

Every format carries the same rows and totals (`ageing.ageing_rows` / `ageing_totals`): amounts as
strings with two decimals in JSON and CSV, numbers in Excel, the language's money format in the PDF.
The files name clients, so each is recorded in the audit trail as an export.
"""

from __future__ import annotations

import datetime as dt
import json

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from admin_app.models import Invoice
from admin_app.models.base import utcnow
from admin_app.services.billing.ageing import BUCKET_LABELS, BUCKETS, AgeingRow, ageing_rows, ageing_totals
from admin_app.services.platform import documents
from admin_app.services.platform.clinic_time import to_local

COLUMNS = ("debtor", "name", "currency", *BUCKETS, "total")
EXPORT = documents.Export(f"{Invoice.__tablename__}:ageing")


def ageing_report(session: Session, as_of: dt.date) -> dict:
    """{"as_of", "rows": [{debtor, name, currency, 0-30, 31-60, 61-90, 90+, total}], "totals": {currency: {...}}}."""
    rows = ageing_rows(session, as_of)
    return {
        "as_of": as_of.isoformat(),
        "rows": [_entry(row) for row in rows],
        "totals": {
            currency: {key: str(amount) for key, amount in figures.items()}
            for currency, figures in ageing_totals(rows).items()
        },
    }


def _entry(row: AgeingRow) -> dict:
    return {
        "debtor": row.debtor,
        "name": row.name,
        "currency": row.currency,
        **{bucket: str(amount) for bucket, amount in row.buckets.items()},
        "total": str(row.total),
    }


def ageing_json(session: Session, as_of: dt.date) -> documents.Document:
    text = json.dumps(ageing_report(session, as_of), ensure_ascii=False, indent=2) + "\n"
    return documents.text_document(
        session, text, mimetype="application/json", filename=_name(as_of, "json"), export=EXPORT
    )


def ageing_csv(session: Session, as_of: dt.date) -> documents.Document:
    entries = ageing_report(session, as_of)["rows"]
    rows = ([entry[column] for column in COLUMNS] for entry in entries)
    return documents.csv_document(session, COLUMNS, rows, filename=_name(as_of, "csv"), export=EXPORT)


def ageing_xlsx(session: Session, as_of: dt.date, language: str) -> documents.Document:
    """One sheet: a row per debtor and currency with numbers, then a total row per currency."""
    rows = ageing_rows(session, as_of)
    with force_locale(language):
        header = [gettext("Owed by"), gettext("Name"), gettext("Currency")]
        header += [str(BUCKET_LABELS[bucket]) for bucket in BUCKETS] + [gettext("Total")]
        kinds = {"payer": gettext("Payer"), "client": gettext("Client")}
        total_label = gettext("Total")
    lines = [[kinds[row.debtor], row.name, row.currency, *row.buckets.values(), row.total] for row in rows]
    lines += [
        [total_label, "", currency, *(figures[bucket] for bucket in BUCKETS), figures["total"]]
        for currency, figures in ageing_totals(rows).items()
    ]
    return documents.xlsx_document(session, header, lines, filename=_name(as_of, "xlsx"), export=EXPORT)


def ageing_pdf(session: Session, as_of: dt.date, language: str) -> documents.Document:
    rows = ageing_rows(session, as_of)
    with force_locale(language):
        html = render_template(
            "pdf/ageing.html",
            language=language,
            practice_name=current_app.config["PRACTICE_NAME"],
            as_of=as_of,
            buckets=[(bucket, BUCKET_LABELS[bucket]) for bucket in BUCKETS],
            rows=rows,
            totals=ageing_totals(rows),
            generated_at=to_local(utcnow()).strftime("%Y-%m-%d %H:%M"),
        )
    return documents.pdf_document(session, html, filename=_name(as_of, "pdf"), export=EXPORT)


def _name(as_of: dt.date, extension: str) -> str:
    return documents.file_name("ageing", as_of.isoformat(), extension=extension)
