"""STAND-IN (helper "screens"): a minimal statement PDF and month ZIP so the payout screens' links
can be tested. The "pdf" helper's real module replaces this file."""

from __future__ import annotations

from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import PayoutStatement
from admin_app.services.payouts.statements import statement_detail
from admin_app.services.platform import documents
from admin_app.services.platform.documents.pdf import render_pdf
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month

AUDITED_ENTITY = "payout_statement"


def _html(session: Session, statement_id: int) -> tuple[str, str]:
    detail = statement_detail(session, statement_id)
    statement = detail.statement
    name = documents.file_name("payout", statement.month, str(statement), extension="pdf")
    html = (
        "<!doctype html><html><head><meta charset='utf-8'></head><body>"
        f"<h1>{escape(str(statement))}</h1><p>{escape(statement.therapist.full_name)} {escape(statement.month)}</p>"
        "</body></html>"
    )
    return name, html


def statement_pdf(session: Session, statement_id: int, *, language: str, actor=None) -> documents.Document:
    name, html = _html(session, statement_id)
    return documents.pdf_document(session, html, filename=name, export=documents.Export(AUDITED_ENTITY, statement_id))


def statement_pdf_bytes(session: Session, statement_id: int, *, language: str) -> tuple[str, bytes]:
    name, html = _html(session, statement_id)
    return name, render_pdf(html)


def month_zip(session: Session, month: Month, *, language: str, actor=None) -> documents.Document:
    ids = session.scalars(select(PayoutStatement.id).where(PayoutStatement.month == str(month))).all()
    if not ids:
        raise RuleViolation(f"No payout statements for {month}.", field="month")
    return documents.pdf_zip_document(
        session,
        [_html(session, statement_id) for statement_id in ids],
        filename=documents.file_name("payouts", str(month), extension="zip"),
        export=documents.Export(AUDITED_ENTITY, None),
    )
