"""The audit trail: who created, changed, deleted or exported protected data, and never the data itself."""

from __future__ import annotations

import json

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditAction, AuditEvent, Client
from tests.factories import make_client
from tests.integration.test_records_crud import client_form
from tests.pages import flashed, list_rows


def events(entity: str | None = None, *, reads: bool = False) -> list[AuditEvent]:
    """The trail's events (of `entity`), without the views of pages unless `reads`."""
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if not reads:
        query = query.where(AuditEvent.action != AuditAction.VIEW)
    return list(db.session.scalars(query))


def summary(event: AuditEvent) -> tuple:
    return (event.action.value, event.entity, event.entity_id, event.actor, event.changed_fields)


def test_creating_a_client_on_the_screen_is_recorded_with_the_admin_as_actor(admin_client, admin_user):
    response = admin_client.post("/admin/client/new/", data=client_form(), follow_redirects=True)
    assert "Record was successfully created." in flashed(response)
    client_id = db.session.scalar(select(Client.id))

    [event] = events("client")

    assert summary(event) == ("create", "client", client_id, "staff@example.com", [])
    assert event.actor_user_id == admin_user.id
    assert event.occurred_at is not None


def test_an_update_records_the_changed_field_names_but_not_the_values(admin_client):
    client = make_client(full_name="Ana Quispe", phone="+51912345678")
    db.session.commit()
    before = len(events("client"))

    response = admin_client.post(
        f"/admin/client/edit/?id={client.id}",
        data=client_form(
            full_name="Ana Quispe",
            national_id=client.national_id,
            email=client.email,
            phone="987 654 321",
            birth_date="",
            notes="Prefers evening sessions",
        ),
        follow_redirects=True,
    )
    assert "Record was successfully saved." in flashed(response)

    [event] = events("client")[before:]
    assert summary(event) == ("update", "client", client.id, "staff@example.com", ["phone", "notes"])
    stored = json.dumps([summary(e) for e in events()], default=str)
    for value in ("+51987654321", "987 654 321", "+51912345678", "Prefers evening sessions"):
        assert value not in stored


def test_deleting_a_client_on_the_screen_is_recorded(admin_client):
    client = make_client()
    db.session.commit()

    response = admin_client.post("/admin/client/delete/", data={"id": str(client.id)}, follow_redirects=True)
    assert "Record was successfully deleted." in flashed(response)

    assert summary(events("client")[-1]) == ("delete", "client", client.id, "staff@example.com", [])


def test_a_refused_change_leaves_no_trace(admin_client):
    existing = make_client(national_id="CE0012345", phone="+51912345678")
    db.session.commit()
    before = events()

    refused = [
        admin_client.post("/admin/client/new/", data=client_form(phone="12")),
        admin_client.post("/admin/client/new/", data=client_form(national_id="ce0012345")),
        admin_client.post(
            f"/admin/client/edit/?id={existing.id}",
            data=client_form(national_id=existing.national_id, email=existing.email, phone="not a phone"),
        ),
    ]

    assert all("Record was successfully" not in " ".join(flashed(r)) for r in refused)
    assert [e.id for e in events()] == [e.id for e in before]
    db.session.expire_all()
    assert db.session.get(Client, existing.id).phone == "+51912345678"


def test_a_csv_export_is_recorded(admin_client):
    make_client(full_name="Ana Quispe")
    db.session.commit()

    response = admin_client.get("/admin/client/export/csv/")
    assert response.status_code == 200
    assert "Ana Quispe" in response.get_data(as_text=True)

    assert summary(events()[-1]) == ("export", "client", None, "staff@example.com", [])


