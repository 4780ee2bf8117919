"""Clients from a spreadsheet, matched by national ID, with their therapists, payer and guardians.

A row adds what it says and never takes anything away: an empty email, phone or language keeps
the stored one; therapists, guardians and the payer are added when missing, and assignments,
links or payment sources the row does not mention are left as they are (ending them is a
decision taken on the screen). The payer column names who pays: empty is self-pay. A client
gets an active payment source for it when they have none (a new client always gets one; an
existing client only when the file has the column). New clients get the practice's defaults:
reminders by email when there is an email (SMS with only a phone), surveys on, active, language
`DEFAULT_LOCALE` when the row gives none.
"""

from __future__ import annotations

import dataclasses

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import (
    AssignmentKind,
    CareAssignment,
    Client,
    ClientLink,
    LinkKind,
    Payer,
    PayerKind,
    PaymentSource,
    Therapist,
)
from admin_app.services.imports import values
from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.imports.rows import Cells, chunks, report_missing_columns
from admin_app.services.imports.values import CellError
from admin_app.services.people import default_reminder_preference

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("nombre",),
    "national_id": ("dni",),
    "email": ("correo",),
    "phone": ("telefono",),
    "therapists": ("terapeutas",),
    "payer": ("pagador",),
    "guardian_national_ids": ("apoderados",),
    "language": ("idioma",),
}
REQUIRED: tuple[str, ...] = ("name", "national_id")
SEPARATOR = ";"  # between the emails of `therapists` and the national IDs of `guardian_national_ids`
NEW_PAYER_KIND = PayerKind.OTHER  # the file does not say; the staff set it on the payer's screen


@dataclasses.dataclass(frozen=True)
class Source:
    """A payment source to add: a stored payer, the name of a payer this import creates, or None
    for self-pay."""

    payer: Payer | str | None


@dataclasses.dataclass(frozen=True)
class Change:
    national_id: str
    client: Client | None  # None: a new client
    fields: dict[str, object]  # the attributes to set
    therapist_ids: tuple[int, ...] = ()  # care assignments to add
    source: Source | None = None
    guardians: tuple[Client | str, ...] = ()  # stored clients, or national IDs of clients this import creates


@dataclasses.dataclass
class Parsed:
    row: Row
    cells: Cells
    fields: dict[str, object]  # None: not given
    therapist_emails: list[str]
    payer: str | None
    guardians: list[str]


@dataclasses.dataclass(frozen=True)
class Stored:
    """What the database already holds for the file's clients: read once for the whole file."""

    clients: dict[str, Client]  # by national ID (the file's clients and their guardians)
    therapist_ids: dict[str, int]  # by email
    payers: dict[str, Payer]  # by case-folded name
    assignments: set[tuple[int, int]]  # (client id, therapist id), active or not
    sources: set[tuple[int, int | None]]  # (client id, payer id or None for self-pay), active
    guardian_links: set[tuple[int, int]]  # (guardian id, client id)


def plan(session: Session, table: Table) -> ImportPlan:
    result = ImportPlan(kind="clients")
    report_missing_columns(result, table, REQUIRED, COLUMNS)
    rows = [parse(result, table, row) for row in table.rows]
    first_row: dict[str, int] = {}
    for parsed in rows:
        national_id = parsed.fields["national_id"]
        if national_id in first_row:
            parsed.cells.fail(
                "national_id", _l("%(value)s is already on row %(row)d", value=national_id, row=first_row[national_id])
            )
        elif national_id is not None:
            first_row[national_id] = parsed.row.number

    stored = read_stored(session, rows, first_row)
    new_payers: dict[str, str] = {}  # case-folded name -> the name as first written
    for parsed in rows:
        change = resolve(parsed, stored, first_row, new_payers, payer_column="payer" in table.headers)
        if not parsed.cells.ok:
            continue
        if change.client is None:
            result.actions.append(Action.CREATE)
        elif change.fields or change.therapist_ids or change.source or change.guardians:
            result.actions.append(Action.UPDATE)
        else:
            result.actions.append(Action.UNCHANGED)
            continue
        result.changes.append(change)
    return result


def apply(session: Session, plan: ImportPlan) -> None:
    created: dict[str, Client] = {}
    for change in plan.changes:
        if change.client is None:
            client = Client(**change.fields, survey_opt_out=False, active=True)
            client.reminder_preference = default_reminder_preference(client)
            created[change.national_id] = client
            session.add(client)
        else:
            for name, value in change.fields.items():
                setattr(change.client, name, value)
    payers: dict[str, Payer] = {}
    for change in plan.changes:
        client = change.client or created[change.national_id]
        for therapist_id in change.therapist_ids:
            session.add(CareAssignment(client=client, therapist_id=therapist_id, kind=AssignmentKind.DIRECT))
        if change.source is not None:
            payer = change.source.payer
            if isinstance(payer, str):
                payer = payers.setdefault(payer.casefold(), Payer(name=payer, kind=NEW_PAYER_KIND, active=True))
            session.add(PaymentSource(client=client, payer=payer, active=True))
        for guardian in change.guardians:
            session.add(
                ClientLink(
                    client=guardian if isinstance(guardian, Client) else created[guardian],
                    related_client=client,
                    kind=LinkKind.GUARDIAN_OF,
                )
            )
    session.flush()


