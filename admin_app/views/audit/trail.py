"""The audit trail, read-only, for the practice's administrators."""

from __future__ import annotations

from admin_app.views.platform.base import PracticeModelView


class AuditEventView(PracticeModelView):
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("occurred_at", "actor", "action", "entity", "entity_id", "changed_fields")
    column_filters = ("occurred_at", "actor", "action", "entity", "entity_id")
    column_default_sort = ("occurred_at", True)
    column_details_list = column_list
