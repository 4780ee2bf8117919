"""STAND-IN for h-badfit's Bad Fit screen (endpoint `bad_fit`): dropped at merge."""

from __future__ import annotations

from flask_admin import BaseView, expose

from admin_app.extensions import db
from admin_app.services.tasks import bad_fit
from admin_app.views.platform.base import RoleRequired


class BadFitView(RoleRequired, BaseView):
    @expose("/")
    def index(self):
        return self.render("admin/tasks/bad_fit.html", rows=bad_fit.bad_fit_rows(db.session, state="open"))
