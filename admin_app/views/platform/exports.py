"""A list's export (CSV or XLSX): every row of the list as filtered, searched and sorted on screen,
read in batches and written as it is read, so the file can be of any length in the same memory.

Flask-Admin's own export loads the rows in the view and streams them after the view has returned,
when the request's session is already closed (every row a `DetachedInstanceError` in a real server),
and builds an XLSX in memory. Here the rows are read by a session the export opens and closes
itself, while the file is written; the documents service writes the file and records the export,
with the screen, its filters and whether a search narrowed it (`export_detail`) and the rows written.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from flask import flash, redirect
from flask_admin import expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.helpers import get_redirect_target
from flask_admin.model import filters
from flask_babel import force_locale
from sqlalchemy.orm import Query

from admin_app.extensions import db
from admin_app.models.base import utcnow
from admin_app.services.platform import documents
from admin_app.services.platform.clinic_time import to_local
from admin_app.views.platform.downloads import attachment

ROWS_PER_BATCH = 500
WRITERS = ("csv", "xlsx")
# Filters whose value is a yes/no, a number, a date or time, or one of an enum's values: never a name.
# Any other filter's value is free text, which may be a client's name: recorded as given, not kept.
VALUE_KEPT = (
    filters.BaseBooleanFilter,
    filters.BaseIntFilter,
    filters.BaseFloatFilter,
    filters.BaseIntListFilter,
    filters.BaseFloatListFilter,
    filters.BaseDateFilter,
    filters.BaseDateBetweenFilter,
    filters.BaseDateTimeFilter,
    filters.BaseDateTimeBetweenFilter,
    filters.BaseTimeFilter,
    filters.BaseTimeBetweenFilter,
    sqla_filters.EnumEqualFilter,
    sqla_filters.EnumFilterNotEqual,
    sqla_filters.EnumFilterInList,
    sqla_filters.EnumFilterNotInList,
)
FREE_TEXT = "yes"


class StreamedExport:
    """Mixed into a Flask-Admin `ModelView`: its `/export/<type>/` for CSV and XLSX.

    The rows are the list's own query (`get_list`, so a view's `get_query` row filter and eager
    loads apply), ordered as on screen and then by primary key, so two exports list the same rows
    in the same order. A view shows its relations without a query per row by loading them in
    `get_query` (`joinedload` for one, `selectinload` for many: a joined collection cannot be read
    in batches).
    """

    export_rows_per_batch = ROWS_PER_BATCH

    def rows_loaded(self, session, records) -> None:
        """Called with each batch of the export (and each page of the list): a view whose cells show
        more than its records (figures computed in SQL) reads it here, in one query for all of them."""

    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        if not self.can_export or export_type not in self.export_types or export_type not in WRITERS:
            flash(admin_gettext("Permission denied."), "error")
            return redirect(get_redirect_target() or self.get_url(".index_view"))
        header = [str(label) for _name, label in self._export_columns]
        rows = self._export_rows(self._export_query())
        filename = self.get_export_name(export_type)
        export = documents.Export(self.model.__tablename__, detail=self.export_detail())
        if export_type == "xlsx":
            document = documents.xlsx_document(db.session, header, rows, filename=filename, export=export)
            db.session.commit()
        else:
            document = documents.streamed_csv_document(db.engine, header, rows, filename=filename, export=export)
        return attachment(document)

    def export_detail(self) -> dict:
        """What the audit trail keeps of the export's scope: the screen, each filter (in English, its
        value only when it cannot be a name) and whether a search narrowed it, never the search text."""
        args = self._get_list_extra_args()
        applied = []
        with force_locale("en"):
            for index, _name, value in args.filters or ():
                flt = self._filters[index]
                applied.append(
                    {
                        "filter": str(flt.name),
                        "operation": str(flt.operation()),
                        "value": value if isinstance(flt, VALUE_KEPT) else FREE_TEXT,
                    }
                )
        return {"screen": self.endpoint, "filters": applied, "search": FREE_TEXT if args.search else "no"}

    def get_export_name(self, export_type: str = "csv") -> str:
        """The list's name and the clinic-time minute of the export (not the server's clock)."""
        return documents.file_name(self.name, f"{to_local(utcnow()):%Y-%m-%d-%H-%M}", extension=export_type)

    def _export_query(self) -> Query:
        """The list's query with the request's search, filters and sort, without its page limit."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        _count, query = self.get_list(
            0, sort[0] if sort else None, args.sort_desc, args.search, args.filters, execute=False, page_size=0
        )
        query = query.order_by(*self.model.__mapper__.primary_key)
        return query.limit(self.export_max_rows) if self.export_max_rows else query

    def _export_rows(self, query: Query) -> Iterator[list]:
        """The export's cells, row by row, from batches of records (`yield_per`: a server-side cursor
        on PostgreSQL) read by a session of the export's own, open until the last row (a CSV is
        written after the view has returned, when Flask has closed the request's session); a batch's
        records are let go once written."""
        names = [name for name, _label in self._export_columns]
        session = db.session.session_factory()
        records = iter(query.with_session(session).yield_per(self.export_rows_per_batch))
        try:
            while batch := list(islice(records, self.export_rows_per_batch)):
                self.rows_loaded(session, batch)
                for record in batch:
                    yield [self.get_export_value(record, name) for name in names]
        finally:
            session.close()
