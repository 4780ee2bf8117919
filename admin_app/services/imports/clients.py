"""Clients from a spreadsheet, matched by national ID, else client number, else email (the
rule of `matching`), with their therapists, payer and guardians.

A row adds what it says and never takes anything away: an empty email, phone or language keeps
the stored one; therapists, guardians and the payer are added when missing, and assignments,
links or payment sources the row does not mention are left as they are (ending them is a
decision taken on the screen). The payer column names who pays: empty is self-pay. A client
gets an active payment source for it when they have none (a new client always gets one; an
existing client only when the file has the column). New clients get the practice's defaults:
reminders by email when there is an email (SMS with only a phone), surveys on, active, language
`DEFAULT_LOCALE` when the row gives none, and the next client number unless the row gives one
(kept, and never handed out again). A matched client without a national ID gets the row's.
A row must name its client somehow (national ID, client number or email), so that the next
import of the same file finds it again instead of creating it twice.
"""

from __future__ import annotations

import dataclasses

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import (
    CLIENT_NUMBER_SERIES,
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
from admin_app.services.imports import matching, values
from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.imports.rows import Cells, chunks, report_missing_columns
from admin_app.services.imports.values import CellError
from admin_app.services.people.records import default_reminder_preference
from admin_app.services.platform.documents.numbering import reserve_given_number

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("nombre",),
    "national_id": ("dni",),
    "client_number": ("numero_cliente", "n_cliente", "client_no"),
    "email": ("correo",),
    "phone": ("telefono",),
    "therapists": ("terapeutas",),
    "payer": ("pagador",),
    "guardian_national_ids": ("apoderados",),
    "language": ("idioma",),
}
REQUIRED: tuple[str, ...] = ("name",)
KEY_COLUMNS: tuple[str, ...] = ("name", "national_id", "client_number", "email")  # what tells the rows apart
SEPARATOR = ";"  # between the emails of `therapists` and the national IDs of `guardian_national_ids`
NEW_PAYER_KIND = PayerKind.OTHER  # the file does not say; the staff set it on the payer's screen


@dataclasses.dataclass(frozen=True)
class Source:
    """A payment source to add: a stored payer, the name of a payer this import creates, or None
    for self-pay."""

    payer: Payer | str | None


@dataclasses.dataclass(frozen=True)
class Change:
    row: int
    client: Client | None  # None: a new client
    fields: dict[str, object]  # the attributes to set
    therapist_ids: tuple[int, ...] = ()  # care assignments to add
    source: Source | None = None
    guardians: tuple[Client | int, ...] = ()  # stored clients, or the rows of clients this import creates


@dataclasses.dataclass
class Parsed:
    row: Row
    cells: Cells
    fields: dict[str, object]  # None: not given
    therapist_emails: list[str]
    payer: str | None
    guardians: list[str]
    matched_by: str | None = None  # the key that found the stored client


@dataclasses.dataclass(frozen=True)
class Stored:
    """What the database already holds for the file's clients: read once for the whole file."""

    therapist_ids: dict[str, int]  # by email
    payers: dict[str, Payer]  # by case-folded name
    assignments: set[tuple[int, int]]  # (client id, therapist id), active or not
    sources: set[tuple[int, int | None]]  # (client id, payer id or None for self-pay), active
    guardian_links: set[tuple[int, int]]  # (guardian id, client id)


def plan(session: Session, table: Table) -> ImportPlan:
    result = ImportPlan(kind="clients")
    report_missing_columns(result, table, REQUIRED, COLUMNS)
    key_column = any(key in table.headers for key in matching.KEYS)
    if not key_column:
        result.error(1, "national_id", NO_KEY_COLUMN)
    rows = [parse(result, table, row) for row in table.checked_rows()]
    in_file = refuse_repeated_keys(rows, report_missing=key_column)
    index = matching.load_client_index(
        session,
        [keys_of(parsed) for parsed in rows]
        + [matching.ClientKeys(national_id=guardian) for parsed in rows for guardian in parsed.guardians],
    )
    matched: dict[int, int] = {}  # stored client id -> the first row that matched it
    found: list[tuple[Parsed, Client | None]] = []
    for parsed in rows:
        client = match(parsed, index, matched)
        found.append((parsed, client))

    stored = read_stored(session, rows, [client.id for _, client in found if client is not None])
    new_payers: dict[str, str] = {}  # case-folded name -> the name as first written
    for parsed, client in found:
        change = resolve(parsed, client, index, stored, in_file, new_payers, payer_column="payer" in table.headers)
        if not parsed.cells.ok:
            continue
        if change.client is None:
            result.actions[parsed.row.number] = Action.CREATE
        elif change.fields or change.therapist_ids or change.source or change.guardians:
            result.actions[parsed.row.number] = Action.UPDATE
        else:
            result.actions[parsed.row.number] = Action.UNCHANGED
            continue
        result.changes.append(change)
    result.matched = matching.count_matches(parsed.matched_by for parsed in rows if parsed.cells.ok)
    return result


