"""The approval letter: kept under the instance folder (a temporary one here) when it really is a PDF
or an image, served only to the staff and to the therapist who cares for the client now, each
download recorded in the audit trail."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditEvent, Authorization
from admin_app.services.billing import letters
from tests.conftest import sign_in_therapist
from tests.factories import make_authorization, make_client, make_payer, make_therapist
from tests.pages import body

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 32
EDIT = "/admin/authorizations/edit/?id={}"


@pytest.fixture
def letters_folder(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "letters"


@pytest.fixture
def practice(app, letters_folder):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    icbc = make_payer("ICBC")
    authorization = make_authorization(ana, icbc, 10, dt.date(2026, 9, 1), dt.date(2027, 3, 31), reference="CLAIM-1")
    db.session.commit()
    return SimpleNamespace(rosa=rosa, ana=ana, icbc=icbc, authorization=authorization, folder=letters_folder)


def upload(admin_client, authorization, content: bytes, name: str, **fields):
    a = authorization
    return admin_client.post(
        EDIT.format(a.id),
        data={
            "client": str(a.client_id),
            "payer": str(a.payer_id),
            "reference": a.reference,
            "approved_sessions": str(a.approved_sessions),
            "valid_from": a.valid_from.isoformat(),
            "valid_until": a.valid_until.isoformat(),
            "currency": "",
            "letter": (io.BytesIO(content), name),
            **fields,
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def stored(practice) -> Authorization:
    db.session.expire_all()
    return db.session.get(Authorization, practice.authorization.id)


def test_an_executable_renamed_pdf_is_refused_and_nothing_kept(admin_client, practice):
    response = upload(admin_client, practice.authorization, EXE, "approval.pdf")

    assert "Approval letter: only a PDF, PNG or JPEG file can be kept" in body(response)
    assert stored(practice).letter_key is None
    assert not practice.folder.exists() or list(practice.folder.iterdir()) == []


def test_a_letter_over_10_mb_is_refused(admin_client, practice):
    response = upload(admin_client, practice.authorization, PDF + b"0" * letters.MAX_LETTER_BYTES, "big.pdf")

    assert "Approval letter: the file is larger than 10 MB" in body(response)
    assert stored(practice).letter_key is None


def test_staff_and_the_clients_therapist_download_it_and_each_view_is_audited(admin_client, practice, client):
    upload(admin_client, practice.authorization, PDF, "ICBC approval.pdf")
    kept = stored(practice)
    assert (kept.letter_name, kept.letter_type) == ("ICBC approval.pdf", "application/pdf")
    assert (practice.folder / kept.letter_key).read_bytes() == PDF

    staff = admin_client.get(f"/admin/authorizations/letter/?id={kept.id}")
    assert staff.status_code == 200
    assert staff.data == PDF
    assert staff.mimetype == "application/pdf"
    assert 'filename="icbc-approval.pdf"' in staff.headers["Content-Disposition"]

    admin_client.post("/logout")
    sign_in_therapist(client, practice.rosa)
    own = client.get(f"/portal/authorizations/letter/?id={kept.id}")
    assert own.status_code == 200
    assert own.data == PDF

    views = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "view", AuditEvent.entity == "payer_authorization")
        .order_by(AuditEvent.id)
    ).all()
    assert [(event.entity_id, event.actor) for event in views] == [
        (kept.id, "staff@example.com"),
        (kept.id, practice.rosa.email),
    ]


def test_another_therapist_gets_404_and_the_staff_address_403(client, practice):
    practice.authorization.letter_key = None
    other = make_therapist(full_name="Jorge Salas")
    make_client(other)
    letters.keep(practice.authorization, PDF, "approval.pdf")
    db.session.commit()
    sign_in_therapist(client, other)

    assert client.get(f"/portal/authorizations/letter/?id={practice.authorization.id}").status_code == 404
    assert client.get("/admin/authorizations/letter/?id=1").status_code == 403


def test_a_replaced_letter_removes_the_old_file(admin_client, practice):
    upload(admin_client, practice.authorization, PDF, "first.pdf")
    first = stored(practice).letter_key

    upload(admin_client, practice.authorization, PNG, "second.png")

    second = stored(practice)
    assert (second.letter_name, second.letter_type) == ("second.png", "image/png")
    assert sorted(path.name for path in practice.folder.iterdir()) == [second.letter_key]
    assert first != second.letter_key


def test_an_authorization_without_letter_answers_404(admin_client, practice):
    assert admin_client.get(f"/admin/authorizations/letter/?id={practice.authorization.id}").status_code == 404
    assert admin_client.get("/admin/authorizations/letter/?id=abc").status_code == 404


def test_a_letter_sent_with_a_refused_change_is_not_kept(admin_client, practice):
    make_authorization(practice.ana, practice.icbc, 3, dt.date(2026, 9, 1), dt.date(2026, 12, 31), reference="TAKEN")
    db.session.commit()

    response = upload(admin_client, practice.authorization, PDF, "approval.pdf", reference="TAKEN")

    assert "Reference: ICBC already has an authorization TAKEN" in body(response)
    assert stored(practice).letter_key is None
    assert not practice.folder.exists() or list(practice.folder.iterdir()) == []
