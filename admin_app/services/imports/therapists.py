"""Therapists from a spreadsheet, matched by email.

Compensation: the file carries a commission percentage only (no service fee column), so a row
with `commission_percent` makes the therapist paid by COMMISSION at that percentage (an existing
service-fee therapist switches to it). An empty cell leaves an existing therapist's compensation
as it is, and is an error for a new therapist: a silent 0 % would pay them nothing. A changed
commission becomes the therapist's terms from the day of the import (services.people.compensation):
sessions before it keep their earnings. In the same way an empty phone, designation, registration
number or college leaves the stored one: an import adds and corrects, erasing is done on the
screen. Whether a therapist is provisional, and their supervisor, are entered on the screen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from admin_app.models import CompensationModel, Therapist
from admin_app.services.imports import values
from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.imports.rows import Cells, chunks, report_missing_columns
from admin_app.services.people import compensation
from admin_app.services.platform import clinic_time

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("nombre",),
    "email": ("correo",),
    "phone": ("telefono",),
    "commission_percent": ("comision",),
    "default_fee": ("tarifa",),
    "currency": ("moneda",),
    "designation": ("titulo",),
    "registration_number": ("colegiatura",),
    "registration_body": ("colegio",),
}
CREDENTIALS: tuple[str, ...] = ("designation", "registration_number", "registration_body")
REQUIRED: tuple[str, ...] = ("name", "email", "default_fee", "currency")


@dataclasses.dataclass(frozen=True)
class Change:
    therapist: Therapist | None  # None: a new therapist
    fields: dict[str, object]  # the attributes to set


def plan(session: Session, table: Table) -> ImportPlan:
    result = ImportPlan(kind="therapists")
    report_missing_columns(result, table, REQUIRED, COLUMNS)
    parsed: list[tuple[Row, dict, bool]] = []
    first_row: dict[str, int] = {}
    for row in table.rows:
        cells = Cells(result, table, row)
        fields = {
            "full_name": cells("name", values.text, max_length=200),
            "email": cells("email", values.email, is_required=True),
            "phone": cells("phone", values.phone),
            "commission_percent": cells("commission_percent", values.percent),
            "default_fee": cells("default_fee", values.amount),
            "default_currency": cells("currency", values.currency),
            "designation": cells("designation", values.text, max_length=80, is_required=False),
            "registration_number": cells("registration_number", values.text, max_length=80, is_required=False),
            "registration_body": cells("registration_body", values.text, max_length=120, is_required=False),
        }
        email = fields["email"]
        if email in first_row:
            cells.fail("email", _l("%(value)s is already on row %(row)d", value=email, row=first_row[email]))
        elif email is not None:
            first_row[email] = row.number
        parsed.append((row, fields, cells.ok))

    existing = existing_therapists(session, first_row)
    for row, fields, ok in parsed:
        therapist = existing.get(fields["email"])
        if therapist is None and fields["email"] is not None and not row.values.get("commission_percent"):
            ok = False
            result.error(
                row.number,
                table.headers.get("commission_percent", "commission_percent"),
                _l("a commission percentage is required for a new therapist"),
            )
        if not ok:
            continue
        if therapist is None:
            result.actions.append(Action.CREATE)
            result.changes.append(Change(None, fields))
        elif changed := differences(therapist, fields):
            result.actions.append(Action.UPDATE)
            result.changes.append(Change(therapist, changed))
        else:
            result.actions.append(Action.UNCHANGED)
    return result


def apply(session: Session, plan: ImportPlan) -> None:
    today = clinic_time.today()
    created = []
    for change in plan.changes:
        if change.therapist is None:
            created.append(Therapist(**change.fields, compensation_model=CompensationModel.COMMISSION, active=True))
            session.add(created[-1])
        else:
            for name, value in change.fields.items():
                setattr(change.therapist, name, value)
            compensation.keep_terms(session, change.therapist, effective_from=today)
    compensation.start_terms(session, created, since=today)  # flushes


def differences(therapist: Therapist, fields: dict) -> dict[str, object]:
    """What the row would change on a stored therapist (empty cells of optional columns keep the
    stored value)."""
    wanted: dict[str, object] = {
        "full_name": fields["full_name"],
        "default_fee": fields["default_fee"],
        "default_currency": fields["default_currency"],
    }
    for name in ("phone", *CREDENTIALS):
        if fields[name] is not None:
            wanted[name] = fields[name]
    if fields["commission_percent"] is not None:
        wanted["compensation_model"] = CompensationModel.COMMISSION
        wanted["commission_percent"] = fields["commission_percent"]
        wanted["service_fee"] = None
    return {name: value for name, value in wanted.items() if not same(getattr(therapist, name), value)}


def same(stored, value) -> bool:
    if isinstance(stored, Decimal) and isinstance(value, Decimal):
        return stored.compare(value) == 0
    return stored == value


def existing_therapists(session: Session, emails: Iterable[str]) -> dict[str, Therapist]:
    found: dict[str, Therapist] = {}
    for chunk in chunks(emails):
        query = select(Therapist).where(func.lower(Therapist.email).in_(chunk))
        for therapist in session.scalars(query.options(selectinload(Therapist.compensation_terms))):
            found[therapist.email.lower()] = therapist
    return found