def test_the_audit_screen_lists_the_events_for_the_admin(admin_client, admin_user):
    admin_client.post("/admin/client/new/", data=client_form())
    client_id = db.session.scalar(select(Client.id))
    admin_client.post(
        f"/admin/client/edit/?id={client_id}",
        data=client_form(email="ana@example.com", birth_date="", phone="+51 987 654 321"),
    )
    admin_client.get("/admin/client/export/csv/")

    response = admin_client.get("/admin/auditevent/")

    assert response.status_code == 200
    rows = [(r["actor"], r["action"], r["entity"], r["entity_id"], r["changed_fields"]) for r in list_rows(response)]
    assert rows == [  # newest first
        ("staff@example.com", "Exported", "Client", "", ""),
        ("staff@example.com", "Changed", "Client", str(client_id), "Email, Birth date"),
        ("staff@example.com", "Created", "Client", str(client_id), ""),
        ("staff@example.com", "Signed in", "Login", str(admin_user.id), ""),
        ("The system", "Created", "Login", str(admin_user.id), ""),
    ]


def test_a_therapist_cannot_open_the_audit_screen(therapist_client):
    assert therapist_client.get("/admin/auditevent/").status_code == 403
    assert therapist_client.get("/admin/auditevent/export/csv/").status_code == 403


def test_the_audit_trail_cannot_be_edited_or_deleted_from_the_screen(admin_client):
    make_client()
    db.session.commit()
    event = events()[-1]

    assert admin_client.get(f"/admin/auditevent/edit/?id={event.id}").status_code == 302
    admin_client.post("/admin/auditevent/delete/", data={"id": str(event.id)})
    admin_client.post("/admin/auditevent/action/", data={"action": "delete", "rowid": [str(event.id)]})

    assert event.id in [e.id for e in events()]


def test_no_audit_screen_offers_or_accepts_a_change(app, admin_client):
    """Every URL of the audit screens (and the client's access history), whatever it is: a POST to
    any of them leaves the trail as it was, and the list offers no create, edit or delete."""
    client = make_client()
    db.session.commit()
    before = [summary(e) for e in events(reads=True)]
    last = events(reads=True)[-1]
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("auditevent.") or rule.endpoint == "client.access_view"
    ]
    assert len(rules) > 3

    for rule in rules:
        path = rule.rule.replace("<export_type>", "csv")
        answer = admin_client.post(
            f"{path}?id={last.id}",
            data={"id": str(last.id), "rowid": [str(last.id)], "action": "delete", "actor": "someone@example.com"},
        )
        assert answer.status_code in (302, 403, 404, 405), (path, answer.status_code)

    after = [summary(e) for e in events(reads=True)]
    assert after[: len(before)] == before
    assert all(action == "view" for action, *_rest in after[len(before) :])  # the list pages shown since
    listing = admin_client.get("/admin/auditevent/").get_data(as_text=True)
    for offered in ("/admin/auditevent/new/", "/admin/auditevent/edit/", "/admin/auditevent/delete/"):
        assert offered not in listing
    assert f"/admin/client/access/?id={client.id}" in admin_client.get(
        f"/admin/client/details/?id={client.id}"
    ).get_data(as_text=True)


def test_an_export_records_its_screen_filters_and_row_count_but_no_search_text(admin_client):
    make_client(full_name="Ana Quispe", preferred_language="es")
    make_client(full_name="Ana Ruiz", preferred_language="es")
    make_client(full_name="Luis Quispe", preferred_language="en", active=False)
    db.session.commit()

    csv_file = admin_client.get("/admin/client/export/csv/?search=Quispe&flt0_0=1").get_data(as_text=True)
    workbook = admin_client.get("/admin/client/export/xlsx/?flt0_2=es")
    assert workbook.status_code == 200

    assert "Ana Quispe" in csv_file and "Luis Quispe" not in csv_file
    exported, exported_xlsx = events("client")[-2:]
    assert exported.detail == {
        "screen": "client",
        "filters": [{"filter": "Active", "operation": "equals", "value": "1"}],
        "search": "yes",
        "rows": 1,
    }
    assert exported_xlsx.detail == {  # a text filter may hold a name: only that it was given
        "screen": "client",
        "filters": [{"filter": "Preferred language", "operation": "contains", "value": "yes"}],
        "search": "no",
        "rows": 2,
    }
    assert "Quispe" not in json.dumps([e.detail for e in events()])
