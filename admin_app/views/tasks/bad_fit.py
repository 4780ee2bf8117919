"""The Bad Fit list (staff only): the entries the scan opened, their notes, and their resolution.

The rules are in services.tasks.bad_fit; each change here is one transaction, and a refusal (an
entry that is gone or already resolved, no note, a resolution that is not one) is rolled back and
flashed. Every form posts the list's filter back, so the page comes back as it was.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_security import current_user

from admin_app.extensions import db
from admin_app.models import BadFitReason, BadFitResolution, BadFitState
from admin_app.services.platform import bounds
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import CHOICES, choices_for
from admin_app.services.tasks import bad_fit
from admin_app.views.platform.base import RoleRequired, parsed_arg
from admin_app.views.platform.rules import commit_or_flash

ALL = "all"
FILTERS = {BadFitState.OPEN.value: _l("To review"), BadFitState.RESOLVED.value: _l("Resolved"), ALL: _l("All")}


def list_filter(raw: str) -> str:
    """The list's `state` filter: open, resolved or all."""
    if raw not in FILTERS:
        raise RuleViolation(_l("Show: choose open, resolved or all entries."), field="state")
    return raw


class BadFitView(RoleRequired, BaseView):
    @expose("/")
    def index_view(self):
        shown = parsed_arg("state", list_filter, default=BadFitState.OPEN.value, refused=BadFitState.OPEN.value)
        rows = bad_fit.bad_fit_rows(db.session, state=None if shown == ALL else shown)
        return self.render(
            "admin/tasks/bad_fit.html",
            rows=rows,
            shown=shown,
            filters=FILTERS,
            reasons=CHOICES[BadFitReason],
            states=CHOICES[BadFitState],
            resolutions=CHOICES[BadFitResolution],
            resolution_choices=choices_for(BadFitResolution),
        )

    @expose("/notes", methods=("POST",))
    def save_notes(self):
        with commit_or_flash() as outcome:
            bad_fit.save_notes(db.session, self._entry_id(), request.form.get("notes"))
        if outcome.refusal is None:
            flash(gettext("The notes were saved."), "success")
        return self._back()

    @expose("/resolve", methods=("POST",))
    def resolve(self):
        with commit_or_flash() as outcome:
            entry = bad_fit.resolve(
                db.session,
                self._entry_id(),
                resolution=request.form.get("resolution", ""),
                note=request.form.get("resolution_note"),
                user=current_user,
            )
            message = (
                gettext("%(client)s was deactivated and the entry resolved.", client=entry.client.full_name)
                if entry.resolution == BadFitResolution.DEACTIVATED
                else gettext("The entry was resolved; %(client)s stays on.", client=entry.client.full_name)
            )
        if outcome.refusal is None:
            flash(message, "success")
        return self._back()

    @staticmethod
    def _entry_id() -> int:
        """The form's `entry`; an id no entry can have is 0, which the service does not find."""
        return bounds.record_id(request.form.get("entry")) or 0

    @staticmethod
    def _back():
        shown = request.form.get("shown")
        return redirect(url_for(".index_view", state=shown if shown in FILTERS else None))
