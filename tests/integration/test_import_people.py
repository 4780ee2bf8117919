"""`flask import therapists|clients FILE`: real CSV and XLSX files written here, checked as the
staff would check them afterwards (the records, their links, the audit trail, the row counts).

The practice of these tests is Lima (PHONE_REGION PE, currencies PEN and USD, language en).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    AuditAction,
    AuditEvent,
    CareAssignment,
    Client,
    ClientLink,
    CompensationModel,
    LinkKind,
    Payer,
    PayerKind,
    PaymentSource,
    ReminderPreference,
    Therapist,
)
from admin_app.services import imports
from admin_app.services.platform import clinic_time
from tests.factories import make_client, make_payer, make_therapist
from tests.queries import counted_queries

COUNTED = (Therapist, Client, ClientLink, CareAssignment, Payer, PaymentSource, AuditEvent)

THERAPISTS = [
    ["name", "email", "phone", "commission_percent", "default_fee", "currency"],
    ["Ana Pérez", "ana@example.com", "987 654 321", "40", "150.00", "PEN"],
    ["Beto Ruiz", "BETO@Example.com", "", "35.5", "120,50", "usd"],
]
CLIENTS = [
    ["name", "national_id", "email", "phone", "therapists", "payer", "guardian_national_ids", "language"],
    # Luis is a minor: his mother Rosa, further down the file, is his guardian.
    ["Luis Quispe", "71234567", "", "", "ana@example.com", "Pacífico Seguros", "40123456", "es"],
    ["Rosa Quispe", "40123456", "rosa@example.com", "987654321", "ana@example.com;beto@example.com", "", "", ""],
    ["Marco Díaz", "ab-99", "", "987 111 222", "", "PACÍFICO SEGUROS", "db-1", "fr"],
]


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode() + text.getvalue().encode("utf-8")


def write_csv(tmp_path, name: str, rows: list[list[str]], **options):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows, **options))
    return path


def write_xlsx(tmp_path, name: str, rows: list[list]):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Notes").append(["not read: only the first sheet is"])
    path = tmp_path / name
    workbook.save(path)
    return path


def run_import(runner, kind: str, path, *options: str):
    return runner.invoke(args=["import", kind, str(path), *options])


def row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def cli_command(actor: str) -> str | None:
    """ "cli:flask import clients" -> "import clients" (the program's name varies with how it is run)."""
    return actor.split(" ", 1)[1] if actor.startswith("cli:") else None


def therapist(email: str) -> Therapist:
    return db.session.scalars(select(Therapist).where(Therapist.email == email)).one()


def client(national_id: str) -> Client:
    return db.session.scalars(select(Client).where(Client.national_id == national_id)).one()


@pytest.fixture
def ana_and_beto(app):
    ana = make_therapist(full_name="Ana Pérez", email="ana@example.com")
    beto = make_therapist(full_name="Beto Ruiz", email="beto@example.com")
    db.session.commit()
    return ana, beto


@pytest.fixture
def guardian_in_db(app):
    """A client already in the practice, named as a guardian by the clients file."""
    guardian = make_client(full_name="Carmen Díaz", national_id="DB-1")
    db.session.commit()
    return guardian


# --- therapists -------------------------------------------------------------------------------


def test_a_good_therapists_file_creates_them_paid_by_commission(runner, tmp_path):
    path = write_csv(tmp_path, "therapists.csv", THERAPISTS)

    result = run_import(runner, "therapists", path)

    assert result.exit_code == 0, result.output
    assert "Imported therapists from therapists.csv: 2 created, 0 updated, 0 unchanged." in result.output
    ana, beto = therapist("ana@example.com"), therapist("beto@example.com")
    assert (ana.full_name, ana.phone, ana.compensation_model, ana.commission_percent) == (
        "Ana Pérez",
        "+51987654321",
        CompensationModel.COMMISSION,
        Decimal("40.00"),
    )
    assert (ana.default_fee, ana.default_currency, ana.service_fee, ana.active) == (
        Decimal("150.00"),
        "PEN",
        None,
        True,
    )
    assert (beto.phone, beto.commission_percent, beto.default_fee, beto.default_currency) == (
        None,
        Decimal("35.50"),
        Decimal("120.50"),
        "USD",
    )
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "therapist")).all()
    assert {(event.action, cli_command(event.actor)) for event in created} == {
        (AuditAction.CREATE, "import therapists")
    }
    assert len(created) == 2


