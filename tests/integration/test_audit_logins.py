"""Logins in the audit trail: sign-ins and failed ones, changes to a login (field names and role names,
never values), the second-factor reset another screen records, all on the chain."""

from __future__ import annotations

import json

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditAction, AuditEvent, Role
from admin_app.models.audit import record_event
from admin_app.services.audit.chain import verify_chain
from tests.conftest import login
from tests.factories import PASSWORD, make_admin, make_therapist, make_therapist_user

NEW_PASSWORD = "lantern-orchard-quietly-7"


def events(entity: str = "app_user") -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity == entity).order_by(AuditEvent.id)))


def summary(event: AuditEvent) -> tuple:
    return (event.action.value, event.entity_id, event.actor, event.changed_fields, event.detail)


def everything_recorded() -> str:
    return json.dumps([summary(e) for e in events()], default=str)


def test_a_sign_in_is_recorded_with_the_user_as_actor(client):
    admin = make_admin()
    db.session.commit()

    assert login(client, "staff@example.com").status_code == 302

    assert summary(events()[-1]) == ("sign_in", admin.id, "staff@example.com", [], {"via": ["password"]})
    assert events()[-1].actor_user_id == admin.id


def test_failed_sign_ins_name_the_login_but_never_what_was_typed(client):
    admin = make_admin()
    db.session.commit()
    before = len(events())

    assert login(client, "staff@example.com", "wrong-guess-1").status_code == 200
    assert login(client, "ana.quispe@example.com", "her-password-2").status_code == 200

    assert [summary(e) for e in events()[before:]] == [
        ("sign_in_failed", admin.id, "anonymous", [], {"via": ["password"], "second_factor": False}),
        ("sign_in_failed", None, "anonymous", [], {"known_login": False}),
    ]
    for typed in ("wrong-guess-1", "ana.quispe", "her-password-2"):
        assert typed not in everything_recorded()


def test_a_change_of_active_and_roles_on_the_logins_screen_names_fields_and_roles(admin_client):
    therapist_user = make_therapist_user(make_therapist(full_name="Rosa Mendoza", email="rosa@example.com"))
    db.session.commit()
    admin_role = db.session.scalar(select(Role).where(Role.name == "admin"))
    before = len(events())

    response = admin_client.post(
        f"/admin/user/edit/?id={therapist_user.id}",
        data={"roles": [str(admin_role.id)], "locale": "en"},  # active unticked, therapist role dropped
        follow_redirects=True,
    )
    assert response.status_code == 200

    [event] = events()[before:]
    assert (event.action, event.entity_id, event.actor) == (AuditAction.UPDATE, therapist_user.id, "staff@example.com")
    assert sorted(event.changed_fields) == ["active", "roles"]
    assert event.detail == {"roles": {"added": ["admin"], "removed": ["therapist"]}}


def test_a_password_change_names_the_field_only(client):
    admin = make_admin()
    db.session.commit()
    login(client, "staff@example.com")
    old_hash = admin.password
    before = len(events())

    client.post(
        "/change-password",
        data={"password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
    )

    changes = [e for e in events()[before:] if e.action == AuditAction.UPDATE]
    assert "password" in changes[0].changed_fields
    db.session.refresh(admin)
    for secret in (NEW_PASSWORD, admin.password, old_hash):
        assert secret not in everything_recorded()


def test_a_second_factor_set_up_names_its_fields_and_a_staff_reset_is_recorded(app):
    admin = make_admin()
    db.session.commit()

    admin.tf_primary_method = "authenticator"
    admin.tf_totp_secret = "JBSWY3DPEHPK3PXP-secret"
    db.session.commit()
    # What the staff's "reset second factor" action records (the accounts feature).
    admin.tf_primary_method = admin.tf_totp_secret = None
    record_event(db.session, action=AuditAction.DELETE, entity="second_factor", entity_id=admin.id)
    db.session.commit()

    assert sorted(events()[-2].changed_fields) == ["tf_primary_method", "tf_totp_secret"]
    assert "JBSWY3DPEHPK3PXP" not in everything_recorded()
    assert summary(events("second_factor")[-1])[:3] == ("delete", admin.id, "system")
    assert verify_chain(db.session).broken_at is None


def test_the_right_password_of_a_login_with_a_second_step_is_no_failed_sign_in(client, app, monkeypatch):
    """The password step leads on to the code: neither a sign-in nor a failure until the code is checked."""
    monkeypatch.setitem(app.config, "REQUIRE_2FA_STAFF", True)
    make_admin()
    db.session.commit()
    before = len(events())

    assert login(client, "staff@example.com").headers["Location"].endswith("/tf-setup")

    assert [summary(e) for e in events()[before:]] == []
    assert login(client, "nobody@example.com", "her-password-2").status_code == 200
    unknown = ("sign_in_failed", None, "anonymous", [], {"known_login": False})
    assert [summary(e) for e in events()[before:]] == [unknown]
