"""Clinical notes: the client's therapists in care now read them and each writes their own; the
staff read them only where the practice allows it; nothing else shows their text.

Rosa (signed in) cares for Ana directly, Tomás sees Ana indirectly (her father's sessions), and
Jorge cares for Carlos only. Ana's notes are Rosa's and Tomás's; to Jorge they do not exist.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from admin_app.config import ConfigError, load_settings
from admin_app.extensions import db
from admin_app.models import AssignmentKind, AuditAction, AuditEvent, CareAssignment, ClinicalNote, ClinicalNoteIsFinal
from admin_app.services.people import clinical_notes
from admin_app.services.platform.errors import NotFound, RuleViolation
from tests.conftest import login, make_app, sign_in_therapist
from tests.factories import PASSWORD, make_admin, make_client, make_therapist, make_therapist_user
from tests.pages import body, csrf_token, csv_rows, flashed, list_rows, text_of
from tests.queries import counted_queries

SECRET = "Ana spoke about her brother's accident; sleep still poor."
NOW = "2026-05-04T20:30:00Z"  # 15:30 in Lima


@pytest.fixture
def practice(app, client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    tomas = make_therapist(full_name="Tomás Vega")
    jorge = make_therapist(full_name="Jorge Salas")
    ana = make_client(rosa, full_name="Ana Quispe")
    db.session.add(CareAssignment(client=ana, therapist=tomas, kind=AssignmentKind.INDIRECT))
    carlos = make_client(jorge, full_name="Carlos Quispe")
    for therapist in (tomas, jorge):
        make_therapist_user(therapist)
    sign_in_therapist(client, rosa)
    return SimpleNamespace(rosa=rosa, tomas=tomas, jorge=jorge, ana=ana, carlos=carlos)


def signed_in(app, therapist):
    visitor = app.test_client()
    assert login(visitor, therapist.email).status_code == 302
    return visitor


def details(client_id: int) -> str:
    return f"/portal/clients/details/?id={client_id}"


def write_url(client_id) -> str:
    return f"/portal/clients/clinical-notes/?id={client_id}"


def notes_shown(response) -> list[dict[str, str]]:
    """The notes on a client's page as the reader sees them: author, when, text."""
    page = body(response)
    found = []
    for item in page.split('<li class="list-group-item clinical-note"')[1:]:
        author = item.split('class="clinical-note-author">')[1].split("</span>")[0]
        written = item.split('class="clinical-note-written">')[1].split("</span>")[0]
        text = item.split('class="clinical-note-text" style="white-space: pre-wrap">')[1].split("</div>")[0]
        found.append({"author": text_of(author), "written": written, "text": text})
    return found


def note_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ClinicalNote))


def reads_of(client_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.entity == clinical_notes.READ_ENTITY,
                AuditEvent.entity_id == client_id,
                AuditEvent.action == AuditAction.VIEW,
            )
            .order_by(AuditEvent.id)
        )
    )


# --- the portal ---------------------------------------------------------------------------------


@pytest.mark.parametrize("clock", [NOW], indirect=True)
def test_a_note_one_therapist_writes_is_read_by_the_clients_other_therapist(app, client, practice):
    response = client.post(write_url(practice.ana.id), data={"clinical_note": SECRET + "\r\nPlan: weekly."})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(details(practice.ana.id))
    page = client.get(details(practice.ana.id))
    assert "Clinical note saved." in flashed(page)
    assert notes_shown(page) == [
        {
            "author": "Rosa Mendoza",
            "written": "2026-05-04 15:30",
            "text": SECRET.replace("'", "&#39;") + "\nPlan: weekly.",
        }
    ]

    tomas = signed_in(app, practice.tomas)  # indirect assignment of the same client
    assert [note["author"] for note in notes_shown(tomas.get(details(practice.ana.id)))] == ["Rosa Mendoza"]
    tomas.post(write_url(practice.ana.id), data={"clinical_note": "Father attended; supportive."})
    assert [(note["author"], note["text"]) for note in notes_shown(client.get(details(practice.ana.id)))] == [
        ("Tomás Vega", "Father attended; supportive."),
        ("Rosa Mendoza", SECRET.replace("'", "&#39;") + "\nPlan: weekly."),
    ]


def test_a_note_is_shown_escaped_with_its_line_breaks(client, practice):
    client.post(write_url(practice.ana.id), data={"clinical_note": "<script>alert(1)</script>\nsecond line"})

    page = client.get(details(practice.ana.id))
    assert notes_shown(page)[0]["text"] == "&lt;script&gt;alert(1)&lt;/script&gt;\nsecond line"
    assert "<script>alert(1)" not in body(page)


