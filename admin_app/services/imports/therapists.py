"""Therapists from a spreadsheet, matched by email.

Compensation: a row with `commission_percent` makes the therapist paid by COMMISSION at that
percentage, one with `service_fee` paid by SERVICE_FEE (the fee less that amount); an existing
therapist on the other model switches to it. Both on one row is an error (the row cannot say which).
Both empty leaves an existing therapist's compensation as it is, and is an error for a new
therapist: a silent 0 % would pay them nothing. A changed compensation becomes the therapist's
terms (services.people.compensation) from `terms_from` when the row gives it, else from the day of
the import: sessions before it keep their earnings. `terms_from` follows the screen's rule (a day of
the current month, not before the therapist's newest terms, up to today; a new therapist's first
terms start no later than today), checked with the rest of the file, so the import stays all or
nothing. In the same way an empty phone, designation, registration number or college leaves the
stored one: an import adds and corrects, erasing is done on the screen. Whether a therapist is
provisional, and their supervisor, are entered on the screen.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
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
    "service_fee": ("cuota_servicio",),
    "terms_from": ("vigente_desde",),
    "default_fee": ("tarifa",),
    "currency": ("moneda",),
    "designation": ("titulo",),
    "registration_number": ("colegiatura",),
    "registration_body": ("colegio",),
}
CREDENTIALS: tuple[str, ...] = ("designation", "registration_number", "registration_body")
REQUIRED: tuple[str, ...] = ("name", "email", "default_fee", "currency")
KEY_COLUMNS: tuple[str, ...] = ("name", "email")  # what tells the rows apart


@dataclasses.dataclass(frozen=True)
class Change:
    therapist: Therapist | None  # None: a new therapist
    fields: dict[str, object]  # the attributes to set
    terms_from: dt.date | None = None  # when changed compensation takes effect (None: the import's day)


def plan(session: Session, table: Table) -> ImportPlan:
    result = ImportPlan(kind="therapists")
    report_missing_columns(result, table, REQUIRED, COLUMNS)
    parsed: list[tuple[Row, dict, dt.date | None, bool]] = []
    first_row: dict[str, int] = {}
    for row in table.checked_rows():
        cells = Cells(result, table, row)
        fields = {
            "full_name": cells("name", values.text, max_length=200),
            "email": cells("email", values.email, is_required=True),
            "phone": cells("phone", values.phone),
            "commission_percent": cells("commission_percent", values.percent),
            "service_fee": cells("service_fee", values.amount, is_required=False),
            "default_fee": cells("default_fee", values.amount),
            "default_currency": cells("currency", values.currency),
            "designation": cells("designation", values.text, max_length=80, is_required=False),
            "registration_number": cells("registration_number", values.text, max_length=80, is_required=False),
            "registration_body": cells("registration_body", values.text, max_length=120, is_required=False),
        }
        terms_from = cells("terms_from", values.local_date) if row.values.get("terms_from") else None
        if row.values.get("commission_percent") and row.values.get("service_fee"):
            cells.fail(
                "service_fee",
                _l(
                    "%(commission)s and %(fee)s are both given: a therapist is paid by commission or by service "
                    "fee, so leave one of them empty",
                    commission=_header(table, "commission_percent"),
                    fee=_header(table, "service_fee"),
                ),
            )
        email = fields["email"]
        if email in first_row:
            cells.fail("email", _l("%(value)s is already on row %(row)d", value=email, row=first_row[email]))
        elif email is not None:
            first_row[email] = row.number
        parsed.append((row, fields, terms_from, cells.ok))

    existing = existing_therapists(session, first_row)
    for row, fields, terms_from, ok in parsed:
        therapist = existing.get(fields["email"])
        paid_how = row.values.get("commission_percent") or row.values.get("service_fee")
        if therapist is None and fields["email"] is not None and not paid_how:
            ok = False
            result.error(
                row.number,
                _header(table, "commission_percent"),
                _l(
                    "a commission percentage or a service fee (%(fee)s) is required for a new therapist",
                    fee=_header(table, "service_fee"),
                ),
            )
        if not ok:
            continue
        changed = fields if therapist is None else differences(therapist, fields)
        if terms_from is not None and any(name in changed for name in compensation.TERMS_FIELDS):
            reason = terms_from_problem(therapist, terms_from)
            if reason is not None:
                result.error(row.number, _header(table, "terms_from"), reason)
                continue
        if therapist is None:
            result.actions[row.number] = Action.CREATE
            result.changes.append(Change(None, fields, terms_from))
        elif changed:
            result.actions[row.number] = Action.UPDATE
            result.changes.append(Change(therapist, changed, terms_from))
        else:
            result.actions[row.number] = Action.UNCHANGED
    return result


def terms_from_problem(therapist: Therapist | None, day: dt.date):
    """Why new terms cannot start on `day` (the rule of `compensation.keep_terms`), else None."""
    today = clinic_time.today()
    if therapist is None or not therapist.compensation_terms:
        if day > today:
            return _l("%(value)s: the first terms start no later than today (%(today)s)", value=day, today=today)
        return None
    earliest, latest = compensation.change_window(therapist.compensation_terms[-1])
    if earliest <= day <= latest:
        return None
    return _l(
        "%(value)s: a date from %(earliest)s to %(latest)s: new terms never change an earlier month or the days "
        "of the current terms, and start no later than today",
        value=day.isoformat(),
        earliest=earliest.isoformat(),
        latest=latest.isoformat(),
    )


def _header(table: Table, name: str) -> str:
    """The column as the file names it (its own header), else its English name."""
    return table.headers.get(name, name)


def apply(session: Session, plan: ImportPlan) -> None:
    today = clinic_time.today()
    created: dict[dt.date, list[Therapist]] = {}
    for change in plan.changes:
        if change.therapist is None:
            therapist = Therapist(**change.fields, compensation_model=_model_of(change.fields), active=True)
            session.add(therapist)
            created.setdefault(change.terms_from or today, []).append(therapist)
        else:
            for name, value in change.fields.items():
                setattr(change.therapist, name, value)
            compensation.keep_terms(session, change.therapist, effective_from=change.terms_from or today)
    for since, therapists in created.items():
        compensation.start_terms(session, therapists, since=since)  # flushes
    if not created:
        session.flush()


def _model_of(fields: dict) -> CompensationModel:
    return CompensationModel.SERVICE_FEE if fields["service_fee"] is not None else CompensationModel.COMMISSION


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
    elif fields["service_fee"] is not None:
        wanted["compensation_model"] = CompensationModel.SERVICE_FEE
        wanted["commission_percent"] = None
        wanted["service_fee"] = fields["service_fee"]
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