NO_KEY_COLUMN = _l(
    "the file needs a column that tells clients apart: national_id, client_number or email (dni, numero_cliente, "
    "correo)"
)
NO_KEY = _l("a national ID, client number or email is needed to recognise the client on the next import")


def keys_of(parsed: Parsed) -> matching.ClientKeys:
    return matching.ClientKeys(
        national_id=parsed.fields["national_id"],
        client_number=parsed.fields["client_number"],
        email=parsed.fields["email"],
    )


def refuse_repeated_keys(rows: list[Parsed], *, report_missing: bool) -> dict[str, int]:
    """A national ID or client number on two rows is an error, and an email on two rows that have
    nothing else to tell their clients apart; returns the rows by national ID (for guardians)."""
    first_row: dict[str, dict[str, int]] = {key: {} for key in matching.KEYS}
    for parsed in rows:
        keys = keys_of(parsed)
        if not keys.given:
            if report_missing:
                parsed.cells.fail("national_id", NO_KEY)
            else:
                parsed.cells.ok = False  # the header row's error says it for every row
            continue
        checked = ["national_id", "client_number"] if keys.national_id or keys.client_number else ["email"]
        for key in checked:
            value = getattr(keys, key)
            if value is None:
                continue
            if value in first_row[key]:
                parsed.cells.fail(
                    key, _l("%(value)s is already on row %(row)d", value=value, row=first_row[key][value])
                )
            else:
                first_row[key][value] = parsed.row.number
    return first_row["national_id"]


def match(parsed: Parsed, index: matching.ClientIndex, matched: dict[int, int]) -> Client | None:
    """The stored client of the row (None: a new one); a client two rows match is an error."""
    try:
        found = index.match(keys_of(parsed))
    except matching.MatchError as error:
        parsed.cells.fail(error.key, error.reason)
        return None
    if found.client is None:
        return None
    if found.client.id in matched:
        parsed.cells.fail(
            found.key,
            _l(
                "%(client)s is already on row %(row)d",
                client=matching.describe(found.client),
                row=matched[found.client.id],
            ),
        )
        return None
    matched[found.client.id] = parsed.row.number
    parsed.matched_by = found.key
    return found.client


def apply(session: Session, plan: ImportPlan) -> None:
    created: dict[int, Client] = {}
    for change in plan.changes:
        if change.client is None:
            if change.fields.get("client_number"):
                # Before any INSERT takes numbers from the counter, which must then skip this one.
                reserve_given_number(session, CLIENT_NUMBER_SERIES, change.fields["client_number"])
            client = Client(**change.fields, survey_opt_out=False, active=True)
            client.reminder_preference = default_reminder_preference(client)
            created[change.row] = client
            session.add(client)
        else:
            for name, value in change.fields.items():
                setattr(change.client, name, value)
    payers: dict[str, Payer] = {}
    for change in plan.changes:
        client = change.client or created[change.row]
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
    national_id = cells("national_id", matching.parse_national_id)
    fields = {
        "full_name": cells("name", values.text, max_length=200),
        "national_id": national_id,
        "client_number": cells("client_number", matching.parse_client_number),
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
            guardian = matching.parse_national_id(item)
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
    parsed: Parsed,
    client: Client | None,
    index: matching.ClientIndex,
    stored: Stored,
    in_file: dict[str, int],
    new_payers: dict[str, str],
    *,
    payer_column: bool,
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
    guardians: list[Client | int] = []
    for national_id in parsed.guardians:
        if national_id in index.by_national_id:
            guardians.append(index.by_national_id[national_id])
        elif national_id in in_file:
            guardians.append(in_file[national_id])
        else:
            cells.fail(
                "guardian_national_ids",
                _l("no client with the national ID %(value)s in the file or in the practice", value=national_id),
            )
    payer: Payer | str | None = None
    if parsed.payer is not None:
        key = parsed.payer.casefold()
        payer = stored.payers.get(key) or new_payers.setdefault(key, parsed.payer)

    row = parsed.row.number
    if client is None:
        fields = {
            **{name: value for name, value in parsed.fields.items() if name != "client_number" or value},
            "preferred_language": parsed.fields["preferred_language"] or current_app.config["DEFAULT_LOCALE"],
        }
        return Change(row, None, fields, tuple(therapist_ids), Source(payer), tuple(guardians))

    # The keys that found the client stay as they are; a missing national ID is filled in.
    fields = {
        name: value
        for name, value in parsed.fields.items()
        if value is not None and name != "client_number" and getattr(client, name) != value
    }
    payer_id = payer.id if isinstance(payer, Payer) else None
    has_source = not isinstance(payer, str) and (client.id, payer_id) in stored.sources
    return Change(
        row,
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


def read_stored(session: Session, rows: list[Parsed], client_ids: list[int]) -> Stored:
    """A few queries for the whole file, whatever its length (keys in chunks)."""
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
    ids = sorted(client_ids)
    return Stored(
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


def parse_language(text: str) -> str | None:
    if not text:
        return None
    return values.choice(text, {code: code for code in SUPPORTED_LOCALES})


def listed(text: str) -> list[str]:
    return [item.strip() for item in text.split(SEPARATOR) if item.strip()]
