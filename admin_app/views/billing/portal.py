"""The therapist portal's authorizations: those of the clients the therapist cares for now, with
their counts and status, the approval letter, *Documents submitted* (the extension is asked for:
the admins are told and their task opens) and, once the payer answered, the extension recorded.

Scoped like every portal list (`views.platform.portal`): another client's authorization, its
letter or its extension answer 404, as one that does not exist.
"""

from __future__ import annotations

from flask_admin.actions import action
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from admin_app.extensions import db
from admin_app.models import Authorization
from admin_app.services.billing import extensions
from admin_app.services.people.records import clients_in_care_now
from admin_app.services.platform.labels import field_label
from admin_app.views.billing.authorizations import LIST_COLUMNS, CountedAuthorizations, StatusFilter
from admin_app.views.platform.base import row_action_button
from admin_app.views.platform.portal import TherapistScopedView, current_therapist_id


def _extended_by(_view, _context, authorization: Authorization, _name) -> Markup | str:
    """The extension the office recorded for this authorization: its reference and dates."""
    extension = extensions.extension_of(db.session, authorization.id)
    if extension is None:
        return ""
    return Markup('<span id="extended-by">{}</span>').format(
        gettext(
            "%(reference)s, %(approved)d sessions from %(start)s to %(end)s",
            reference=extension.reference,
            approved=extension.approved_sessions,
            start=extension.valid_from.isoformat(),
            end=extension.valid_until.isoformat(),
        )
    )


class MyAuthorizationsView(CountedAuthorizations, TherapistScopedView):
    can_edit = False
    # A payer filter would list every payer's name, not only theirs.
    column_filters = (StatusFilter(field_label("status")), "valid_until")
    column_details_list = (*LIST_COLUMNS, "extension_requested_at", "extended_by", "letter", "next_steps")
    column_formatters_detail = {**CountedAuthorizations.column_formatters_detail, "extended_by": _extended_by}

    def scope(self, query):
        return query.filter(Authorization.client_id.in_(clients_in_care_now(current_therapist_id())))

    @action(
        "request_extension",
        _l("Documents submitted"),
        _l("The documents for an extension were sent to the payer: the office will be told. Continue?"),
    )
    def action_request_extension(self, ids):
        self._change_each(
            ids,
            extensions.submit_documents,
            lambda num: ngettext(
                "Documents submitted for %(num)d authorization: the office is told.",
                "Documents submitted for %(num)d authorizations: the office is told.",
                num,
            ),
        )

    def _buttons(self, authorization: Authorization) -> list[Markup]:
        if not super()._buttons(authorization):
            return []
        return [row_action_button("request_extension", authorization.id, gettext("Documents submitted"), "btn-primary")]