def test_therapists_from_an_xlsx_with_spanish_headers_and_numeric_cells(runner, tmp_path):
    path = write_xlsx(
        tmp_path,
        "terapeutas.xlsx",
        [
            ["Nombre", "Correo", "Teléfono", "Comisión", "Tarifa", "Moneda"],
            ["Ana Pérez", "ana@example.com", 987654321, 40.5, 150, "PEN"],
            [None, None, None, None, None, None],  # an empty row is skipped
            ["Beto Ruiz", "beto@example.com", None, 35, 99.9, "USD"],
        ],
    )

    result = run_import(runner, "therapists", path)

    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged" in result.output
    ana, beto = therapist("ana@example.com"), therapist("beto@example.com")
    assert (ana.phone, ana.commission_percent, ana.default_fee) == ("+51987654321", Decimal("40.50"), Decimal("150.00"))
    assert (beto.commission_percent, beto.default_fee, beto.default_currency) == (
        Decimal("35.00"),
        Decimal("99.90"),
        "USD",
    )


def test_the_same_therapists_file_twice_changes_nothing_the_second_time(runner, tmp_path):
    path = write_csv(tmp_path, "therapists.csv", THERAPISTS)
    assert run_import(runner, "therapists", path).exit_code == 0
    before = row_counts()

    again = run_import(runner, "therapists", path)

    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 2 unchanged" in again.output
    assert row_counts() == before  # not even an audit event


def test_a_changed_phone_updates_the_therapist_and_is_audited(runner, tmp_path):
    assert run_import(runner, "therapists", write_csv(tmp_path, "v1.csv", THERAPISTS)).exit_code == 0
    changed = [THERAPISTS[0], [*THERAPISTS[1][:2], "987 000 111", *THERAPISTS[1][3:]], THERAPISTS[2]]

    result = run_import(runner, "therapists", write_csv(tmp_path, "v2.csv", changed))

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 1 unchanged" in result.output
    ana = therapist("ana@example.com")
    assert ana.phone == "+51987000111"
    update = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.UPDATE, AuditEvent.entity == "therapist")
    ).one()
    assert (update.entity_id, update.changed_fields, cli_command(update.actor)) == (
        ana.id,
        ["phone"],
        "import therapists",
    )


def test_a_commission_switches_a_service_fee_therapist_and_an_empty_one_keeps_it(runner, tmp_path):
    make_therapist(
        full_name="Carla",
        email="carla@example.com",
        service_fee=Decimal("40.00"),
    )
    make_therapist(
        full_name="Dora",
        email="dora@example.com",
        service_fee=Decimal("50.00"),
    )
    db.session.commit()
    rows = [
        THERAPISTS[0],
        ["Carla", "carla@example.com", "", "30", "150.00", "PEN"],
        ["Dora", "dora@example.com", "", "", "150.00", "PEN"],
    ]

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows))

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 1 unchanged" in result.output
    carla, dora = therapist("carla@example.com"), therapist("dora@example.com")
    assert (carla.compensation_model, carla.commission_percent, carla.service_fee) == (
        CompensationModel.COMMISSION,
        Decimal("30.00"),
        None,
    )
    assert (dora.compensation_model, dora.service_fee) == (CompensationModel.SERVICE_FEE, Decimal("50.00"))


PAID_BY = ["name", "email", "commission_percent", "service_fee", "terms_from", "default_fee", "currency"]


def terms_of(email: str) -> list[tuple]:
    """The therapist's terms, oldest first: (effective_from, model, commission, service fee)."""
    found = therapist(email)
    db.session.refresh(found)
    return [
        (terms.effective_from, terms.compensation_model, terms.commission_percent, terms.service_fee)
        for terms in found.compensation_terms
    ]


