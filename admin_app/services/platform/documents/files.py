"""What a user downloads, made in one place: a PDF from HTML, a ZIP of PDFs, CSV (whole or streamed),
XLSX and plain text, each with a safe file name and, when it carries protected data, its audit event.

Every export is recorded by the function that makes it, so no screen or command can hand out a file
and forget the trail. The caller says what the file is about (`Export`); who makes it is read when it
is made (the web user, the CLI command), since a streamed file is written after the view returns.

- A document made whole records its event in the caller's session: the caller commits, as with any
  change, and a command that fails after making it records nothing.
- A streamed one records its event when the stream ends (also when the download stopped early: some
  rows left), in a short transaction of its own: committing the session that reads the rows would
  expire the records still being streamed, and a failed download must not take the record of what
  already left with it.

The event's `detail` says what the file contained: what the caller knows (the screen, its filters)
and what only the writing knows, the number of rows written (of files, for a ZIP).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from admin_app.models.audit import Actor, AuditAction, current_actor, record_event
from admin_app.models.base import utcnow
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.documents import pdf, spreadsheets
from admin_app.services.platform.progress import Progress, ignore

PDF_MIMETYPE = "application/pdf"
ZIP_MIMETYPE = "application/zip"
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = spreadsheets.XLSX_MIMETYPE
NAME_PART_MAX = 60


@dataclasses.dataclass(frozen=True)
class Export:
    """What an exported document is about, for its audit event: a table's name (the entity) and,
    when it is one record's, that record's id."""

    entity: str
    entity_id: int | None = None
    # What the caller knows of the contents (a list's screen and filters), never a client's name.
    detail: dict | None = None


@dataclasses.dataclass(frozen=True)
class Document:
    """A file to hand out. `content` is bytes or text when whole, an iterator of text chunks when
    streamed, or an open file (rewound, `size` bytes long) that whoever sends it closes."""

    content: bytes | str | Iterator[str] | BinaryIO
    mimetype: str
    filename: str
    size: int | None = None


def file_name(*parts: object, extension: str, placeholder: str = "file") -> str:
    """ "2026-10-ana-ruiz.pdf": the parts in lowercase ASCII letters and digits (accents dropped,
    anything else a dash), joined by dashes; a part with nothing left becomes `placeholder`.

    Safe in a Content-Disposition header, a ZIP and any file system, whatever a name holds.
    """
    return "-".join(_name_part(part, placeholder) for part in parts) + f".{extension}"


def _name_part(part: object, placeholder: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", str(part)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:NAME_PART_MAX].strip("-")
    return slug or placeholder


def pdf_document(
    session: Session, html: str, *, filename: str, export: Export | None, actor: Actor | None = None
) -> Document:
    """A complete HTML document as a PDF (`pdf.render_pdf`: locked down, timed, pages numbered);
    `actor` names who exported it where that is not the current user (a job acting for one)."""
    content = pdf.render_pdf(html)
    _record(session, export, actor)
    return Document(content, PDF_MIMETYPE, filename)


def pdf_zip_document(
    session: Session,
    named_html: Sequence[tuple[str, str]],
    *,
    filename: str,
    export: Export | None,
    now: dt.datetime | None = None,
    actor: Actor | None = None,
    progress: Progress = ignore,
) -> Document:
    """A ZIP of one PDF per (file name, HTML) pair, rendered a few at a time (`progress` counts
    them); every entry dated `now` in clinic time. The names must differ (a ZIP would keep both
    under one name)."""
    names = [name for name, _html in named_html]
    if len(set(names)) != len(names):
        raise ValueError("two files of a ZIP have the same name")
    documents = pdf.render_pdfs([html for _name, html in named_html], progress=progress)
    stamp = to_local(now or utcnow()).timetuple()[:6]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, document in zip(names, documents, strict=True):
            bundle.writestr(zipfile.ZipInfo(name, date_time=stamp), document, compress_type=zipfile.ZIP_DEFLATED)
    _record(session, export, actor, files=len(names))
    return Document(archive.getvalue(), ZIP_MIMETYPE, filename)


def csv_document(
    session: Session,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    filename: str,
    export: Export | None,
) -> Document:
    """CSV text (`spreadsheets.csv_text`: BOM, formulas neutralised), made whole."""
    counted = _Counted(rows)
    content = spreadsheets.csv_text(header, counted)
    _record(session, export, rows=counted.count)
    return Document(content, CSV_MIMETYPE, filename)


def streamed_csv_document(
    bind: Engine,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    filename: str,
    export: Export,
) -> Document:
    """The same CSV, written a few hundred rows at a time while `rows` is read. When the stream ends
    (or stops), `rows` is closed if it can be (a generator releasing its session) and the export is
    recorded through `bind`, in a transaction of its own."""
    actor = current_actor()  # read now: the rows are written after the view has returned
    counted = _Counted(rows)

    def chunks() -> Iterator[str]:
        try:
            yield from spreadsheets.csv_chunks(header, counted)
        finally:
            _close(rows)
            with Session(bind=bind) as session, session.begin():
                _record(session, export, actor, rows=counted.count)

    return Document(chunks(), CSV_MIMETYPE, filename)


def xlsx_document(
    session: Session,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    filename: str,
    export: Export | None,
) -> Document:
    """An XLSX workbook (`spreadsheets.write_xlsx`: row by row, text neutralised) in a temporary file
    with no name on disk, gone once closed."""
    counted = _Counted(rows)
    try:
        document = _xlsx_file(lambda file: spreadsheets.write_xlsx(file, header, counted), filename)
    finally:
        _close(rows)
    _record(session, export, rows=counted.count)
    return document


def workbook_document(
    session: Session, sheets: Iterable[spreadsheets.Sheet], *, filename: str, export: Export | None
) -> Document:
    """An XLSX workbook of several sheets (`spreadsheets.write_workbook`), handed out as `xlsx_document`."""
    counted = [spreadsheets.Sheet(sheet.title, _Counted(sheet.rows)) for sheet in sheets]
    document = _xlsx_file(lambda file: spreadsheets.write_workbook(file, counted), filename)
    _record(session, export, rows=sum(sheet.rows.count for sheet in counted))
    return document


def _xlsx_file(write: Callable[[BinaryIO], None], filename: str) -> Document:
    file = tempfile.TemporaryFile()  # noqa: SIM115 (not a `with`: whoever sends it closes it)
    try:
        write(file)
        size = file.tell()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return Document(file, XLSX_MIMETYPE, filename, size)


def text_document(session: Session, text: str, *, mimetype: str, filename: str, export: Export | None) -> Document:
    """Text made elsewhere (a report's JSON), handed out and recorded as the other documents."""
    _record(session, export)
    return Document(text, mimetype, filename)


class _Counted:
    """Rows passed through, counted as they are written (the count is what the file holds, also when
    a download stopped early)."""

    def __init__(self, rows: Iterable[Sequence[object]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Sequence[object]]:
        for row in self._rows:
            self.count += 1
            yield row


def _close(rows: Iterable) -> None:
    """Let go of what a generator of rows holds (its own session) before the export is recorded."""
    close = getattr(rows, "close", None)
    if close is not None:
        close()


def _record(session: Session, export: Export | None, actor: Actor | None = None, **counts: int) -> None:
    """The export's audit event, its detail what the caller said and what was counted (`rows`, `files`);
    `export` None is a document without protected data (the practice's yearly figures), which the
    trail does not need."""
    if export is not None:
        record_event(
            session,
            action=AuditAction.EXPORT,
            entity=export.entity,
            entity_id=export.entity_id,
            actor=actor,
            detail={**(export.detail or {}), **counts} or None,
        )
