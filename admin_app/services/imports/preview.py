"""What an import would do, row by row, before it is confirmed: every data row of the file with
its outcome (created, updated, unchanged, or in error with its errors), counted, filtered and paged.

A `Preview` is plain data made from a checked plan. It is saved as JSON beside the waiting upload,
so that moving between pages and outcomes reads it again instead of checking the file again, and
a job can build it away from the request (`imports.preview_file`) for the screen to show. Its
texts (errors, warnings) are in the language of whoever checked the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from admin_app.services.imports.report import Action, ImportPlan, RowError

ERROR = "error"
OUTCOMES: tuple[str, ...] = (*(action.value for action in Action), ERROR)
PAGE_SIZE = 50
NEAR = 2  # page links on each side of the current page (the first and last are always offered)


@dataclasses.dataclass(frozen=True)
class PreviewRow:
    """`number` as the spreadsheet shows it; `keys` the row's cells that say which record it is
    (under `Preview.key_headers`). A row in error without errors of its own waits on others: the
    header's, or those of the other rows of its appointment."""

    number: int
    outcome: str
    keys: tuple[str, ...]
    errors: tuple[RowError, ...] = ()


@dataclasses.dataclass(frozen=True)
class Page:
    outcome: str | None  # None: rows of every outcome
    number: int  # from 1
    pages: int
    rows: tuple[PreviewRow, ...]

    def links(self) -> list[int | None]:
        """The pages to offer a link to: the first, the last and those near this one; None where
        pages are skipped."""
        shown = sorted({1, self.pages, *range(max(1, self.number - NEAR), min(self.pages, self.number + NEAR) + 1)})
        links: list[int | None] = []
        for number in shown:
            if links and number - links[-1] > 1:
                links.append(None)
            links.append(number)
        return links


@dataclasses.dataclass(frozen=True)
class Preview:
    kind: str
    key_headers: tuple[str, ...]
    rows: tuple[PreviewRow, ...]
    file_errors: tuple[RowError, ...]  # errors of no data row (the header's: a missing column)
    matched: dict[str, int]  # as `ImportPlan.matched`
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, plan: ImportPlan) -> Preview:
        by_row: dict[int, list[RowError]] = {}
        for error in plan.errors:
            by_row.setdefault(error.row, []).append(error)
        rows = tuple(
            PreviewRow(
                number=number,
                outcome=ERROR if number in by_row or number not in plan.actions else plan.actions[number].value,
                keys=keys,
                errors=tuple(by_row.get(number, ())),
            )
            for number, keys in sorted(plan.keys.items())
        )
        return cls(
            kind=plan.kind,
            key_headers=plan.key_headers,
            rows=rows,
            file_errors=tuple(error for error in plan.errors if error.row not in plan.keys),
            matched=dict(plan.matched),
            warnings=tuple(plan.warnings),
        )

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + sum(len(row.errors) for row in self.rows)

    @property
    def ok(self) -> bool:
        return not self.error_count

    def counts(self) -> dict[str, int]:
        counted = dict.fromkeys(OUTCOMES, 0)
        for row in self.rows:
            counted[row.outcome] += 1
        return counted

    def page(self, outcome: str | None, number: int, *, size: int = PAGE_SIZE) -> Page:
        """The `number`th page (kept within the pages there are) of the rows of `outcome`
        (any unknown outcome: every row)."""
        if outcome not in OUTCOMES:
            outcome = None
        rows = [row for row in self.rows if outcome in (None, row.outcome)]
        pages = max(1, -(-len(rows) // size))
        number = min(max(number, 1), pages)
        return Page(outcome, number, pages, tuple(rows[(number - 1) * size : number * size]))

    def save(self, path: Path) -> None:
        """Written whole or not at all: a reader never finds half a preview. Rows are lists, not
        objects: a file of 50,000 rows is read back in a fraction of a second."""
        saved = {
            "kind": self.kind,
            "key_headers": self.key_headers,
            "rows": [
                [row.number, row.outcome, row.keys, [[error.column, error.reason] for error in row.errors]]
                for row in self.rows
            ],
            "file_errors": [[error.row, error.column, error.reason] for error in self.file_errors],
            "matched": self.matched,
            "warnings": self.warnings,
        }
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(saved, separators=(",", ":")), encoding="utf-8")
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> Preview | None:
        """The saved preview; None when there is none, or it cannot be read (a server updated
        since it was saved): the caller checks the file again."""
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                kind=saved["kind"],
                key_headers=tuple(saved["key_headers"]),
                rows=tuple(
                    PreviewRow(number, outcome, tuple(keys), tuple(RowError(number, *error) for error in errors))
                    for number, outcome, keys, errors in saved["rows"]
                ),
                file_errors=tuple(RowError(*error) for error in saved["file_errors"]),
                matched=dict(saved["matched"]),
                warnings=tuple(saved["warnings"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
