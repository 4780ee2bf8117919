"""In-app notifications: the bell in the navbar and a page per area listing the user's own notices.

The staff page (/admin/notifications/) links message notices to the outbox; the portal page
(/portal/notifications/) is the same list for a therapist, without those links. Neither is in
the menu: the bell leads there. Each page reads only the signed-in user's notifications.
"""

from __future__ import annotations

import dataclasses

from flask import redirect, url_for
from flask_admin import BaseView, expose
from flask_security import current_user

from admin_app.extensions import db
from admin_app.models import ADMIN_ROLE, THERAPIST_ROLE
from admin_app.services.messaging import notifications
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.tasks import client_requests
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.formatting import LOCAL_FORMAT

STAFF_ENDPOINT = "notifications"
PORTAL_ENDPOINT = "my_notifications"
PORTAL_AREA = "portal"


class NotificationsView(RoleRequired, BaseView):
    """The staff's notifications; message notices link to the outbox."""

    links_to_outbox = True

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        lines = notifications.recent(db.session, current_user.id)
        return self.render(
            "admin/notifications.html",
            lines=lines,
            answers=self.answers(lines),
            links_to_outbox=self.links_to_outbox,
            local_time=lambda instant: to_local(instant).strftime(LOCAL_FORMAT),
        )

    def answers(self, lines) -> dict:
        """What the notices say beyond their text (the staff's have nothing more)."""
        return {}

    @expose("/read", methods=("POST",))
    def mark_all_read(self):
        notifications.mark_all_read(db.session, current_user.id)
        db.session.commit()
        return redirect(url_for(".index"))


class PortalNotificationsView(NotificationsView):
    """A therapist's notifications: the same list, without links into the staff area."""

    required_role = THERAPIST_ROLE
    links_to_outbox = False

    def answers(self, lines) -> dict:
        """The office's answers to the therapist's requests: the client's name and the note, read for
        the whole page in one statement (a notification holds ids only)."""
        therapist = current_user.therapist
        if therapist is None:
            return {}
        return client_requests.answers(db.session, therapist.id, [line.request_id for line in lines if line.request_id])


@dataclasses.dataclass(frozen=True)
class Bell:
    count: int
    url: str


def notifications_endpoint(area: str | None) -> str | None:
    """The notifications page for the signed-in user: the current area's when the user works
    there (someone with both roles reading the portal stays in it), else their own area's."""
    is_admin, is_therapist = current_user.has_role(ADMIN_ROLE), current_user.has_role(THERAPIST_ROLE)
    if is_therapist and (area == PORTAL_AREA or not is_admin):
        return f"{PORTAL_ENDPOINT}.index"
    if is_admin:
        return f"{STAFF_ENDPOINT}.index"
    return None


def bell(area: str | None = None) -> Bell | None:
    """The navbar bell: one COUNT query, and none at all for an anonymous visitor."""
    if not current_user.is_authenticated:
        return None
    endpoint = notifications_endpoint(area)
    if endpoint is None:
        return None
    return Bell(count=notifications.unread_count(db.session, current_user.id), url=url_for(endpoint))
