"""Payers' authorizations from a spreadsheet, keyed by payer and reference.

Each row names an existing client (national ID, else client number, else email, as `matching`
says; an authorization import never creates a client) and an existing payer by name (any case).
A payer and reference already stored for the row's client is updated when a value differs and
left alone otherwise, so the same file imported twice writes nothing the second time; stored for
another client, it is an error: the row resembles that authorization, it is not it. An empty
therapist, rate or currency keeps what a stored authorization has (an import adds and corrects;
erasing is done on the screen). New dates of an authorization in an extension chain must not
overlap the authorization it extends, nor its extension (as stored: a file that moves both at once
is imported in two steps).

After the write, the participants of the file's clients billed to its payers that wait for an
authorization (none linked, none chosen by staff) are linked by the rule, in order of start
(`billing.linking.link_waiting`): sessions booked before the approval arrived now count on it.
"""

from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from admin_app.models import Authorization, Payer
from admin_app.services.billing.linking import link_waiting
from admin_app.services.imports import matching, values
from admin_app.services.imports.appointments.columns import therapists_by_email
from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.imports.rows import Cells, chunks, report_missing_columns
from admin_app.services.imports.therapists import same
from admin_app.services.platform import bulk

COLUMNS: dict[str, tuple[str, ...]] = {
    **matching.CLIENT_COLUMN_ALIASES,
    "payer": ("pagador",),
    "reference": ("referencia",),
    "approved_sessions": ("sesiones_aprobadas",),
    "valid_from": ("desde",),
    "valid_until": ("hasta",),
    "therapist_email": ("correo_terapeuta",),
    "rate": ("tarifa",),
    "currency": ("moneda",),
}
REQUIRED: tuple[str, ...] = ("payer", "reference", "approved_sessions", "valid_from", "valid_until")
KEY_COLUMNS: tuple[str, ...] = (*matching.CLIENT_COLUMNS, "payer", "reference")  # what tells the rows apart
UNSET = {"therapist_id": None, "rate": None, "currency": None}  # optional: one executemany for every new row
KEY_PARSERS = {
    "client_national_id": matching.parse_national_id,
    "client_number": matching.parse_client_number,
    "client_email": values.email,
}


@dataclasses.dataclass
class Line:
    """A row as read: its client's keys, payer name, reference and the values to store (None
    where a cell was wrong or left empty)."""

    row: Row
    cells: Cells
    keys: matching.ClientKeys | None
    payer: str | None
    reference: str | None
    fields: dict[str, object]
    therapist_email: str | None
    matched_by: str | None = None

    @property
    def key(self) -> tuple[str, str] | None:
        """Payer (case-folded) and reference: what one authorization is known by."""
        if self.payer is None or self.reference is None:
            return None
        return self.payer.casefold(), self.reference


@dataclasses.dataclass(frozen=True)
class Change:
    authorization: Authorization | None  # None: a new one
    fields: dict[str, object]  # the attributes to set
    pair: tuple[int, int]  # (client id, payer id): whose waiting participants to link


def plan(session: Session, table: Table) -> ImportPlan:
    result = ImportPlan(kind="authorizations")
    missing = report_missing_columns(result, table, REQUIRED, COLUMNS)
    if not matching.has_client_column(result, table) or missing:
        return result
    column = {name: table.headers.get(name, name) for name in COLUMNS}
    key_column = matching.first_client_column(table)
    lines = [read_row(result, table, row, key_column, column) for row in table.checked_rows()]
    refuse_repeated_keys(lines)
    clients = matching.load_client_index(session, (line.keys for line in lines if line.keys is not None))
    # Payers are few: all of them, matched by case-folded name here (SQLite's lower() is ASCII only).
    payers = {payer.name.casefold(): payer for payer in session.scalars(select(Payer))}
    therapists = therapists_by_email(session, {line.therapist_email for line in lines} - {None})
    stored = stored_authorizations(session, {line.reference for line in lines} - {None})
    for line in lines:
        change = resolve(line, clients, payers, therapists, stored)
        if not line.cells.ok:
            continue
        if change is None:
            result.actions[line.row.number] = Action.UNCHANGED
            continue
        result.actions[line.row.number] = Action.CREATE if change.authorization is None else Action.UPDATE
        result.changes.append(change)
    result.matched = matching.count_matches(line.matched_by for line in lines if line.cells.ok)
    return result


def apply(session: Session, plan: ImportPlan) -> None:
    """Bulk statements, audited (`bulk`), then the waiting sessions linked; no commit."""
    stamp = bulk.audit_stamp()
    created = [change for change in plan.changes if change.authorization is None]
    bulk.insert_records(session, Authorization, [{**UNSET, **change.fields} for change in created], stamp)
    edited = [(change.authorization, change.fields) for change in plan.changes if change.authorization is not None]
    bulk.update_by_id(session, Authorization, [(authorization.id, fields) for authorization, fields in edited])
    bulk.record_updates(
        session, stamp, [(Authorization.__tablename__, authorization.id, fields) for authorization, fields in edited]
    )
    for authorization, _ in edited:
        session.expire(authorization)  # the rule reads its new dates and count
    link_waiting(session, {change.pair for change in plan.changes})


