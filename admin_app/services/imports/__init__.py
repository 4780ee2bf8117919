"""Moving in from spreadsheets: therapists, clients, appointments, authorizations, payments, rooms and room
reservations from CSV or XLSX.

One import is all or nothing. Every row is read and checked first (`plan`), against the file
itself and the database; any error, reported as "row N, column C: reason" with the row number
the spreadsheet shows, means nothing is written. Otherwise `apply` writes the plan in the
caller's transaction (bulk statements for appointments). Natural keys make a re-import
idempotent: therapist by email, client by national ID, appointment participant by therapist,
start and client, authorization by payer and reference.

Modules: `reading` (file -> rows with canonical column names), `values` (cell parsers),
`rows` (a row's cells into the plan), `report` (the plan and its errors), and one module per
kind, each with `COLUMNS` (canonical name -> Spanish aliases), `REQUIRED`, `plan(session, table)`
and `apply(session, plan)`.
"""

from __future__ import annotations

from types import ModuleType

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.services.imports import appointments, authorizations, clients, payments, reservations, rooms, therapists
from admin_app.services.imports.matching import matched_summary
from admin_app.services.imports.reading import read_table
from admin_app.services.imports.report import Action, ImportPlan, RowError
from admin_app.services.platform.errors import RuleViolation

__all__ = ["KINDS", "Action", "ImportPlan", "RowError", "check", "kind_module", "matched_summary", "run"]

KINDS: dict[str, ModuleType] = {
    "therapists": therapists,
    "clients": clients,
    "appointments": appointments,
    "authorizations": authorizations,
    "payments": payments,
    "rooms": rooms,
    "reservations": reservations,
}


def kind_module(kind: str) -> ModuleType:
    try:
        return KINDS[kind]
    except KeyError:
        raise RuleViolation(
            _l("%(value)s cannot be imported; choose one of: %(allowed)s", value=kind, allowed=", ".join(KINDS)),
            field="kind",
        ) from None


def check(session: Session, kind: str, data: bytes, filename: str) -> ImportPlan:
    """Read the file and check every row; writes nothing. Raises RuleViolation (field "file")
    when the file cannot be read at all."""
    module = kind_module(kind)
    plan = module.plan(session, read_table(data, filename, module.COLUMNS))
    plan.errors.sort(key=lambda error: error.row)  # in the file's order (stable: a row's columns as found)
    return plan


def run(session: Session, kind: str, data: bytes, filename: str, *, dry_run: bool = False) -> ImportPlan:
    """Check the file, then write it when it has no error (and this is not a dry run). The
    caller commits, once."""
    plan = check(session, kind, data, filename)
    if plan.ok and not dry_run:
        KINDS[kind].apply(session, plan)
    return plan
