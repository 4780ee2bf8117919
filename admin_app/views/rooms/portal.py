"""The therapist portal's reservations: the rooms the therapist holds, read only (the office makes,
ends and shortens them; a change by the office comes as a notification that points here).

Scoped like every portal list (`views.platform.portal`): another therapist's reservation answers 404.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from admin_app.models import RoomReservation
from admin_app.services.platform.labels import FIELDS
from admin_app.views.platform.portal import TherapistScopedView, current_therapist_id
from admin_app.views.rooms.reservations import RESERVATION_FORMATTERS


class MyReservationsView(TherapistScopedView):
    can_edit = False
    column_list = ("room", "weekday", "hours", "valid_from", "valid_until")
    column_details_list = (*column_list, "notes")
    column_labels = {**FIELDS, "hours": _l("Hours")}
    column_default_sort = [("weekday", False), ("starts_time", False)]
    column_sortable_list = ("weekday", "valid_from", "valid_until")
    column_filters = ("valid_until",)
    column_formatters = RESERVATION_FORMATTERS
    column_formatters_export = RESERVATION_FORMATTERS
    column_formatters_detail = RESERVATION_FORMATTERS

    def scope(self, query):
        return query.filter(RoomReservation.therapist_id == current_therapist_id())
