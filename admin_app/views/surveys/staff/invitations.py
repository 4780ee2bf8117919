"""The survey invitations list: who was invited about which month, and where each invitation stands.

The list loads its clients with the page (joins), never a query per row. The token nonce and hash
of an invitation are never shown.
"""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from admin_app.models import SurveyInvitation
from admin_app.models.base import utcnow
from admin_app.services.platform.labels import LANGUAGES
from admin_app.services.surveys.invitations import invitation_state
from admin_app.views.platform.base import PracticeModelView
from admin_app.views.platform.filters import LiveOptions
from admin_app.views.surveys.staff.cells import LABELS, client_link
from admin_app.views.surveys.staff.filters import (
    InvitationStateFilter,
    MonthEqualFilter,
    PresenceFilter,
    invitation_month_options,
    state_options,
)


class SurveyInvitationView(PracticeModelView):
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    column_list = ("month", "client", "recipient", "state", "created_at", "opened_at", "answered_at", "expires_at")
    column_details_list = (*column_list, "language")
    column_labels = {**PracticeModelView.column_labels, **LABELS}
    column_default_sort = [("month", True), ("id", True)]
    column_sortable_list = (
        "month",
        ("client", "client.full_name"),
        "created_at",
        "opened_at",
        "answered_at",
        "expires_at",
    )
    column_searchable_list = ("client.full_name",)
    column_filters = (
        MonthEqualFilter(SurveyInvitation.month, LABELS["month"], options=LiveOptions(invitation_month_options)),
        InvitationStateFilter(SurveyInvitation.id, LABELS["state"], options=state_options()),
        PresenceFilter(SurveyInvitation.answered_at, LABELS["answered_at"]),
        PresenceFilter(SurveyInvitation.opened_at, LABELS["opened_at"]),
    )
    # Names only in the list (a link per row would read as another row to tools that scan the page).
    column_formatters = {
        "client": lambda _v, _c, invitation, _n: invitation.client.full_name,
        "recipient": lambda _v, _c, invitation, _n: invitation.recipient.full_name,
        "state": lambda view, _c, invitation, _n: invitation_state(invitation, view.now()).label,
        "language": lambda _v, _c, invitation, _n: LANGUAGES.get(invitation.language, invitation.language),
    }
    column_formatters_detail = {
        **column_formatters,
        "client": lambda _v, _c, invitation, _n: client_link(invitation.client),
        "recipient": lambda _v, _c, invitation, _n: client_link(invitation.recipient),
    }
    # The relations are loaded below, with the page.
    column_auto_select_related = False

    @staticmethod
    def now():
        return utcnow()

    def get_query(self):
        return super().get_query().options(joinedload(SurveyInvitation.client), joinedload(SurveyInvitation.recipient))
