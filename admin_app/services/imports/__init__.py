"""Moving in from spreadsheets: therapists, clients, appointments, authorizations, payments, rooms and room
reservations from CSV or XLSX.

One import is all or nothing. Every row is read and checked first (`plan`), against the file
itself and the database; any error, reported as "row N, column C: reason" with the row number
the spreadsheet shows, means nothing is written. Otherwise `apply` writes the plan in the
caller's transaction (bulk statements for appointments). Natural keys make a re-import
idempotent: therapist by email, client by national ID, appointment participant by therapist,
start and client, authorization by payer and reference.

Modules: `reading` (file -> rows with canonical column names), `values` (cell parsers),
`rows` (a row's cells into the plan), `report` (the plan and its errors), `preview` (the plan
row by row, for the screen), `uploads` (a file waiting for its confirmation), and one module
per kind, each with `COLUMNS` (canonical name -> Spanish aliases), `REQUIRED`, `KEY_COLUMNS`
(those that say which record a row is), `plan(session, table)` and `apply(session, plan)`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import ModuleType

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.services.imports import appointments, authorizations, clients, payments, reservations, rooms, therapists
from admin_app.services.imports.matching import matched_summary
from admin_app.services.imports.preview import Preview
from admin_app.services.imports.reading import holds_more_rows_than, read_table
from admin_app.services.imports.report import Action, ImportPlan, RowError
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.progress import Progress, ignore

__all__ = [
    "KINDS",
    "Action",
    "ImportPlan",
    "Preview",
    "RowError",
    "check",
    "kind_module",
    "matched_summary",
    "preview_file",
    "run",
    "runs_in_background",
]

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


def runs_in_background(data: bytes, filename: str) -> bool:
    """Whether checking and importing the file are long work, for a run in the background: more
    than IMPORT_BACKGROUND_ROWS rows."""
    return holds_more_rows_than(current_app.config["IMPORT_BACKGROUND_ROWS"], data, filename)


def check(session: Session, kind: str, data: bytes, filename: str, *, progress: Progress = ignore) -> ImportPlan:
    """Read the file and check every row, telling `progress` how many rows were checked; writes
    nothing. Raises RuleViolation (field "file") when the file cannot be read at all."""
    module = kind_module(kind)
    table = dataclasses.replace(read_table(data, filename, module.COLUMNS), progress=progress)
    plan = module.plan(session, table)
    plan.errors.sort(key=lambda error: error.row)  # in the file's order (stable: a row's columns as found)
    shown = [name for name in module.KEY_COLUMNS if name in table.headers]
    plan.key_headers = tuple(table.headers[name] for name in shown)
    plan.keys = {row.number: tuple(row.values[name] for name in shown) for row in table.rows}
    return plan


def preview_file(session: Session, *, kind: str, path: Path, filename: str, progress: Progress = ignore) -> Preview:
    """The row-by-row preview of a waiting upload; writes nothing (the caller ends the read
    transaction). Takes a path and returns plain data, so a job can run it as well as a request.
    Raises RuleViolation (field "file") like `check`, and OSError when the file is gone."""
    return Preview.of(check(session, kind, path.read_bytes(), filename, progress=progress))


def run(
    session: Session, kind: str, data: bytes, filename: str, *, dry_run: bool = False, progress: Progress = ignore
) -> ImportPlan:
    """Check the file, then write it when it has no error (and this is not a dry run). The
    caller commits, once."""
    plan = check(session, kind, data, filename, progress=progress)
    if plan.ok and not dry_run:
        KINDS[kind].apply(session, plan)
    return plan
