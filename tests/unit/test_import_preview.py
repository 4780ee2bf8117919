"""The import preview as plain data: made from a plan, paged by outcome, saved and read back whole
(what a job that checks a large file hands to the screen)."""

from __future__ import annotations

import pytest

from admin_app.services.imports import Action, ImportPlan, Preview, RowError


def plan_of(count: int) -> ImportPlan:
    """Rows 2.. of a file: every third in error, the rest created; the header lacks a column."""
    plan = ImportPlan(kind="clients", key_headers=("name", "dni"))
    for number in range(2, count + 2):
        plan.keys[number] = (f"Client {number}", f"4{number:07d}")
        if number % 3 == 0:
            plan.error(number, "dni", f"4{number:07d} is already on row 2")
        else:
            plan.actions[number] = Action.CREATE
    plan.error(1, "email", "the column is missing")
    plan.matched = {"national_id": 2}
    plan.warnings = ["row 2: a warning"]
    return plan


def test_a_preview_holds_each_row_its_outcome_and_the_errors_of_the_file_apart():
    preview = Preview.of(plan_of(5))  # rows 2 to 6

    assert [(row.number, row.outcome) for row in preview.rows] == [
        (2, "created"),
        (3, "error"),
        (4, "created"),
        (5, "created"),
        (6, "error"),
    ]
    assert preview.rows[1].errors == (RowError(3, "dni", "40000003 is already on row 2"),)
    assert preview.file_errors == (RowError(1, "email", "the column is missing"),)
    assert preview.counts() == {"created": 3, "updated": 0, "unchanged": 0, "error": 2}
    assert (preview.error_count, preview.ok) == (3, False)


def test_a_row_without_an_action_or_errors_of_its_own_is_in_error():
    plan = ImportPlan(kind="clients", key_headers=("name",), keys={2: ("Ana",)})
    plan.error(1, "national_id", "the file needs a column that tells clients apart")

    [row] = Preview.of(plan).rows

    assert (row.outcome, row.errors) == ("error", ())


@pytest.mark.parametrize(
    ("outcome", "number", "shown", "pages", "first", "last"),
    [
        (None, 1, 1, 3, 2, 51),
        ("all", 3, 3, 3, 102, 121),
        ("created", 2, 2, 2, 77, 121),  # the 51st created row onwards
        ("error", 1, 1, 1, 3, 120),
        ("error", 7, 1, 1, 3, 120),  # beyond the last page: the last
        (None, -4, 1, 3, 2, 51),
    ],
)
def test_the_rows_are_paged_by_outcome(outcome, number, shown, pages, first, last):
    page = Preview.of(plan_of(120)).page(outcome, number)

    assert (page.number, page.pages) == (shown, pages)
    assert (page.rows[0].number, page.rows[-1].number) == (first, last)


def test_an_outcome_no_row_has_gives_one_empty_page():
    page = Preview.of(plan_of(10)).page("updated", 1)

    assert (page.number, page.pages, page.rows) == (1, 1, ())


@pytest.mark.parametrize(
    ("number", "pages", "links"),
    [
        (1, 1, [1]),
        (1, 3, [1, 2, 3]),
        (6, 12, [1, None, 4, 5, 6, 7, 8, None, 12]),
        (1, 12, [1, 2, 3, None, 12]),
        (4, 12, [1, 2, 3, 4, 5, 6, None, 12]),
        (12, 12, [1, None, 10, 11, 12]),
    ],
)
def test_the_page_links_are_the_first_the_last_and_the_near_ones(number, pages, links):
    preview = Preview.of(plan_of(50 * pages))

    assert preview.page("all", number).links() == links


def test_a_saved_preview_reads_back_the_same(tmp_path):
    preview = Preview.of(plan_of(7))
    path = tmp_path / "token.preview.json"

    preview.save(path)

    assert Preview.load(path) == preview
    assert [file.name for file in tmp_path.iterdir()] == ["token.preview.json"]  # nothing partial left


@pytest.mark.parametrize("text", ["", "{not json", '{"kind": "clients"}', '{"kind": 1, "rows": [[2]]}', "[]"])
def test_a_preview_that_cannot_be_read_is_none(tmp_path, text):
    path = tmp_path / "token.preview.json"
    path.write_text(text)

    assert Preview.load(path) is None
    assert Preview.load(tmp_path / "missing.preview.json") is None
