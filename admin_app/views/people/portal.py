"""The therapist portal's clients: a therapist's own clients, nothing else.

The list and every client lookup go through `client_visible_to_therapist` (see
`views.platform.portal` for the scoping every portal list shares).
"""

from __future__ import annotations

from admin_app.services.people import records as people
from admin_app.views.billing.colours import ClientRowColours
from admin_app.views.people.clinical_notes import ClinicalNotesInPortal
from admin_app.views.people.records import RecordLoader
from admin_app.views.platform.portal import TherapistScopedView, current_therapist_id


class OwnClientsLoader(RecordLoader):
    """Ajax client lookup limited to the signed-in therapist's clients."""

    def get_query(self):
        return super().get_query().filter(people.client_visible_to_therapist(current_therapist_id()))


class MyClientsView(ClinicalNotesInPortal, ClientRowColours, TherapistScopedView):
    prepare = staticmethod(people.prepare_client)
    column_list = ("client_number", "full_name", "national_id", "email", "phone", "preferred_language", "active")
    column_searchable_list = ("full_name", "client_number", "national_id", "email", "phone")
    column_filters = ("active",)
    column_default_sort = ("full_name", False)
    column_details_list = (
        "client_number",
        "full_name",
        "national_id",
        "email",
        "phone",
        "birth_date",
        "preferred_language",
        "reminder_preference",
        "active",
        "notes",
    )
    form_columns = ("email", "phone", "preferred_language", "reminder_preference", "notes")

    def scope(self, query):
        return query.filter(people.client_visible_to_therapist(current_therapist_id()))