def test_a_service_fee_makes_a_new_therapist_paid_by_service_fee_from_the_import_day(runner, tmp_path, clock):
    rows = [PAID_BY, ["Ana Pérez", "ana@example.com", "", "45.00", "", "150.00", "PEN"]]

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows))

    assert result.exit_code == 0, result.output
    ana = therapist("ana@example.com")
    assert (ana.compensation_model, ana.commission_percent, ana.service_fee) == (
        CompensationModel.SERVICE_FEE,
        None,
        Decimal("45.00"),
    )
    assert terms_of("ana@example.com") == [(clock.today(), CompensationModel.SERVICE_FEE, None, Decimal("45.00"))]


def test_spanish_headers_give_a_commission_with_its_own_start(runner, tmp_path, clock):
    start = clock.today().replace(day=1)
    rows = [
        ["nombre", "correo", "comision", "cuota_servicio", "vigente_desde", "tarifa", "moneda"],
        ["Beto Ruiz", "beto@example.com", "40", "", start.strftime("%d/%m/%Y"), "120", "PEN"],
    ]

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows))

    assert result.exit_code == 0, result.output
    assert terms_of("beto@example.com") == [(start, CompensationModel.COMMISSION, Decimal("40.00"), None)]


def test_a_commission_and_a_service_fee_on_one_row_is_an_error_and_nothing_is_written(runner, tmp_path):
    before = row_counts()
    rows = [
        PAID_BY,
        ["Ana Pérez", "ana@example.com", "40", "", "", "150.00", "PEN"],
        ["Beto Ruiz", "beto@example.com", "40", "45", "", "150.00", "PEN"],
    ]

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "row 3, column service_fee: commission_percent and service_fee are both given: a therapist is paid by "
        "commission or by service fee, so leave one of them empty",
        "1 error(s) in t.csv: nothing was written.",
    ]
    assert row_counts() == before


def carla_since_january() -> None:
    """Carla, on a 40 % commission since 5 January."""
    carla = make_therapist(full_name="Carla", email="carla@example.com", commission_percent=Decimal("40.00"))
    db.session.flush()
    first = carla.compensation_terms[0]
    first.effective_from, first.starts_at = dt.date(2026, 1, 5), clinic_time.day_start(dt.date(2026, 1, 5))
    db.session.commit()


@pytest.mark.parametrize("clock", ["2026-11-20T15:00Z"], indirect=True)
def test_an_existing_therapists_change_of_model_adds_terms_from_the_date_the_row_gives(runner, tmp_path, clock):
    carla_since_january()
    rows = [PAID_BY, ["Carla", "carla@example.com", "", "50.00", "2026-11-10", "150.00", "PEN"]]

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows))

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 0 unchanged" in result.output
    assert terms_of("carla@example.com") == [
        (dt.date(2026, 1, 5), CompensationModel.COMMISSION, Decimal("40.00"), None),
        (dt.date(2026, 11, 10), CompensationModel.SERVICE_FEE, None, Decimal("50.00")),
    ]


@pytest.mark.parametrize("clock", ["2026-11-20T15:00Z"], indirect=True)
def test_terms_from_out_of_the_change_window_is_the_rows_error(runner, tmp_path):
    carla_since_january()
    rows = [
        PAID_BY,
        ["Carla", "carla@example.com", "", "50.00", "2026-10-31", "150.00", "PEN"],
        ["Dora", "dora@example.com", "35", "", "2026-11-21", "150.00", "PEN"],
        ["Eva", "eva@example.com", "35", "", "2026-10-01", "150.00", "PEN"],  # a new therapist's history: fine
    ]

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "row 2, column terms_from: 2026-10-31: a date from 2026-11-01 to 2026-11-20: new terms never change an "
        "earlier month or the days of the current terms, and start no later than today",
        "row 3, column terms_from: 2026-11-21: the first terms start no later than today (2026-11-20)",
        "2 error(s) in t.csv: nothing was written.",
    ]
    assert terms_of("carla@example.com") == [
        (dt.date(2026, 1, 5), CompensationModel.COMMISSION, Decimal("40.00"), None)
    ]


