"""The audit trail, read-only, for the practice's administrators."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from admin_app.services.platform.labels import changed_fields_label, entity_label
from admin_app.views.platform.base import PracticeModelView

# Who acted when no login did: the app itself, a command (`cli:flask ...`) or a background job (`job:...`).
ACTORS = {"system": _l("The system"), "cli": _l("Command"), "job": _l("Background job")}


def actor_label(actor: str) -> Markup | str:
    """A login's email as it is; what the app did, named in the reader's language (a command's or a job's
    own name kept beside it, as code)."""
    kind, _, name = actor.partition(":")
    if kind not in ACTORS:
        return actor
    return Markup(f"{escape(ACTORS[kind])} <code>{escape(name)}</code>") if name else ACTORS[kind]


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
    # Tables and columns as a person calls them ("survey_invitation" is a survey invitation).
    column_formatters = {
        "actor": lambda _view, _context, event, _name: actor_label(event.actor or ""),
        "entity": lambda _view, _context, event, _name: entity_label(event.entity),
        "changed_fields": lambda _view, _context, event, _name: changed_fields_label(event.changed_fields or ()),
    }
    column_formatters_export = {}  # an export keeps the names as stored, to compare with `flask audit verify`
