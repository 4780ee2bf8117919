"""What an import found: the rows to create, update or leave, and every error."""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter


class Action(enum.StrEnum):
    CREATE = "created"
    UPDATE = "updated"
    UNCHANGED = "unchanged"


@dataclasses.dataclass(frozen=True)
class RowError:
    """`row` as the spreadsheet shows it (the header is row 1); `column` is the header as written
    in the file (or the canonical name when the column is missing)."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclasses.dataclass
class ImportPlan:
    """The checked file: one planned action per row, or errors. `changes` holds what each kind's
    `apply` needs (e.g. the values to write per row); it is opaque outside that module."""

    kind: str
    # The row's number (as in `RowError`) -> what it would do; a row in error has none.
    actions: dict[int, Action] = dataclasses.field(default_factory=dict)
    errors: list[RowError] = dataclasses.field(default_factory=list)
    changes: list = dataclasses.field(default_factory=list)
    # Rows matched to a stored client, per key ("national_id", "client_number", "email"), in the
    # order keys are tried (clients and appointments only).
    matched: dict[str, int] = dataclasses.field(default_factory=dict)
    # What the import does but the staff should know (e.g. a room another therapist has reserved),
    # in the importer's language; never a reason to refuse.
    warnings: list[str] = dataclasses.field(default_factory=list)
    # Every data row of the file, by number: its cells in the kind's `KEY_COLUMNS` (those the file
    # has, headed `key_headers` as the file writes them), so that a preview can show which record
    # each row is. Filled in by `imports.check`.
    key_headers: tuple[str, ...] = ()
    keys: dict[int, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        counted = Counter(self.actions.values())
        return {action.value: counted.get(action, 0) for action in Action}

    def error(self, row: int, column: str, reason) -> None:
        self.errors.append(RowError(row, column, str(reason)))