def parse(plan: ImportPlan, table: Table, row: Row) -> Parsed:
    cells = Cells(plan, table, row)
    national_id = cells("national_id", parse_national_id)
    fields = {
        "full_name": cells("name", values.text, max_length=200),
        "national_id": national_id,
        "email": cells("email", values.email),
        "phone": cells("phone", values.phone),
        "preferred_language": cells("language", parse_language),
    }
    therapist_emails: list[str] = []
    for item in listed(row.values.get("therapists", "")):
        try:
            email = values.email(item, is_required=True)
        except CellError as error:
            cells.fail("therapists", error.reason)
            continue
        if email not in therapist_emails:
            therapist_emails.append(email)
    guardians: list[str] = []
    for item in listed(row.values.get("guardian_national_ids", "")):
        try:
            guardian = parse_national_id(item)
        except CellError as error:
            cells.fail("guardian_national_ids", error.reason)
            continue
        if guardian == national_id:
            cells.fail("guardian_national_ids", _l("a client cannot be their own guardian"))
        elif guardian not in guardians:
            guardians.append(guardian)
    payer = cells("payer", values.text, max_length=200, is_required=False)
    return Parsed(row, cells, fields, therapist_emails, payer, guardians)


def resolve(
    parsed: Parsed, stored: Stored, in_file: dict[str, int], new_payers: dict[str, str], *, payer_column: bool
) -> Change:
    """The row against the database: unknown therapists and guardians are errors; what the
    client already has is left out of the change."""
    cells = parsed.cells
    therapist_ids = []
    for email in parsed.therapist_emails:
        if email in stored.therapist_ids:
            therapist_ids.append(stored.therapist_ids[email])
        else:
            cells.fail("therapists", _l("no therapist has the email %(value)s", value=email))
    guardians: list[Client | str] = []
    for national_id in parsed.guardians:
        if national_id in stored.clients:
            guardians.append(stored.clients[national_id])
        elif national_id in in_file:
            guardians.append(national_id)
        else:
            cells.fail(
                "guardian_national_ids",
                _l("no client with the national ID %(value)s in the file or in the practice", value=national_id),
            )
    payer: Payer | str | None = None
    if parsed.payer is not None:
        key = parsed.payer.casefold()
        payer = stored.payers.get(key) or new_payers.setdefault(key, parsed.payer)

    national_id = parsed.fields["national_id"]
    client = stored.clients.get(national_id) if national_id is not None else None
    if client is None:
        fields = {
            **parsed.fields,
            "preferred_language": parsed.fields["preferred_language"] or current_app.config["DEFAULT_LOCALE"],
        }
        return Change(national_id, None, fields, tuple(therapist_ids), Source(payer), tuple(guardians))

    fields = {
        name: value
        for name, value in parsed.fields.items()
        if value is not None and name != "national_id" and getattr(client, name) != value
    }
    payer_id = payer.id if isinstance(payer, Payer) else None
    has_source = not isinstance(payer, str) and (client.id, payer_id) in stored.sources
    return Change(
        national_id,
        client,
        fields,
        tuple(therapist_id for therapist_id in therapist_ids if (client.id, therapist_id) not in stored.assignments),
        Source(payer) if payer_column and not has_source else None,
        tuple(
            guardian
            for guardian in guardians
            if not (isinstance(guardian, Client) and (guardian.id, client.id) in stored.guardian_links)
        ),
    )


def read_stored(session: Session, rows: list[Parsed], in_file: dict[str, int]) -> Stored:
    """A few queries for the whole file, whatever its length (keys in chunks)."""
    national_ids = set(in_file) | {guardian for parsed in rows for guardian in parsed.guardians}
    clients = {
        client.national_id: client
        for chunk in chunks(sorted(national_ids))
        for client in session.scalars(select(Client).where(Client.national_id.in_(chunk)))
    }
    emails = sorted({email for parsed in rows for email in parsed.therapist_emails})
    therapist_ids = {
        email.lower(): therapist_id
        for chunk in chunks(emails)
        for therapist_id, email in session.execute(
            select(Therapist.id, Therapist.email).where(func.lower(Therapist.email).in_(chunk))
        )
    }
    # Payers are few: all of them, matched by case-folded name here (SQLite's lower() is ASCII only).
    payers = {payer.name.casefold(): payer for payer in session.scalars(select(Payer))}
    ids = sorted(client.id for national_id, client in clients.items() if national_id in in_file)
    return Stored(
        clients=clients,
        therapist_ids=therapist_ids,
        payers=payers,
        assignments=pairs(
            session,
            ids,
            lambda chunk: select(CareAssignment.client_id, CareAssignment.therapist_id).where(
                CareAssignment.client_id.in_(chunk)
            ),
        ),
        sources=pairs(
            session,
            ids,
            lambda chunk: select(PaymentSource.client_id, PaymentSource.payer_id).where(
                PaymentSource.client_id.in_(chunk), PaymentSource.active.is_(True)
            ),
        ),
        guardian_links=pairs(
            session,
            ids,
            lambda chunk: select(ClientLink.client_id, ClientLink.related_client_id).where(
                ClientLink.related_client_id.in_(chunk), ClientLink.kind == LinkKind.GUARDIAN_OF
            ),
        ),
    )


def pairs(session: Session, ids: list[int], query) -> set[tuple]:
    return {tuple(found) for chunk in chunks(ids) for found in session.execute(query(chunk))}


def parse_national_id(text: str) -> str:
    """As the client screen keeps it: upper case."""
    return values.text(text, max_length=40).upper()


def parse_language(text: str) -> str | None:
    if not text:
        return None
    return values.choice(text, {code: code for code in SUPPORTED_LOCALES})


def listed(text: str) -> list[str]:
    return [item.strip() for item in text.split(SEPARATOR) if item.strip()]
