"""A list's view, edit and delete buttons rendered once per page, not once per row.

Flask-Admin renders each row's buttons through a Jinja macro that builds two URLs (`url_for` with
the list's return URL) and a delete form (WTForms fields): about a millisecond a row, most of a
list page's time. Those buttons differ from row to row only by the record's id, so each is rendered
once, for a stand-in record whose id is a random token, and every row gets that HTML with its own
id put in place of the token. The HTML is the macro's own (templates/admin/model/row_actions.html).
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace

from flask_admin.model import template
from markupsafe import Markup

# The buttons that show nothing of a record but its id (Flask-Admin's own, templates/admin/model/row_actions.html).
ID_ONLY_ACTIONS = (
    template.ViewRowAction,
    template.ViewPopupRowAction,
    template.EditRowAction,
    template.EditPopupRowAction,
    template.DeleteRowAction,
)


class OncePerPage(template.BaseListRowAction):
    """One of ID_ONLY_ACTIONS, rendered once for the page. Made afresh for each page
    (`PracticeModelView.get_list_row_actions`): the HTML it keeps holds that page's return URL."""

    def __init__(self, action: template.TemplateLinkRowAction, primary_key: str) -> None:
        super().__init__(title=action.title)
        self.action = action
        self.primary_key = primary_key
        self.token = secrets.token_hex(8)
        self.html: str | None = None

    def render(self, context, row_id: str, row) -> Markup:
        # A plain decimal id reads the same in a URL and in HTML; any other is rendered as usual.
        if not (row_id.isascii() and row_id.isdigit()):
            return self.action.render(context, row_id, row)
        if self.html is None:
            stand_in = SimpleNamespace(**{self.primary_key: self.token})
            self.html = str(self.action.render(context, self.token, stand_in))
        return Markup(self.html.replace(self.token, row_id))


def once_per_page(actions: list, primary_key) -> list:
    """`actions` with the id-only ones rendered once per page (a composite key keeps them all as they are)."""
    if not isinstance(primary_key, str):
        return actions
    return [OncePerPage(action, primary_key) if type(action) in ID_ONLY_ACTIONS else action for action in actions]
