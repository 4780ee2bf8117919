"""STAND-IN for the "screens" helper's payouts views: only so `url_for('payouts.statement', ...)`
builds in this clone. The lead drops this commit."""

from __future__ import annotations

from flask_admin import BaseView, expose

from admin_app.views.platform.base import RoleRequired


class PayoutsStandInView(RoleRequired, BaseView):
    @expose("/")
    def index(self):
        return "payouts"

    @expose("/statement/<int:statement_id>")
    def statement(self, statement_id: int):
        return f"statement {statement_id}"