def test_every_error_of_a_therapists_file_is_reported_and_nothing_is_written(runner, tmp_path):
    make_therapist(full_name="Eva", email="eva@example.com", phone="+51987000222")
    db.session.commit()
    before = row_counts()
    rows = [
        ["name", "email", "phone", "commission_percent", "default_fee", "currency"],
        ["Eva", "eva@example.com", "987 000 333", "40", "150.00", "PEN"],  # a good update, not written either
        ["Fabio", "fabio@@example", "", "40", "150.00", "PEN"],
        ["Gina", "gina@example.com", "", "40", "150.00", "EUR"],
        ["Hugo", "hugo@example.com", "", "40", "-10", "PEN"],
        ["Ines", "ines@example.com", "12", "140", "150.005", "PEN"],
        ["", "EVA@example.com", "", "40", "", ""],
        ["Juan", "juan@example.com", "", "", "100", "PEN"],
    ]

    result = run_import(runner, "therapists", write_csv(tmp_path, "bad.csv", rows))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "row 3, column email: fabio@@example is not a valid email address",
        "row 4, column currency: EUR is not one of the practice's currencies (PEN, USD)",
        "row 5, column default_fee: must not be negative, got -10",
        "row 6, column phone: 12 is not a valid phone number",
        "row 6, column commission_percent: a percentage from 0 to 100, got 140",
        "row 6, column default_fee: at most two decimals, got 150.005",
        "row 7, column name: a value is required",
        "row 7, column default_fee: a value is required",
        "row 7, column currency: a value is required",
        "row 7, column email: eva@example.com is already on row 2",
        "row 8, column commission_percent: a commission percentage or a service fee (service_fee) is required for "
        "a new therapist",
        "11 error(s) in bad.csv: nothing was written.",
    ]
    assert row_counts() == before
    assert therapist("eva@example.com").phone == "+51987000222"


def test_a_missing_required_column_is_one_error(runner, tmp_path):
    rows = [[cell for index, cell in enumerate(row) if index != 5] for row in THERAPISTS]  # no currency

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows))

    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(
        "row 1, column currency: the column is missing (accepted headers: currency, moneda"
    )
    assert "1 error(s)" in result.output
    assert row_counts()["therapist"] == 0


def test_a_dry_run_reports_the_counts_and_writes_nothing(runner, tmp_path):
    before = row_counts()

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", THERAPISTS), "--dry-run")

    assert result.exit_code == 0, result.output
    assert "Dry run of t.csv, nothing was written. It would be: 2 created, 0 updated, 0 unchanged." in result.output
    assert row_counts() == before


def test_a_dry_run_of_a_bad_file_reports_its_errors(runner, tmp_path):
    rows = [THERAPISTS[0], ["Ana", "ana@example.com", "", "40", "150", "GBP"]]

    result = run_import(runner, "therapists", write_csv(tmp_path, "t.csv", rows), "--dry-run")

    assert result.exit_code == 1
    assert "row 2, column currency: GBP is not one of the practice's currencies (PEN, USD)" in result.output


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("t.csv", "name;email\nAna;ana@example.com\n".encode("utf-16"), "the file is not UTF-8 text"),
        ("t.xlsx", b"PK\x03\x04 not really a workbook", "could not be read as an Excel workbook"),
        ("t.csv", b"", "the file has no header row"),
    ],
)
def test_an_unreadable_file_is_refused_plainly(runner, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)

    result = run_import(runner, "therapists", path)

    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert row_counts()["therapist"] == 0


# --- clients ----------------------------------------------------------------------------------