def test_another_therapists_client_is_not_found_and_nothing_is_written(app, client, practice):
    jorge = signed_in(app, practice.jorge)
    client.post(write_url(practice.ana.id), data={"clinical_note": SECRET})

    assert jorge.get(details(practice.ana.id)).status_code == 404
    response = jorge.post(write_url(practice.ana.id), data={"clinical_note": "Not mine to write."})
    assert response.status_code == 404
    assert SECRET not in body(response)
    # Rosa, with Jorge's client's id, a missing id, one that does not exist, one no column holds.
    for target in (practice.carlos.id, "", 999999, "x", 10**12):
        assert client.post(write_url(target), data={"clinical_note": "Not mine."}).status_code == 404, target
    assert client.get(details(practice.carlos.id)).status_code == 404
    assert note_count() == 1
    assert reads_of(practice.carlos.id) == []


def test_an_ended_assignment_ends_the_therapists_access_to_the_notes_at_once(client, practice):
    client.post(write_url(practice.ana.id), data={"clinical_note": SECRET})
    db.session.scalar(select(CareAssignment).where(CareAssignment.therapist_id == practice.rosa.id)).active = False
    db.session.commit()

    assert client.get(details(practice.ana.id)).status_code == 404
    assert client.post(write_url(practice.ana.id), data={"clinical_note": "One more."}).status_code == 404
    assert note_count() == 1
    with pytest.raises(NotFound):
        clinical_notes.notes_for_therapist(db.session, practice.rosa.id, practice.ana.id)


@pytest.mark.parametrize("typed", ["", "   \r\n  "])
def test_an_empty_note_is_refused_naming_the_field_and_nothing_is_written(client, practice, typed):
    response = client.post(write_url(practice.ana.id), data={"clinical_note": typed})

    assert response.status_code == 200
    assert flashed(response) == ["Clinical note: this field is required"]
    assert note_count() == 0


def test_a_note_too_long_is_refused_and_what_was_typed_stays_in_the_form(client, practice):
    typed = "a" * (clinical_notes.MAX_LENGTH + 1)
    response = client.post(write_url(practice.ana.id), data={"clinical_note": typed})

    assert response.status_code == 200
    assert flashed(response) == [
        f"Clinical note: at most {clinical_notes.MAX_LENGTH} characters ({clinical_notes.MAX_LENGTH + 1} given)"
    ]
    assert f">{typed}</textarea>" in body(response)
    assert note_count() == 0


def test_reading_a_clients_notes_is_audited_once_per_read_without_the_text(app, client, practice):
    client.post(write_url(practice.ana.id), data={"clinical_note": SECRET})
    client.get(details(practice.ana.id))
    signed_in(app, practice.tomas).get(details(practice.ana.id))

    assert [event.actor for event in reads_of(practice.ana.id)] == [practice.rosa.email, practice.tomas.email]
    written = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == ClinicalNote.__tablename__)).all()
    assert [(event.action, event.actor) for event in written] == [(AuditAction.CREATE, practice.rosa.email)]
    assert written[0].changed_fields == []


def test_the_portal_client_page_reads_in_the_same_number_of_statements_for_2_or_40_notes(client, practice):
    for text in ("one", "two"):
        clinical_notes.write(db.session, therapist=practice.rosa, client_id=practice.ana.id, text=text)
    db.session.commit()
    client.get(details(practice.ana.id))  # warm up (the templates)
    with counted_queries() as two:
        assert len(notes_shown(client.get(details(practice.ana.id)))) == 2
    for n in range(38):
        clinical_notes.write(db.session, therapist=practice.tomas, client_id=practice.ana.id, text=f"note {n}")
    db.session.commit()
    with counted_queries() as forty:
        assert len(notes_shown(client.get(details(practice.ana.id)))) == 40

    assert len(forty) == len(two)


@pytest.fixture(scope="module")
def csrf_app(database_url, migrated_app):
    return make_app(database_url, WTF_CSRF_ENABLED=True)


def test_a_note_is_saved_only_with_the_token_of_the_clients_page(app, csrf_app, practice):
    visitor = csrf_app.test_client()
    token = csrf_token(visitor.get("/login"))
    visitor.post("/login", data={"email": practice.rosa.email, "password": PASSWORD, "csrf_token": token})

    refused = visitor.post(write_url(practice.ana.id), data={"clinical_note": "Forged."})
    assert refused.status_code == 400
    assert note_count() == 0

    token = csrf_token(visitor.get(details(practice.ana.id)))
    saved = visitor.post(write_url(practice.ana.id), data={"clinical_note": "Typed here.", "csrf_token": token})
    assert saved.status_code == 302
    assert note_count() == 1


# --- the staff ----------------------------------------------------------------------------------


@pytest.fixture
def staff(app):
    make_admin()
    db.session.commit()
    visitor = app.test_client()
    assert login(visitor, "staff@example.com").status_code == 302
    return visitor


def test_staff_do_not_see_clinical_notes_by_default(client, practice, staff):
    client.post(write_url(practice.ana.id), data={"clinical_note": SECRET})

    page = staff.get(f"/admin/client/details/?id={practice.ana.id}")
    assert page.status_code == 200
    assert "Clinical notes are kept by the client's therapists and are not shown to staff." in text_of(body(page))
    assert "brother" not in body(page)
    assert "brother" not in body(staff.get("/admin/client/"))
    assert "brother" not in body(staff.get("/admin/client/export/csv/"))
    assert "brother" not in body(staff.get(f"/admin/client/edit/?id={practice.ana.id}"))
    assert reads_of(practice.ana.id) == []
    readers = text_of(body(client.get(details(practice.ana.id))).split('id="clinical-notes-readers">')[1].split("<")[0])
    assert readers.startswith("Only the client's therapists read clinical notes.")
    with pytest.raises(RuleViolation):
        clinical_notes.notes_for_staff(db.session, practice.ana.id, {"STAFF_READ_CLINICAL_NOTES": False})


