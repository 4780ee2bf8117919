"""Reads of protected records in the audit trail, for the screens that show them.

Mixed into a Flask-Admin model view (first in its bases), every page it renders of a record, its
details or its edit form, records one VIEW of that record (who, what, when), once the page is made.
A list page records one VIEW of the list (no record id) with the screen, the page, the number of rows
and whether a search narrowed it (never its text): a list of clients is itself a view of who is a
client, and recording each row of every page would make the trail a copy of every browse. The ids
shown are kept (`audit_list_ids`) where a row shows more than a name, as a survey comment does.
"""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.models import AuditAction
from admin_app.models.audit import record_event

SEARCHED = "yes"


class AuditedReads:
    audit_list_ids = False

    def render(self, template, **kwargs):
        page = super().render(template, **kwargs)
        model = kwargs.get("model")
        if model is not None and template in (self.details_template, self.edit_template):
            record_event(db.session, action=AuditAction.VIEW, entity=self.model.__tablename__, entity_id=model.id)
        elif template == self.list_template and "data" in kwargs:
            record_event(
                db.session,
                action=AuditAction.VIEW,
                entity=self.model.__tablename__,
                detail=self._list_detail(kwargs),
            )
        else:
            return page
        db.session.commit()
        return page

    def _list_detail(self, context: dict) -> dict:
        shown = context["data"]
        detail = {
            "screen": self.endpoint,
            "page": context.get("page", 0),
            "rows": len(shown),
            "search": SEARCHED if context.get("search") else "no",
        }
        if self.audit_list_ids:
            detail["ids"] = [record.id for record in shown]
        return detail
