"""The survey responses list (read-only, CSV export): the answers with their stars and comments.

The list loads its invitations, clients and rated therapists with the page (joins and one
select-in), never a query per row.
"""

from __future__ import annotations

from sqlalchemy.orm import joinedload, selectinload

from admin_app.models import SurveyInvitation, SurveyRating, SurveyResponse
from admin_app.services.platform.labels import FIELDS
from admin_app.services.surveys import nps
from admin_app.views.audit.reads import AuditedReads
from admin_app.views.platform.base import PracticeModelView
from admin_app.views.platform.filters import LiveOptions
from admin_app.views.scheduling.appointments import therapist_options
from admin_app.views.surveys.staff.cells import LABELS, client_link, full_comment, ratings_text, short_comment
from admin_app.views.surveys.staff.filters import (
    MonthEqualFilter,
    NpsGroupFilter,
    RatedTherapistFilter,
    nps_group_options,
    response_month_options,
)


class SurveyResponseView(AuditedReads, PracticeModelView):
    audit_list_ids = True  # each row shows a comment
    can_create = False
    can_edit = False
    can_delete = False
    export_types = ["csv"]
    column_list = ("month", "submitted_at", "client", "nps_score", "ratings", "comment")
    column_details_list = (
        "month",
        "submitted_at",
        "client",
        "recipient",
        "nps_score",
        "nps_group",
        "ratings",
        "comment",
    )
    column_export_list = ("month", "submitted_at", "client", "nps_score", "ratings", "comment")
    column_labels = {**PracticeModelView.column_labels, **LABELS}
    column_default_sort = [("submitted_at", True), ("id", True)]
    column_sortable_list = ("month", "submitted_at", "nps_score")
    column_filters = (
        MonthEqualFilter(SurveyResponse.month, LABELS["month"], options=LiveOptions(response_month_options)),
        RatedTherapistFilter(SurveyResponse.id, FIELDS["therapist"], options=LiveOptions(therapist_options)),
        NpsGroupFilter(SurveyResponse.nps_score, LABELS["nps_group"], options=nps_group_options()),
    )
    column_formatters = {
        "client": lambda _v, _c, response, _n: response.invitation.client.full_name,
        "ratings": lambda _v, _c, response, _n: ratings_text(response),
        "comment": lambda _v, _c, response, _n: short_comment(response.comment),
    }
    column_formatters_detail = {
        **column_formatters,
        "client": lambda _v, _c, response, _n: client_link(response.invitation.client),
        "recipient": lambda _v, _c, response, _n: client_link(response.invitation.recipient),
        "nps_group": lambda _v, _c, response, _n: nps.BY_KEY[nps.group_of(response.nps_score)].label,
        "comment": full_comment,
    }
    column_formatters_export = {
        "client": lambda _v, _c, response, _n: response.invitation.client.full_name,
        "ratings": lambda _v, _c, response, _n: ratings_text(response),
        "comment": lambda _v, _c, response, _n: response.comment or "",
    }
    column_auto_select_related = False

    def get_query(self):
        invitation = joinedload(SurveyResponse.invitation)
        return (
            super()
            .get_query()
            .options(
                invitation.joinedload(SurveyInvitation.client),
                invitation.joinedload(SurveyInvitation.recipient),
                selectinload(SurveyResponse.ratings).joinedload(SurveyRating.therapist),
            )
        )
