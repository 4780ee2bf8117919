"""The therapist portal's scoping, shared by its screens: who the signed-in therapist is, and a
list view whose every query (list, count, details, edit, export) goes through one row filter.

A record outside the filter answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from functools import partial

from flask import abort
from flask_security import current_user

from admin_app.models import THERAPIST_ROLE
from admin_app.services.platform.errors import RuleViolation
from admin_app.views.platform.base import PracticeModelView, RoleRequired


def _discreetly(rule, session, model) -> None:
    try:
        rule(session, model)
    except RuleViolation as error:
        raise error.discreetly() from None


def current_therapist_id() -> int:
    therapist = current_user.therapist if current_user.is_authenticated else None
    if therapist is None:
        abort(404)
    return therapist.id


class TherapistPortal(RoleRequired):
    """A portal screen: for an active therapist login linked to an active therapist record (a
    deactivated record closes the portal at once, whatever the login)."""

    required_role = THERAPIST_ROLE

    def is_accessible(self) -> bool:
        therapist = current_user.therapist if current_user.is_authenticated else None
        return super().is_accessible() and therapist is not None and therapist.active


class TherapistScopedView(TherapistPortal, PracticeModelView):
    """A list of the signed-in therapist's own records: `scope(query)` is the row filter."""

    can_create = False
    can_delete = False
    export_types = ["csv"]

    def scope(self, query):
        raise NotImplementedError

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        return self.scope(super().get_count_query())

    def _run_rule(self, rule, model, form=None) -> None:
        """A refusal in its discreet wording: a clash says the room or the client is taken, never by
        whom (another therapist's appointment is not the therapist's to read)."""
        if rule is None:
            return
        super()._run_rule(partial(_discreetly, rule), model, form)

    def get_one(self, id):
        record = super().get_one(id)
        if record is None:
            abort(404)
        return record
