"""The therapist portal's scoping, shared by its screens: who the signed-in therapist is, and a
list view whose every query (list, count, details, edit, export) goes through one row filter.

A record outside the filter answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from flask import abort
from flask_security import current_user

from admin_app.models import THERAPIST_ROLE
from admin_app.views.platform.base import PracticeModelView, RoleRequired


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

    def get_one(self, id):
        record = super().get_one(id)
        if record is None:
            abort(404)
        return record
