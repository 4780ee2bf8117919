"""The documents service: every file a user downloads gets a safe name and, when it is an export of
protected data, exactly one audit event naming who exported what; a streamed file records it when the
stream ends, even one stopped early."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from flask import g
from pypdf import PdfReader
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditEvent
from admin_app.services.platform import documents

HTML = '<!doctype html><html><head><meta charset="utf-8"></head><body><p>{}</p></body></html>'
HEADER = ("name", "amount")
ROWS = [("Ana Ruiz", 10), ("=cmd", -2)]


def exports() -> list[tuple]:
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id))
    return [(event.actor, event.entity, event.entity_id) for event in events]


@pytest.fixture
def acting(app):
    g.audit_actor = "cli:flask report"
    return "cli:flask report"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("2026-10", "Ana Ruiz"), "2026-10-ana-ruiz.pdf"),
        (("2026-10", "Beto Núñez-Ñahui"), "2026-10-beto-nunez-nahui.pdf"),
        (("2026-01", "王小明"), "2026-01-file.pdf"),
        (("2026-01", '../"x"\r\n'), "2026-01-x.pdf"),
        (("Survey responses", "2026-10-01-09-30"), "survey-responses-2026-10-01-09-30.pdf"),
        (("statistics", 2026, "nps"), "statistics-2026-nps.pdf"),
    ],
)
def test_a_file_name_is_lowercase_ascii_words_joined_by_dashes(parts, expected):
    assert documents.file_name(*parts, extension="pdf") == expected


def test_a_long_name_is_cut():
    assert documents.file_name("x" * 200, extension="csv") == "x" * 60 + ".csv"


def test_a_pdf_is_rendered_and_recorded_in_the_callers_transaction(acting):
    document = documents.pdf_document(
        db.session, HTML.format("Hello"), filename="hello.pdf", export=documents.Export("therapist", 7)
    )

    assert document.mimetype == "application/pdf" and document.filename == "hello.pdf"
    assert "Hello" in PdfReader(io.BytesIO(document.content)).pages[0].extract_text()
    assert exports() == [(acting, "therapist", 7)]
    db.session.rollback()  # the caller's transaction: a command that fails afterwards records nothing
    assert exports() == []


def test_a_zip_holds_one_pdf_per_name_and_is_one_export(acting):
    document = documents.pdf_zip_document(
        db.session,
        [("a.pdf", HTML.format("A")), ("b.pdf", HTML.format("B"))],
        filename="month.zip",
        export=documents.Export("therapist"),
    )

    with zipfile.ZipFile(io.BytesIO(document.content)) as bundle:
        assert bundle.namelist() == ["a.pdf", "b.pdf"]
        assert "B" in PdfReader(io.BytesIO(bundle.read("b.pdf"))).pages[0].extract_text()
    assert exports() == [(acting, "therapist", None)]


def test_a_zip_refuses_two_files_of_one_name(app):
    with pytest.raises(ValueError, match="same name"):
        documents.pdf_zip_document(
            db.session, [("a.pdf", HTML.format("A"))] * 2, filename="x.zip", export=documents.Export("therapist")
        )
    assert exports() == []


def test_csv_xlsx_and_text_are_recorded_and_a_document_without_personal_data_is_not(acting):
    csv = documents.csv_document(db.session, HEADER, ROWS, filename="a.csv", export=documents.Export("client"))
    xlsx = documents.xlsx_document(db.session, HEADER, ROWS, filename="a.xlsx", export=documents.Export("client"))
    text = documents.text_document(
        db.session, "{}", mimetype="application/json", filename="a.json", export=documents.Export("therapist", 3)
    )
    documents.csv_document(db.session, HEADER, ROWS, filename="figures.csv", export=None)

    assert csv.content == "\ufeffname,amount\r\nAna Ruiz,10\r\n'=cmd,-2\r\n"
    with xlsx.content as file:
        assert xlsx.size == len(file.read())
        file.seek(0)
        sheet = openpyxl.load_workbook(file).active
        assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
            ["name", "amount"],
            ["Ana Ruiz", 10],
            ["'=cmd", -2],
        ]
    assert text.content == "{}"
    assert exports() == [(acting, "client", None), (acting, "client", None), (acting, "therapist", 3)]


def rows_that_tell_when_closed(closed: list[str]):
    try:
        yield from ROWS * 600
    finally:
        closed.append("rows")


def test_a_streamed_csv_is_recorded_when_the_stream_ends_in_a_transaction_of_its_own(acting):
    closed: list[str] = []
    document = documents.streamed_csv_document(
        db.engine, HEADER, rows_that_tell_when_closed(closed), filename="a.csv", export=documents.Export("client")
    )
    assert exports() == []  # nothing left yet

    text = "".join(document.content)

    assert text.count("\r\n") == 1 + 1200
    assert closed == ["rows"]
    db.session.rollback()  # recorded apart: not undone by the reading transaction
    assert exports() == [(acting, "client", None)]


def test_a_streamed_csv_stopped_early_is_still_recorded_and_its_rows_let_go(acting):
    closed: list[str] = []
    document = documents.streamed_csv_document(
        db.engine, HEADER, rows_that_tell_when_closed(closed), filename="a.csv", export=documents.Export("client")
    )

    next(document.content)
    document.content.close()  # the download was cut off after the first chunk

    assert closed == ["rows"]
    assert exports() == [(acting, "client", None)]
