"""In-app notifications: the bell in the navbar of both areas, the notifications page, mark all read.

Each user sees only their own notices; the staff's link to the outbox, the therapists' do not.
"""

from __future__ import annotations

import datetime as dt
import re

from flask_security import login_user

from admin_app.extensions import db
from admin_app.models import THERAPIST_ROLE
from admin_app.services.accounts import logins
from admin_app.services.messaging import notifications
from admin_app.services.messaging.notifications import MESSAGE_FAILED
from admin_app.views.messaging.notifications import bell
from tests.conftest import login, sign_in_therapist
from tests.factories import make_admin, make_therapist, make_therapist_user
from tests.pages import body, csrf_token, text_of
from tests.queries import counted_queries

STAFF_PAGE, PORTAL_PAGE = "/admin/notifications/", "/portal/notifications/"


def badge(response) -> str | None:
    """The unread count on the bell, None when the bell shows none."""
    found = re.search(r'<span class="badge[^"]*" id="notification-count">(\d+)</span>', body(response))
    return found.group(1) if found else None


def bell_link(response) -> str:
    return re.search(r'<a class="nav-link" id="notifications-bell" href="([^"]+)"', body(response)).group(1)


def notices(response) -> list[dict]:
    """One dict per notice on the page: its text, whether it is unread, its link to the outbox."""
    items = re.findall(r'<li class="list-group-item notification([^"]*)"[^>]*>(.*?)</li>', body(response), re.S)
    return [
        {
            "text": text_of(re.search(r'<span class="notification-text">(.*?)</span>', item, re.S).group(1)),
            "unread": "notification-unread" in classes,
            "link": (re.findall(r'href="([^"]+)"', item) or [None])[0],
            "when": text_of(re.search(r'<small class="text-muted mr-2">(.*?)</small>', item, re.S).group(1)),
        }
        for classes, item in items
    ]


def failed_text(message_id: int) -> str:
    return f"Message #{message_id} could not be delivered. Open the outbox to see why and send it again."


def test_the_bell_counts_unread_notices_and_the_page_lists_them(admin_client, admin_user):
    assert badge(admin_client.get("/admin/book/")) is None  # nothing yet: no badge
    notifications.notify_admins(
        db.session, MESSAGE_FAILED, message_id=41, now=dt.datetime(2026, 5, 1, 4, 30, tzinfo=dt.UTC)
    )
    notifications.notify_admins(
        db.session, MESSAGE_FAILED, message_id=42, now=dt.datetime(2026, 5, 2, 15, 0, tzinfo=dt.UTC)
    )
    db.session.commit()

    book = admin_client.get("/admin/book/")

    assert badge(book) == "2"
    assert bell_link(book) == STAFF_PAGE
    page = admin_client.get(bell_link(book))
    assert page.status_code == 200
    assert notices(page) == [
        {"text": failed_text(42), "unread": True, "link": "/admin/outbox/details/?id=42", "when": "2026-05-02 10:00"},
        {"text": failed_text(41), "unread": True, "link": "/admin/outbox/details/?id=41", "when": "2026-04-30 23:30"},
    ]
    assert "Notifications" not in text_of(
        body(page)[body(page).find("<nav") : body(page).find('id="notifications-bell"')]
    )


def test_mark_all_as_read_clears_the_count_and_the_highlight(admin_client, admin_user):
    notifications.notify_admins(db.session, MESSAGE_FAILED, message_id=7)
    db.session.commit()
    page = admin_client.get(STAFF_PAGE)
    assert badge(page) == "1"

    response = admin_client.post(f"{STAFF_PAGE}read", data={"csrf_token": csrf_token(page)}, follow_redirects=True)

    assert response.request.path == STAFF_PAGE
    assert badge(response) is None
    assert [(notice["text"], notice["unread"]) for notice in notices(response)] == [(failed_text(7), False)]
    assert 'id="mark-all-read"' not in body(response)  # nothing left to mark
    assert badge(admin_client.get("/admin/client/")) is None


def test_another_admins_notices_are_neither_counted_nor_listed(admin_client, admin_user):
    other = make_admin(email="other@example.com")
    db.session.flush()
    notifications.notify_user(db.session, other.id, MESSAGE_FAILED, message_id=99)
    db.session.commit()

    page = admin_client.get(STAFF_PAGE)

    assert badge(page) is None
    assert notices(page) == []
    assert "No notifications." in body(page)


def test_a_therapist_sees_only_their_own_notices_in_the_portal(client):
    rosa, jorge = make_therapist(full_name="Rosa Mendoza"), make_therapist(full_name="Jorge Salas")
    rosa_login, jorge_login = make_therapist_user(rosa), make_therapist_user(jorge)
    db.session.flush()
    notifications.notify_user(db.session, rosa_login.id, MESSAGE_FAILED, message_id=1)
    notifications.notify_user(db.session, jorge_login.id, MESSAGE_FAILED, message_id=2)
    notifications.notify_user(db.session, jorge_login.id, MESSAGE_FAILED, message_id=3)
    db.session.commit()
    login(client, rosa.email)

    home = client.get("/portal/")

    assert badge(home) == "1"
    assert bell_link(home) == PORTAL_PAGE
    page = client.get(PORTAL_PAGE)
    assert page.status_code == 200
    assert [(notice["text"], notice["link"]) for notice in notices(page)] == [(failed_text(1), None)]  # no outbox
    client.post(f"{PORTAL_PAGE}read", data={"csrf_token": csrf_token(page)})
    db.session.expire_all()
    assert notifications.unread_count(db.session, rosa_login.id) == 0
    assert notifications.unread_count(db.session, jorge_login.id) == 2  # Jorge's are untouched


def test_each_area_keeps_its_notifications_page_to_its_own_users(admin_client, client):
    assert admin_client.get(PORTAL_PAGE).status_code == 403
    therapist_browser = sign_in_therapist(client.application.test_client(), make_therapist())

    assert therapist_browser.get(STAFF_PAGE).status_code == 403
    assert therapist_browser.post(f"{STAFF_PAGE}read").status_code == 403


def test_the_bell_costs_one_count_query_per_page(admin_client, admin_user):
    notifications.notify_admins(db.session, MESSAGE_FAILED, message_id=5)
    db.session.commit()

    with counted_queries() as statements:
        page = admin_client.get("/admin/client/")

    assert badge(page) == "1"
    assert len([s for s in statements if "FROM notification" in s]) == 1


def test_the_bell_asks_nothing_of_the_database_for_an_anonymous_visitor(app):
    with app.test_request_context("/admin/"), counted_queries() as statements:
        assert bell("admin") is None
    assert statements == []


def test_the_bell_of_a_user_with_both_roles_follows_the_area(app, admin_user):
    admin_user.roles.append(logins.ensure_roles(db.session)[THERAPIST_ROLE])  # also sees clients
    db.session.commit()

    with app.test_request_context("/portal/"):
        login_user(admin_user)
        assert bell("portal").url.endswith(PORTAL_PAGE)
        assert bell("admin").url.endswith(STAFF_PAGE)