def test_a_good_clients_file_creates_them_with_therapists_payer_and_guardians(
    runner, tmp_path, ana_and_beto, guardian_in_db
):
    ana, beto = ana_and_beto

    result = run_import(runner, "clients", write_csv(tmp_path, "clients.csv", CLIENTS))

    assert result.exit_code == 0, result.output
    assert "Imported clients from clients.csv: 3 created, 0 updated, 0 unchanged." in result.output
    luis, rosa, marco = client("71234567"), client("40123456"), client("AB-99")
    assert (luis.full_name, luis.email, luis.phone, luis.preferred_language, luis.reminder_preference) == (
        "Luis Quispe",
        None,
        None,
        "es",
        ReminderPreference.NONE,
    )
    assert (rosa.email, rosa.phone, rosa.preferred_language, rosa.reminder_preference) == (
        "rosa@example.com",
        "+51987654321",
        "en",  # DEFAULT_LOCALE
        ReminderPreference.EMAIL,
    )
    assert (marco.phone, marco.preferred_language, marco.reminder_preference) == ("+51987111222", "fr", "sms")
    assert all(c.active and not c.survey_opt_out and c.registered_at for c in (luis, rosa, marco))

    payer = db.session.scalars(select(Payer)).one()  # written two ways, created once
    assert (payer.name, payer.kind, payer.active) == ("Pacífico Seguros", PayerKind.OTHER, True)
    sources = {
        (source.client_id, source.payer_id, source.active) for source in db.session.scalars(select(PaymentSource))
    }
    assert sources == {(luis.id, payer.id, True), (rosa.id, None, True), (marco.id, payer.id, True)}

    assignments = set(db.session.execute(select(CareAssignment.client_id, CareAssignment.therapist_id)))
    assert assignments == {(luis.id, ana.id), (rosa.id, ana.id), (rosa.id, beto.id)}
    links = set(db.session.execute(select(ClientLink.client_id, ClientLink.related_client_id, ClientLink.kind)))
    assert links == {(rosa.id, luis.id, LinkKind.GUARDIAN_OF), (guardian_in_db.id, marco.id, LinkKind.GUARDIAN_OF)}

    audited = db.session.execute(
        select(AuditEvent.entity, func.count()).where(AuditEvent.actor.like("cli:%")).group_by(AuditEvent.entity)
    ).all()
    assert dict(audited) == {"client": 3, "payer": 1, "payment_source": 3, "care_assignment": 3, "client_link": 2}


def test_clients_from_a_semicolon_csv_with_bom_and_spanish_headers(runner, tmp_path, ana_and_beto, guardian_in_db):
    rows = [["Nombre", "DNI", "Correo", "Teléfono", "Terapeutas", "Pagador", "Apoderados", "IDIOMA"], *CLIENTS[1:]]
    path = write_csv(tmp_path, "clientes.csv", rows, delimiter=";", bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    result = run_import(runner, "clients", path)

    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 unchanged" in result.output
    rosa = client("40123456")
    assert rosa.full_name == "Rosa Quispe"  # the BOM did not eat the first header
    assert {assignment.therapist.email for assignment in rosa.care_assignments} == {
        "ana@example.com",
        "beto@example.com",
    }


def test_clients_from_an_xlsx(runner, tmp_path, ana_and_beto, guardian_in_db):
    rows = [CLIENTS[0], *[[int(cell) if cell.isdigit() else cell or None for cell in row] for row in CLIENTS[1:]]]

    result = run_import(runner, "clients", write_xlsx(tmp_path, "clients.xlsx", rows))

    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 unchanged" in result.output
    assert client("71234567").links == []
    assert [link.client.national_id for link in client("71234567").linked_from] == ["40123456"]


def test_the_same_clients_file_twice_writes_nothing_the_second_time(runner, tmp_path, ana_and_beto, guardian_in_db):
    path = write_csv(tmp_path, "clients.csv", CLIENTS)
    assert run_import(runner, "clients", path).exit_code == 0
    before = row_counts()

    again = run_import(runner, "clients", path)

    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 3 unchanged" in again.output
    assert row_counts() == before


def test_a_second_file_adds_what_is_new_and_keeps_what_it_does_not_mention(
    runner, tmp_path, ana_and_beto, guardian_in_db
):
    assert run_import(runner, "clients", write_csv(tmp_path, "v1.csv", CLIENTS)).exit_code == 0
    rows = [
        CLIENTS[0],
        # Luis: a new phone, Beto as well, and now paid by his school's programme.
        ["Luis Quispe", "71234567", "", "999 888 777", "beto@example.com", "Colegio Andino", "", ""],
        # Rosa: an empty email and language keep hers; nothing new.
        ["Rosa Quispe", "40123456", "", "987654321", "ana@example.com", "", "", ""],
    ]

    result = run_import(runner, "clients", write_csv(tmp_path, "v2.csv", rows))

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 1 unchanged" in result.output
    luis, rosa = client("71234567"), client("40123456")
    assert luis.phone == "+51999888777"
    assert {a.therapist.email for a in luis.care_assignments} == {"ana@example.com", "beto@example.com"}
    assert {s.payer.name for s in luis.payment_sources} == {"Pacífico Seguros", "Colegio Andino"}
    assert [link.client_id for link in luis.linked_from] == [rosa.id]  # not removed
    assert (rosa.email, rosa.preferred_language) == ("rosa@example.com", "en")
    update = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.UPDATE, AuditEvent.entity == "client")
    ).one()
    assert (update.entity_id, update.changed_fields, cli_command(update.actor)) == (
        luis.id,
        ["phone"],
        "import clients",
    )


