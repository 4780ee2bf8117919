"""A therapist's credentials (designation, registration number and college) and the supervision of
a provisional registrant: on the therapist screen and through the therapists import."""

from __future__ import annotations

from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Therapist
from tests.factories import make_therapist
from tests.integration.test_deletes import delete
from tests.integration.test_import_people import run_import, therapist, write_csv, write_xlsx
from tests.integration.test_records_crud import therapist_form
from tests.pages import detail_fields, flashed, list_rows

BC_COLLEGE = "College of Health and Care Professionals of BC"


def credentials_form(**fields) -> dict[str, str]:
    credentials = {"designation": " R.Psych. ", "registration_number": "2417", "registration_body": BC_COLLEGE}
    return therapist_form(**{**credentials, "supervisor": "", **fields})


def count_therapists() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Therapist))


def test_the_screen_saves_and_shows_the_credentials(admin_client):
    response = admin_client.post("/admin/therapist/new/", data=credentials_form(), follow_redirects=True)

    assert "Record was successfully created." in flashed(response)
    row = list_rows(response)[0]
    assert (row["designation"], row["registration_number"]) == ("R.Psych.", "2417")
    stored = db.session.scalar(select(Therapist))
    details = detail_fields(admin_client.get(f"/admin/therapist/details/?id={stored.id}"))
    assert details["Designation"] == "R.Psych."
    assert details["Registration no."] == "2417"
    assert details["Registering college"] == BC_COLLEGE


def test_a_provisional_registrant_is_saved_with_their_supervisor_and_shows_them(admin_client):
    supervisor = make_therapist(full_name="Claire Tremblay", email="claire@example.com")
    db.session.commit()

    response = admin_client.post(
        "/admin/therapist/new/",
        data=credentials_form(provisional="y", supervisor=str(supervisor.id)),
        follow_redirects=True,
    )

    assert "Record was successfully created." in flashed(response)
    stored = db.session.scalar(select(Therapist).where(Therapist.email == "rosa@example.com"))
    assert stored.provisional and stored.supervisor_id == supervisor.id
    details = detail_fields(admin_client.get(f"/admin/therapist/details/?id={stored.id}"))
    assert details["Supervisor"] == "Claire Tremblay"


def test_a_provisional_registrant_without_a_supervisor_is_refused_and_nothing_saved(admin_client):
    response = admin_client.post("/admin/therapist/new/", data=credentials_form(provisional="y"))

    assert response.status_code == 200
    assert "Supervisor: a provisional registrant needs a supervisor" in flashed(response)
    assert count_therapists() == 0


def test_a_therapist_cannot_supervise_themselves(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    db.session.commit()

    response = admin_client.post(
        f"/admin/therapist/edit/?id={rosa.id}",
        data=credentials_form(provisional="y", supervisor=str(rosa.id)),
    )

    assert response.status_code == 200
    assert "Supervisor: a therapist cannot supervise themselves" in flashed(response)
    db.session.expire_all()
    stored = db.session.get(Therapist, rosa.id)
    assert (stored.provisional, stored.supervisor_id, stored.designation) == (False, None, None)


def test_the_supervisor_must_be_active_and_only_a_provisional_registrant_has_one(admin_client):
    retired = make_therapist(full_name="Old Hand", email="old@example.com", active=False)
    db.session.commit()

    inactive = admin_client.post(
        "/admin/therapist/new/", data=credentials_form(provisional="y", supervisor=str(retired.id))
    )
    not_provisional = admin_client.post("/admin/therapist/new/", data=credentials_form(supervisor=str(retired.id)))

    assert "Supervisor: Old Hand is not active; choose an active therapist" in flashed(inactive)
    assert "Supervisor: only a provisional registrant has a supervisor" in flashed(not_provisional)
    assert count_therapists() == 1


def test_a_supervisor_cannot_be_deleted_while_supervising(admin_client):
    claire = make_therapist(full_name="Claire Tremblay")
    make_therapist(full_name="Rosa Mendoza", provisional=True, supervisor=claire)
    db.session.commit()

    response = delete(admin_client, "therapist", claire.id)

    assert response.status_code == 200
    assert "Claire Tremblay cannot be deleted: they supervise Rosa Mendoza. Choose another supervisor first." in (
        flashed(response)
    )
    assert count_therapists() == 2


def test_the_import_sets_the_credentials_from_english_headers(runner, tmp_path):
    rows = [
        ["name", "email", "commission_percent", "default_fee", "currency", "designation", "registration_number",
         "registration_body"],
        ["Ana Pérez", "ana@example.com", "40", "150.00", "PEN", "Psicóloga", "C.Ps.P. 23456",
         "Colegio de Psicólogos del Perú"],
    ]  # fmt: skip

    result = run_import(runner, "therapists", write_csv(tmp_path, "therapists.csv", rows))

    assert result.exit_code == 0, result.output
    ana = therapist("ana@example.com")
    assert (ana.designation, ana.registration_number, ana.registration_body) == (
        "Psicóloga",
        "C.Ps.P. 23456",
        "Colegio de Psicólogos del Perú",
    )


def test_the_import_updates_them_from_spanish_headers_and_an_empty_cell_keeps_them(runner, tmp_path):
    make_therapist(
        full_name="Ana Pérez",
        email="ana@example.com",
        designation="Psicóloga",
        registration_number="C.Ps.P. 11111",
        registration_body="Colegio de Psicólogos del Perú",
    )
    db.session.commit()
    path = write_xlsx(
        tmp_path,
        "terapeutas.xlsx",
        [
            ["Nombre", "Correo", "Comisión", "Tarifa", "Moneda", "Título", "Colegiatura", "Colegio"],
            ["Ana Pérez", "ana@example.com", 40, 150, "PEN", "Psicóloga colegiada", None, None],
        ],
    )

    result = run_import(runner, "therapists", path)

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 0 unchanged" in result.output
    db.session.expire_all()
    ana = therapist("ana@example.com")
    assert (ana.designation, ana.registration_number, ana.registration_body) == (
        "Psicóloga colegiada",
        "C.Ps.P. 11111",
        "Colegio de Psicólogos del Perú",
    )


def test_a_too_long_registration_number_is_reported_with_its_column(runner, tmp_path):
    rows = [
        ["name", "email", "commission_percent", "default_fee", "currency", "colegiatura"],
        ["Ana Pérez", "ana@example.com", "40", "150.00", "PEN", "9" * 81],
    ]

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows))

    assert result.exit_code != 0
    assert "row 2, column colegiatura" in result.output
    assert count_therapists() == 0
