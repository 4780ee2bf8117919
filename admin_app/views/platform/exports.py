"""A list's export (CSV or XLSX): every row of the list as filtered, searched and sorted on screen,
read in batches and written as it is read, so the file can be of any length in the same memory.

Flask-Admin's own export loads the rows in the view and streams them after the view has returned,
when the request's session is already closed (every row a `DetachedInstanceError` in a real server),
and builds an XLSX in memory. Here the rows are read by a session the export opens and closes
itself, while the file is written; the audit row follows in a transaction of its own.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from flask import flash, redirect, request, stream_with_context
from flask_admin import expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.helpers import get_redirect_target
from sqlalchemy.orm import Query
from werkzeug.utils import secure_filename
from werkzeug.wsgi import wrap_file

from admin_app.extensions import db
from admin_app.models.audit import Actor, current_actor
from admin_app.models.base import utcnow
from admin_app.services.audit import trail as audit
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.documents import spreadsheets
from admin_app.views.platform.downloads import attachment

ROWS_PER_BATCH = 500
WRITERS = ("csv", "xlsx")


class StreamedExport:
    """Mixed into a Flask-Admin `ModelView`: its `/export/<type>/` for CSV and XLSX.

    The rows are the list's own query (`get_list`, so a view's `get_query` row filter and eager
    loads apply), ordered as on screen and then by primary key, so two exports list the same rows
    in the same order. A view shows its relations without a query per row by loading them in
    `get_query` (`joinedload` for one, `selectinload` for many: a joined collection cannot be read
    in batches).
    """

    export_rows_per_batch = ROWS_PER_BATCH

    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        if not self.can_export or export_type not in self.export_types or export_type not in WRITERS:
            flash(admin_gettext("Permission denied."), "error")
            return redirect(get_redirect_target() or self.get_url(".index_view"))
        query = self._export_query()
        actor = current_actor()  # who exports, read now: the CSV is written after the view returns
        header = [str(label) for _name, label in self._export_columns]
        filename = secure_filename(self.get_export_name(export_type))
        if export_type == "xlsx":
            return self._xlsx_response(query, header, filename, actor)
        return self._csv_response(query, header, filename, actor)

    def get_export_name(self, export_type: str = "csv") -> str:
        """The list's name and the clinic-time minute of the export (not the server's clock)."""
        return f"{self.name}_{to_local(utcnow()):%Y-%m-%d_%H-%M}.{export_type}"

    def _export_query(self) -> Query:
        """The list's query with the request's search, filters and sort, without its page limit."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        _count, query = self.get_list(
            0, sort[0] if sort else None, args.sort_desc, args.search, args.filters, execute=False, page_size=0
        )
        query = query.order_by(*self.model.__mapper__.primary_key)
        return query.limit(self.export_max_rows) if self.export_max_rows else query

    def _export_rows(self, query: Query, session) -> Iterator[list]:
        """The export's cells, row by row, from batches of records (`yield_per`: a server-side cursor
        on PostgreSQL); a batch's records are let go once written."""
        names = [name for name, _label in self._export_columns]
        for record in query.with_session(session).yield_per(self.export_rows_per_batch):
            yield [self.get_export_value(record, name) for name in names]

    def _record_export(self, actor: Actor) -> None:
        audit.record_export(bind=db.engine, entity=self.model.__tablename__, actor=actor)

    def _csv_response(self, query: Query, header: list[str], filename: str, actor: Actor):
        def stream() -> Iterator[str]:
            # Runs after the view has returned (Flask has closed the request's session by then):
            # the rows are read by a session of the stream's own, open until the last row.
            session = db.session.session_factory()
            try:
                yield from spreadsheets.csv_chunks(header, self._export_rows(query, session))
            finally:
                session.close()
                self._record_export(actor)  # also when the download stopped early: some rows left

        return attachment(stream_with_context(stream()), "text/csv", filename)

    def _xlsx_response(self, query: Query, header: list[str], filename: str, actor: Actor):
        # Not a `with`: the server closes it once sent. No name on disk, gone once closed.
        file = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            session = db.session.session_factory()
            try:
                spreadsheets.write_xlsx(file, header, self._export_rows(query, session))
            finally:
                session.close()
            self._record_export(actor)
            size = file.tell()
            file.seek(0)
        except BaseException:
            file.close()
            raise
        response = attachment(wrap_file(request.environ, file), spreadsheets.XLSX_MIMETYPE, filename)
        response.direct_passthrough = True  # the server sends the file as it is (closing it after)
        response.content_length = size
        return response