def test_an_existing_client_without_a_payment_source_gets_the_one_the_file_names(runner, tmp_path, ana_and_beto):
    insured = make_payer("Rimac")
    make_client(full_name="Olga", national_id="OLGA-1")
    db.session.commit()
    rows = [["nombre", "dni", "pagador"], ["Olga", "olga-1", "rimac"]]

    result = run_import(runner, "clients", write_csv(tmp_path, "c.csv", rows))

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 0 unchanged" in result.output
    assert [source.payer_id for source in client("OLGA-1").payment_sources] == [insured.id]
    assert db.session.scalar(select(func.count()).select_from(Payer)) == 1


def test_every_error_of_a_clients_file_is_reported_and_nothing_is_written(runner, tmp_path, ana_and_beto):
    make_client(full_name="Old Client", national_id="OLD-1", email="old@example.com")
    db.session.commit()
    before = row_counts()
    rows = [
        CLIENTS[0],
        ["Good Row", "GOOD-1", "", "", "ana@example.com", "New Payer", "", ""],
        ["Bad Email", "BAD-1", "luis@", "", "", "", "", ""],
        ["Unknown Therapist", "BAD-2", "", "", "ana@example.com; nobody@example.com", "", "", ""],
        ["Twice", "good-1", "", "", "", "", "", ""],
        ["Orphan", "BAD-3", "", "", "", "", "NOBODY-1", ""],
        ["Self", "BAD-4", "", "", "", "", "bad-4;old-1", "de"],
        ["Old Client renamed", "OLD-1", "not-an-email", "", "", "", "", ""],
        ["", "", "", "", "", "", "", ""],  # blank: skipped
        ["No ID", "", "", "", "", "", "", ""],
    ]

    result = run_import(runner, "clients", write_csv(tmp_path, "bad.csv", rows))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "row 3, column email: luis@ is not a valid email address",
        "row 4, column therapists: no therapist has the email nobody@example.com",
        "row 5, column national_id: GOOD-1 is already on row 2",
        "row 6, column guardian_national_ids: no client with the national ID NOBODY-1 in the file or in the practice",
        "row 7, column language: de is not one of: en, es, fr",
        "row 7, column guardian_national_ids: a client cannot be their own guardian",
        "row 8, column email: not-an-email is not a valid email address",
        "row 10, column national_id: a national ID, client number or email is needed to recognise the client on "
        "the next import",
        "8 error(s) in bad.csv: nothing was written.",
    ]
    assert row_counts() == before
    assert client("OLD-1").full_name == "Old Client"


def test_a_clients_file_with_no_column_that_tells_clients_apart_says_so_once(runner, tmp_path):
    rows = [["name", "phone"], ["Ana", "987654321"], ["Beto", "987654322"]]

    result = run_import(runner, "clients", write_csv(tmp_path, "c.csv", rows))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "row 1, column national_id: the file needs a column that tells clients apart: national_id, client_number "
        "or email (dni, numero_cliente, correo)",
        "1 error(s) in c.csv: nothing was written.",
    ]


def test_a_clients_dry_run_writes_nothing(runner, tmp_path, ana_and_beto, guardian_in_db):
    before = row_counts()

    result = run_import(runner, "clients", write_csv(tmp_path, "c.csv", CLIENTS), "--dry-run")

    assert result.exit_code == 0, result.output
    assert "It would be: 3 created, 0 updated, 0 unchanged." in result.output
    assert row_counts() == before