@pytest.mark.parametrize("clock", [NOW], indirect=True)
def test_staff_read_clinical_notes_where_the_setting_allows_it_and_the_read_is_audited(
    app, client, practice, staff, monkeypatch
):
    client.post(write_url(practice.ana.id), data={"clinical_note": SECRET})
    monkeypatch.setitem(app.config, "STAFF_READ_CLINICAL_NOTES", True)

    page = staff.get(f"/admin/client/details/?id={practice.ana.id}")
    assert [(note["author"], note["written"]) for note in notes_shown(page)] == [("Rosa Mendoza", "2026-05-04 15:30")]
    assert "brother" in notes_shown(page)[0]["text"]
    assert "not shown to staff" not in body(page)
    assert 'id="clinical-note-form"' not in body(page)  # staff read; only therapists write
    assert [event.actor for event in reads_of(practice.ana.id)] == ["staff@example.com"]
    readers = text_of(body(client.get(details(practice.ana.id))).split('id="clinical-notes-readers">')[1].split("<")[0])
    assert readers.startswith("The client's therapists read clinical notes, and so do the practice's staff")
    # The list and its export never carry them.
    assert "brother" not in body(staff.get("/admin/client/"))
    assert "brother" not in body(staff.get("/admin/client/export/csv/"))


def test_the_audit_trail_screen_shows_that_notes_were_written_and_read_never_their_text(
    app, client, practice, staff, monkeypatch
):
    client.post(write_url(practice.ana.id), data={"clinical_note": SECRET})
    client.get(details(practice.ana.id))
    monkeypatch.setitem(app.config, "STAFF_READ_CLINICAL_NOTES", True)
    staff.get(f"/admin/client/details/?id={practice.ana.id}")

    trail = staff.get("/admin/auditevent/")
    rows = [(row["actor"], row["action"], row["entity"], row["entity_id"]) for row in list_rows(trail)]
    assert [row[:3] for row in rows if row[2] == "Clinical note"] == [(practice.rosa.email, "Created", "Clinical note")]
    assert [row for row in rows if row[2] == "Client's clinical notes"] == [
        ("staff@example.com", "Viewed", "Client's clinical notes", str(practice.ana.id)),
        (practice.rosa.email, "Viewed", "Client's clinical notes", str(practice.ana.id)),
    ]
    export = staff.get("/admin/auditevent/export/csv/")
    for page in (trail, export):
        assert "brother" not in body(page) and "sleep" not in body(page)
    assert all("brother" not in " ".join(row.values()) for row in csv_rows(export))


def test_a_client_or_therapist_named_by_notes_cannot_be_deleted_and_a_note_is_never_changed(client, practice, staff):
    client.post(write_url(practice.ana.id), data={"clinical_note": SECRET})

    response = staff.post("/admin/client/delete/", data={"id": practice.ana.id}, follow_redirects=True)
    assert any("clinical notes name them" in message for message in flashed(response))
    note = db.session.scalars(select(ClinicalNote)).one()
    note.text = "rewritten"
    with pytest.raises(ClinicalNoteIsFinal):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(ClinicalNote)).one())
    with pytest.raises(ClinicalNoteIsFinal):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(ClinicalNote.text)).all() == [SECRET]


def test_no_staff_or_portal_screen_lists_clinical_notes_as_records(app):
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    assert [rule for rule in rules if "clinical" in rule] == ["/portal/clients/clinical-notes/"]


def test_staff_reading_clinical_notes_is_off_unless_the_environment_says_so(tmp_path):
    assert load_settings({"SECRET_KEY": "k"}, instance_path=tmp_path)["STAFF_READ_CLINICAL_NOTES"] is False
    settings = load_settings({"SECRET_KEY": "k", "STAFF_READ_CLINICAL_NOTES": "true"}, instance_path=tmp_path)
    assert settings["STAFF_READ_CLINICAL_NOTES"] is True
    with pytest.raises(ConfigError, match="STAFF_READ_CLINICAL_NOTES"):
        load_settings({"SECRET_KEY": "k", "STAFF_READ_CLINICAL_NOTES": "perhaps"}, instance_path=tmp_path)


def test_the_service_refuses_a_client_outside_the_therapists_care(practice):
    with pytest.raises(NotFound):
        clinical_notes.write(db.session, therapist=practice.jorge, client_id=practice.ana.id, text="x")
    practice.rosa.active = False
    with pytest.raises(NotFound):
        clinical_notes.write(db.session, therapist=practice.rosa, client_id=practice.ana.id, text="x")
    assert note_count() == 0