def read_row(result: ImportPlan, table: Table, row: Row, key_column: str, column: dict) -> Line:
    cells = Cells(result, table, row)
    keys = matching.client_keys(row, key_column, column, result, KEY_PARSERS)
    if keys is None:
        cells.ok = False  # said on the plan by client_keys
    fields = {
        "approved_sessions": cells("approved_sessions", values.whole_number),
        "valid_from": cells("valid_from", values.local_date),
        "valid_until": cells("valid_until", values.local_date),
        "rate": cells("rate", values.amount, is_required=False),
        "currency": cells("currency", lambda value: values.currency(value) if value else None),
    }
    if fields["valid_from"] and fields["valid_until"] and fields["valid_until"] < fields["valid_from"]:
        cells.fail(
            "valid_until",
            _l(
                "%(value)s is before the start, %(start)s",
                value=row.values["valid_until"],
                start=row.values["valid_from"],
            ),
        )
    if fields["rate"] is not None and not row.values.get("currency"):
        cells.fail("currency" if "currency" in table.headers else "rate", _l("a rate needs its currency"))
    return Line(
        row=row,
        cells=cells,
        keys=keys,
        payer=cells("payer", values.text, max_length=200),
        reference=cells("reference", values.text, max_length=80),
        fields=fields,
        therapist_email=cells("therapist_email", values.email),
    )


def refuse_repeated_keys(lines: list[Line]) -> None:
    first_row: dict[tuple[str, str], int] = {}
    for line in lines:
        if line.key is None:
            continue
        if line.key in first_row:
            line.cells.fail(
                "reference",
                _l("%(value)s of this payer is already on row %(row)d", value=line.reference, row=first_row[line.key]),
            )
        else:
            first_row[line.key] = line.row.number


@dataclasses.dataclass(frozen=True)
class Stored:
    """The stored authorizations with the file's references, by (payer id, reference), with their
    clients and the authorization each extends; and their extensions, by the id they extend."""

    by_key: dict[tuple[int, str], Authorization]
    extensions: dict[int, Authorization]


def stored_authorizations(session: Session, references: set[str]) -> Stored:
    by_key = {}
    for chunk in chunks(sorted(references)):
        query = select(Authorization).where(Authorization.reference.in_(chunk))
        options = (joinedload(Authorization.client), selectinload(Authorization.extends))
        for authorization in session.scalars(query.options(*options)):
            by_key[(authorization.payer_id, authorization.reference)] = authorization
    extensions = {}
    for chunk in chunks(sorted(authorization.id for authorization in by_key.values())):
        for extension in session.scalars(select(Authorization).where(Authorization.extends_id.in_(chunk))):
            extensions[extension.extends_id] = extension
    return Stored(by_key, extensions)


def refuse_overlap_in_chain(line: Line, existing: Authorization, stored: Stored) -> None:
    """New dates of a stored authorization must not overlap the one it extends, nor its extension
    (DESIGN: an extension's dates do not overlap the authorization it extends)."""
    extended, extension = existing.extends, stored.extensions.get(existing.id)
    if extended is not None and line.fields["valid_from"] <= extended.valid_until:
        line.cells.fail(
            "valid_from",
            _l(
                "overlaps %(other)s, which this authorization extends (valid until %(until)s)",
                other=extended.reference,
                until=extended.valid_until.isoformat(),
            ),
        )
    if extension is not None and line.fields["valid_until"] >= extension.valid_from:
        line.cells.fail(
            "valid_until",
            _l(
                "overlaps its extension %(other)s (valid from %(start)s)",
                other=extension.reference,
                start=extension.valid_from.isoformat(),
            ),
        )


def resolve(
    line: Line,
    clients: matching.ClientIndex,
    payers: dict[str, Payer],
    therapists: dict,
    stored: Stored,
) -> Change | None:
    """The row against the database: the client, payer and therapist must exist, and a stored
    authorization with its key must be the same client's. None: nothing to change."""
    cells = line.cells
    client = None
    if line.keys is not None:
        try:
            found = matching.existing_client(clients, line.keys)
        except matching.MatchError as error:
            cells.fail(matching.key_column(error.key), error.reason)
        else:
            client, line.matched_by = found.client, found.key
    payer = payers.get(line.payer.casefold()) if line.payer is not None else None
    if line.payer is not None and payer is None:
        cells.fail("payer", _l("no payer is named %(value)s", value=line.payer))
    therapist_id = None
    if line.therapist_email is not None:
        if line.therapist_email in therapists:
            therapist_id = therapists[line.therapist_email].id
        else:
            cells.fail("therapist_email", _l("no therapist has the email %(value)s", value=line.therapist_email))
    if client is None or payer is None or not cells.ok:
        cells.ok = False
        return None
    existing = stored.by_key.get((payer.id, line.reference))
    if existing is not None and existing.client_id != client.id:
        cells.fail(
            "reference",
            _l(
                "%(payer)s %(reference)s is an authorization of %(other)s, not of %(client)s",
                payer=payer.name,
                reference=line.reference,
                other=matching.describe(existing.client),
                client=matching.describe(client),
            ),
        )
        return None
    given = {name: value for name, value in line.fields.items() if value is not None}
    if therapist_id is not None:
        given["therapist_id"] = therapist_id
    pair = (client.id, payer.id)
    if existing is None:
        return Change(None, {**given, "payer_id": payer.id, "client_id": client.id, "reference": line.reference}, pair)
    changed = {name: value for name, value in given.items() if not same(getattr(existing, name), value)}
    if "valid_from" in changed or "valid_until" in changed:
        refuse_overlap_in_chain(line, existing, stored)
        if not line.cells.ok:
            return None
    return Change(existing, changed, pair) if changed else None
