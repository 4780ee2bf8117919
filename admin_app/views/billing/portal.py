"""The therapist portal's authorizations: those of the clients the therapist cares for now, with
their counts and status, the approval letter and *Request extension* (documents submitted).

Scoped like every portal list (`views.platform.portal`): another client's authorization, its
letter or its extension answer 404, as one that does not exist.
"""

from __future__ import annotations

from admin_app.models import Authorization
from admin_app.services.people.records import clients_in_care_now
from admin_app.services.platform.labels import field_label
from admin_app.views.billing.authorizations import LIST_COLUMNS, CountedAuthorizations, StatusFilter
from admin_app.views.platform.portal import TherapistScopedView, current_therapist_id


class MyAuthorizationsView(CountedAuthorizations, TherapistScopedView):
    can_edit = False
    # A payer filter would list every payer's name, not only theirs.
    column_filters = (StatusFilter(field_label("status")), "valid_until")
    column_details_list = (*LIST_COLUMNS, "extension_requested_at", "letter", "next_steps")

    def scope(self, query):
        return query.filter(Authorization.client_id.in_(clients_in_care_now(current_therapist_id())))