def test_checking_a_file_takes_the_same_few_queries_for_3_rows_or_300(app, ana_and_beto, guardian_in_db):
    """The database is asked per file, never per row."""
    many = [CLIENTS[0]] + [
        [f"Client {n}", f"N-{n}", f"c{n}@example.com", "", "ana@example.com", "Pacífico Seguros", "DB-1", ""]
        for n in range(300)
    ]
    with counted_queries() as few_statements:
        few = imports.check(db.session, "clients", csv_bytes(CLIENTS), "few.csv")
    db.session.rollback()
    with counted_queries() as many_statements:
        plan = imports.check(db.session, "clients", csv_bytes(many), "many.csv")

    assert few.ok and plan.ok, (few.errors, plan.errors)
    assert plan.counts() == {"created": 300, "updated": 0, "unchanged": 0}
    assert len(many_statements) == len(few_statements) <= 8


# --- which stored client a row means: national ID, else client number, else email ------------


@pytest.fixture
def three_known(app):
    """Ana has a national ID; Beto only his client number; Carla only her email."""
    ana = make_client(full_name="Ana Ruiz", national_id="40111222", email="ana.ruiz@example.com")
    beto = make_client(full_name="Beto Soto", national_id=None, email=None, phone="+51987000111")
    carla = make_client(full_name="Carla Paz", national_id=None, email="carla@example.com")
    db.session.commit()
    return ana, beto, carla


def test_clients_are_matched_by_national_id_else_number_else_email_and_the_report_says_which(
    runner, tmp_path, three_known
):
    ana, beto, carla = three_known
    rows = [
        ["name", "national_id", "client_number", "email", "phone"],
        ["Ana Ruiz", "40111222", "", "", "987 654 321"],  # by national ID: phone added
        ["Beto Soto", "bc-77", beto.client_number, "", ""],  # by number: his national ID filled in
        ["Carla Paz", "", "", "Carla@Example.com", ""],  # by email: unchanged
        ["Dora Vela", "", "900", "dora@example.com", ""],  # new, with the number she had elsewhere
        ["Eva Luna", "", "", "eva@example.com", ""],  # new: the next number
    ]

    result = run_import(runner, "clients", write_csv(tmp_path, "c.csv", rows))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Imported clients from c.csv: 2 created, 2 updated, 1 unchanged.",
        "Clients matched by national ID: 1, by client number: 1, by email: 1.",
    ]
    db.session.expire_all()
    assert client("40111222").phone == "+51987654321"
    assert db.session.get(Client, beto.id).national_id == "BC-77"
    numbers = dict(db.session.execute(select(Client.full_name, Client.client_number)).all())
    assert numbers["Dora Vela"] == "900"
    assert int(numbers["Eva Luna"]) > int(carla.client_number)
    assert row_counts()["client"] == 5

    again = run_import(runner, "clients", write_csv(tmp_path, "c.csv", rows))
    assert again.output.splitlines() == [
        "Imported clients from c.csv: 0 created, 0 updated, 5 unchanged.",
        "Clients matched by national ID: 2, by client number: 1, by email: 2.",
    ]

    # The counter never hands out a number that was imported.
    later = run_import(runner, "clients", write_csv(tmp_path, "d.csv", [["name", "email"], ["Fito", "f@example.com"]]))
    assert later.exit_code == 0, later.output
    assert int(db.session.scalar(select(Client.client_number).where(Client.full_name == "Fito"))) > 900


def test_a_row_whose_keys_name_two_clients_or_a_shared_email_is_refused(runner, tmp_path, three_known):
    ana, beto, carla = three_known
    make_client(full_name="Carla's son", national_id=None, email="carla@example.com")
    db.session.commit()
    before = row_counts()
    rows = [
        ["name", "national_id", "client_number", "email"],
        ["Ana Ruiz", "40111222", beto.client_number, ""],
        ["Carla Paz", "", "", "carla@example.com"],
        ["Beto Soto", "OTHER-1", ana.client_number, ""],
    ]

    result = run_import(runner, "clients", write_csv(tmp_path, "c.csv", rows))

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        f"row 2, column client_number: matches two clients: Ana Ruiz (#{ana.client_number}) by national ID "
        f"and Beto Soto (#{beto.client_number}) by client number"
    )
    assert lines[1].startswith("row 3, column email: carla@example.com is the email of several clients (")
    assert lines[1].endswith("): add the national ID or client number to say which")
    assert lines[2] == (
        f"row 4, column national_id: Ana Ruiz (#{ana.client_number}) has the national ID 40111222, not OTHER-1"
    )
    assert row_counts() == before
