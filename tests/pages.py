"""Read what a user sees on a Flask-Admin page: flashed messages, list rows, detail fields, form errors.

Plain regular expressions over the rendered HTML of the Bootstrap 4 theme; no browser.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import re

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def text_of(fragment: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    return _SPACES.sub(" ", html_lib.unescape(_TAGS.sub(" ", fragment))).strip()


def body(response) -> str:
    return response.get_data(as_text=True)


def flashed(response_or_html) -> list[str]:
    """The texts of the flashed messages (Bootstrap alerts) on the page."""
    page = response_or_html if isinstance(response_or_html, str) else body(response_or_html)
    alerts = re.findall(
        r'<div class="alert[^"]*alert-dismissable">\s*<button[^>]*>&times;</button>(.*?)</div>', page, re.S
    )
    return [text_of(alert) for alert in alerts]


def run_result(response_or_html) -> str | None:
    """The result message on a run's page (a run in the background that has ended), None before."""
    page = response_or_html if isinstance(response_or_html, str) else body(response_or_html)
    found = re.search(r'<div id="job-run-result"[^>]*>(.*?)</div>', page, re.S)
    return text_of(found.group(1)) if found else None


def run_link(response_or_html, link_id: str) -> str | None:
    """The address of a link of a run's page: `job-run-back`, `job-run-file`."""
    page = response_or_html if isinstance(response_or_html, str) else body(response_or_html)
    found = re.search(rf'id="{link_id}" href="([^"]+)"', page)
    return html_lib.unescape(found.group(1)) if found else None


def list_rows(response) -> list[dict[str, str]]:
    """One dict per row of a list view, keyed by column name (`col-<name>` cells)."""
    page = body(response)
    table = re.search(r'<table class="[^"]*model-list[^"]*">(.*?)</table>', page, re.S)
    if table is None:
        return []
    rows = []
    for row in re.findall(r"<tr(?: class=\"[^\"]*\")?>(.*?)</tr>", table.group(1), re.S):
        cells = dict(re.findall(r'<td class="col-([\w.]+)">(.*?)</td>', row, re.S))
        if cells:
            rows.append({name: text_of(value) for name, value in cells.items()})
    return rows


def row_ids(response) -> set[int]:
    """The ids of the rows of a list view (from their action checkboxes or details links)."""
    page = body(response)
    ids = re.findall(r'name="rowid" class="action-checkbox" value="(\d+)"', page)
    ids += re.findall(r"/details/\?id=(\d+)", page)
    return {int(i) for i in ids}


def detail_fields(response) -> dict[str, str]:
    """Label → value of a details page."""
    page = body(response)
    pairs = re.findall(r"<td>\s*<b>(.*?)</b>\s*</td>\s*<td>(.*?)</td>", page, re.S)
    return {text_of(label): text_of(value) for label, value in pairs}


def field_errors(response) -> dict[str, list[str]]:
    """Form-field id → the error texts shown under it."""
    page = body(response)
    errors: dict[str, list[str]] = {}
    for found in re.finditer(r'<div class="invalid-feedback">\s*<ul[^>]*>(.*?)</ul>', page, re.S):
        label = re.findall(r'<label for="([^"]+)"', page[: found.start()])
        errors[label[-1]] = [text_of(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]
    return errors


def csrf_token(response) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', body(response))
    assert found, "no CSRF token on the page"
    return found.group(1)


def csv_rows(response) -> list[dict[str, str]]:
    """A list's CSV export, which starts with a BOM (Excel reads the accents), as dicts by header."""
    text = body(response)
    assert text.startswith("\ufeff"), "the CSV starts with a BOM"
    return list(csv.DictReader(io.StringIO(text[1:])))


def table_rows(response_or_html, table_id: str) -> list[list[str]]:
    """The visible text of each cell (`<td>`) of each row of the table with this id; header cells
    (`<th>`) are left out, so the heading row is not a row."""
    page = response_or_html if isinstance(response_or_html, str) else body(response_or_html)
    table = re.search(rf'<table[^>]*\bid="{re.escape(table_id)}"[^>]*>(.*?)</table>', page, re.S)
    assert table, f"no table {table_id} on the page"
    rows = [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
    ]
    return [[text_of(cell) for cell in row] for row in rows if row]


def select_options(response_or_html, select_id: str) -> list[tuple[str, str]]:
    """(value, visible text) of each option of the select with this id, in the page's order."""
    page = response_or_html if isinstance(response_or_html, str) else body(response_or_html)
    found = re.search(rf'<select[^>]*\bid="{re.escape(select_id)}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select #{select_id} on the page"
    options = re.findall(r'<option[^>]*?value="([^"]*)"[^>]*>(.*?)</option>', found.group(1), re.S)
    return [(html_lib.unescape(value), text_of(text)) for value, text in options]
