"""STAND-IN for the payout screens (helper "screens" builds the real ones): only the downloads the
statement files need, at the agreed endpoints, so the PDF and the ZIP can be fetched end to end.
Drop this file when the real `payouts` view lands."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import BaseView, expose

from admin_app.extensions import db
from admin_app.services.payouts import statement_files
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.downloads import download_or_back
from admin_app.views.reports.monthly import reader_language


class PayoutsView(RoleRequired, BaseView):
    def is_visible(self) -> bool:  # no menu entry: the real screen brings it
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("admin.index"))

    @expose("/statement/<int:statement_id>/pdf")
    def statement_pdf(self, statement_id: int):
        return download_or_back(
            lambda: statement_files.statement_pdf(db.session, statement_id, language=reader_language()),
            url_for(".index"),
            f"payout statement {statement_id}",
        )

    @expose("/zip")
    def month_zip(self):
        month = request.args.get("month", "")
        return download_or_back(
            lambda: statement_files.month_zip(db.session, month, language=reader_language()),
            url_for(".index"),
            f"payout statements of {month}",
        )
