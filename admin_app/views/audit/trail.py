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
    # What an export contained, the roles added to a login (never a name); the chain's hash for a reader
    # comparing with `flask audit verify`.
    column_details_list = (*column_list, "detail", "chain_hash")
