"""The import preview row by row (/admin/import/preview): every row of the file with its outcome
(to create, to update, unchanged, in error with its errors), by outcome and 50 to a page, read
from the preview saved at the first visit; a date that does not exist says so on its row.

Uploaded files wait in the instance folder, pointed at a temporary one for each test.
"""

from __future__ import annotations

import re

import pytest

from admin_app.extensions import db
from admin_app.services.imports import Preview
from tests.factories import make_client, make_payer, make_site, make_therapist
from tests.integration.test_import_people import csv_bytes, row_counts
from tests.integration.test_import_screen import (
    CONFIRM,
    PREVIEW,
    preview_counts,
    preview_errors,
    preview_rows,
    upload,
    uploads,  # noqa: F401 (a fixture)
)
from tests.pages import body, flashed, text_of

pytestmark = pytest.mark.usefixtures("uploads")  # every test uploads a file

THERAPIST_HEADER = ["name", "email", "commission_percent", "default_fee", "currency"]


def tabs(page: str) -> dict[str, str]:
    """Each outcome tab's text (label and count); the current one under "current"."""
    found = dict(re.findall(r'<a class="nav-link[^"]*" data-outcome="(\w+)"[^>]*>(.*?)</a>', page, re.S))
    current = re.search(r'<a class="nav-link active" data-outcome="(\w+)"[^>]*aria-current="page"', page)
    return {key: text_of(label) for key, label in found.items()} | {"current": current.group(1)}


def page_links(page: str) -> list[str]:
    """The pager as shown: page numbers, the current one in brackets, arrows for previous/next."""
    pager = re.search(r'<nav aria-label="Pages" id="import-pages">(.*?)</nav>', page, re.S)
    if pager is None:
        return []
    shown = []
    for item in re.findall(r"<li[^>]*>(.*?)</li>", pager.group(1), re.S):
        label = text_of(item)
        shown.append(f"[{label}]" if 'aria-current="page"' in item else label)
    return shown


def clients_file(count: int) -> bytes:
    return csv_bytes([["name", "national_id"]] + [[f"Client {n:03d}", f"4{n:07d}"] for n in range(1, count + 1)])


def test_each_row_is_listed_with_its_outcome_the_record_and_its_errors(admin_client):
    make_therapist(full_name="Ana Pérez", email="ana@example.com", commission_percent=40, default_fee=150)
    make_therapist(full_name="Beto Ruiz", email="beto@example.com", commission_percent=40, default_fee=150)
    db.session.commit()
    rows = [
        THERAPIST_HEADER,
        ["Ana Pérez", "ana@example.com", "40", "150", "PEN"],  # as stored
        ["Beto Ruiz", "beto@example.com", "40", "180", "PEN"],  # a new fee
        ["Carla Soto", "carla@example.com", "35", "120", "PEN"],
        ["Dora Vega", "dora@", "35", "ten", "PEN"],
    ]
    upload(admin_client, "therapists", csv_bytes(rows), "therapists.csv")

    page = body(admin_client.get(PREVIEW))

    assert preview_counts(page) == {"created": 1, "updated": 1, "unchanged": 1}  # the counts stay
    assert "The file has 2 errors." in text_of(page)
    assert tabs(page) == {
        "all": "All rows 4",
        "created": "To create 1",
        "updated": "To update 1",
        "unchanged": "Unchanged 1",
        "error": "In error 1",
        "current": "error",  # a file with errors opens on what to fix
    }
    assert preview_rows(page) == [
        {
            "row": "5",
            "outcome": "In error",
            "keys": ["Dora Vega", "dora@"],
            "errors": [
                ("email", "dora@ is not a valid email address"),
                ("default_fee", "ten is not an amount (e.g. 150.00)"),
            ],
            "text": "email: dora@ is not a valid email address default_fee: ten is not an amount (e.g. 150.00)",
        }
    ]

    every_row = body(admin_client.get(PREVIEW, query_string={"outcome": "all"}))

    assert tabs(every_row)["current"] == "all"
    assert [(row["row"], row["outcome"], row["keys"]) for row in preview_rows(every_row)] == [
        ("2", "Unchanged", ["Ana Pérez", "ana@example.com"]),
        ("3", "To update", ["Beto Ruiz", "beto@example.com"]),
        ("4", "To create", ["Carla Soto", "carla@example.com"]),
        ("5", "In error", ["Dora Vega", "dora@"]),
    ]
    assert '<th scope="col">name</th><th scope="col">email</th>' in every_row  # the file's own headers
    assert 'id="import-confirm"' not in every_row


@pytest.mark.parametrize(
    ("outcome", "rows"),
    [("updated", ["3"]), ("created", ["4"]), ("unchanged", ["2"]), ("error", ["5"]), ("all", ["2", "3", "4", "5"])],
)
def test_the_rows_are_filtered_by_outcome(admin_client, outcome, rows):
    make_therapist(full_name="Ana Pérez", email="ana@example.com", commission_percent=40, default_fee=150)
    make_therapist(full_name="Beto Ruiz", email="beto@example.com", commission_percent=40, default_fee=150)
    db.session.commit()
    data = [
        THERAPIST_HEADER,
        ["Ana Pérez", "ana@example.com", "40", "150", "PEN"],
        ["Beto Ruiz", "beto@example.com", "40", "180", "PEN"],
        ["Carla Soto", "carla@example.com", "35", "120", "PEN"],
        ["Dora Vega", "dora@", "35", "120", "PEN"],
    ]
    upload(admin_client, "therapists", csv_bytes(data), "therapists.csv")

    page = body(admin_client.get(PREVIEW, query_string={"outcome": outcome}))

    assert [row["row"] for row in preview_rows(page)] == rows
    assert tabs(page)["current"] == outcome


def test_120_rows_make_three_pages_read_from_the_saved_preview(admin_client):
    upload(admin_client, "clients", clients_file(120), "clients.csv")
    first = body(admin_client.get(PREVIEW))
    # Changed after the preview was made: the pages still show the preview (confirming checks again).
    make_client(full_name="Client 104", national_id="40000104")
    db.session.commit()

    assert tabs(first) == {
        "all": "All rows 120",
        "created": "To create 120",
        "updated": "To update 0",
        "unchanged": "Unchanged 0",
        "error": "In error 0",
        "current": "all",  # no errors: every row
    }
    assert [row["row"] for row in preview_rows(first)] == [str(n) for n in range(2, 52)]  # the first 50
    assert page_links(first) == ["[1]", "2", "3", "→"]

    last = body(admin_client.get(PREVIEW, query_string={"outcome": "all", "page": 3}))

    listed = preview_rows(last)
    assert [row["row"] for row in listed] == [str(n) for n in range(102, 122)]  # the 101st to 120th rows
    assert listed[0]["keys"] == ["Client 101", "40000101"]
    assert {row["outcome"] for row in listed} == {"To create"}  # Client 104, saved since, is not re-checked
    assert page_links(last) == ["←", "1", "2", "[3]"]
    middle = body(admin_client.get(PREVIEW, query_string={"outcome": "all", "page": 2}))
    assert page_links(middle) == ["←", "1", "[2]", "3", "→"]
    assert 'href="/admin/import/preview?outcome=all&amp;page=3"' in middle

    confirmed = admin_client.post(CONFIRM, follow_redirects=True)  # checked again: one is now known

    assert flashed(confirmed)[0] == "clients.csv imported: 119 created, 0 updated, 1 unchanged."


@pytest.mark.parametrize(("asked", "shown"), [("9", "3"), ("0", "1"), ("-2", "1"), ("two", "1"), ("", "1")])
def test_a_page_out_of_range_or_not_a_number_shows_the_nearest_page(admin_client, asked, shown):
    upload(admin_client, "clients", clients_file(120), "clients.csv")

    response = admin_client.get(PREVIEW, query_string={"outcome": "all", "page": asked})

    assert response.status_code == 200
    assert f"[{shown}]" in page_links(body(response))


def test_an_outcome_no_row_has_says_so_and_an_unknown_one_shows_every_row(admin_client):
    upload(admin_client, "clients", clients_file(3), "clients.csv")

    none_updated = body(admin_client.get(PREVIEW, query_string={"outcome": "updated"}))
    unknown = body(admin_client.get(PREVIEW, query_string={"outcome": "<script>"}))

    assert preview_rows(none_updated) == []
    assert "No row has this outcome." in text_of(none_updated)
    assert page_links(none_updated) == []
    assert [row["row"] for row in preview_rows(unknown)] == ["2", "3", "4"]
    assert "<script>" not in unknown


def test_many_pages_link_the_first_the_last_and_those_near(admin_client):
    upload(admin_client, "clients", clients_file(600), "clients.csv")  # 12 pages

    page = body(admin_client.get(PREVIEW, query_string={"outcome": "all", "page": 6}))

    assert page_links(page) == ["←", "1", "…", "4", "5", "[6]", "7", "8", "…", "12", "→"]


def test_a_date_that_does_not_exist_is_named_on_its_row(admin_client):
    make_therapist(full_name="Rosa Quispe", email="rosa@clinic.pe")
    make_client(full_name="Ana Ruiz", national_id="40111222")
    db.session.commit()
    data = csv_bytes(
        [
            ["client_national_id", "therapist_email", "start", "fee", "currency"],
            ["40111222", "rosa@clinic.pe", "05/10/2026 10:00", "150", "PEN"],
            ["40111222", "rosa@clinic.pe", "31/02/2026 10:00", "150", "PEN"],
            ["40111222", "rosa@clinic.pe", "06-10-2026 10:00", "150", "PEN"],
        ]
    )
    upload(admin_client, "appointments", data, "citas.csv")
    before = row_counts()

    page = body(admin_client.get(PREVIEW, query_string={"outcome": "all"}))

    assert [(row["row"], row["outcome"], row["text"]) for row in preview_rows(page)] == [
        ("2", "To create", ""),  # fine: it would be created once the others are fixed
        ("3", "In error", "start: 31/02/2026 is not a day of the calendar"),
        ("4", "In error", "start: 06-10-2026 10:00 is not a date and time as YYYY-MM-DD HH:MM (or DD/MM/YYYY HH:MM)"),
    ]
    assert preview_rows(page)[1]["keys"] == ["40111222", "rosa@clinic.pe", "31/02/2026 10:00"]
    assert row_counts() == before  # nothing written by a preview


def test_a_missing_column_is_an_error_of_the_header_and_the_rows_wait_for_it(admin_client):
    upload(admin_client, "clients", csv_bytes([["name"], ["Ana Ruiz"]]), "c.csv")  # nothing tells clients apart

    page = body(admin_client.get(PREVIEW))

    assert preview_errors(page)[0][:2] == ("1", "national_id")
    assert [(row["row"], row["outcome"], row["text"]) for row in preview_rows(page)] == [
        ("2", "In error", "Checked once the other errors are fixed.")
    ]


def test_an_unreadable_saved_preview_is_made_again(admin_client, uploads):  # noqa: F811
    upload(admin_client, "clients", clients_file(3), "clients.csv")
    admin_client.get(PREVIEW)
    [saved] = uploads.glob("*.preview.json")
    saved.write_text("{not json")

    page = body(admin_client.get(PREVIEW))

    assert [row["row"] for row in preview_rows(page)] == ["2", "3", "4"]
    assert len(Preview.load(saved).rows) == 3  # saved again


@pytest.fixture
def every_kind(app):
    """What each kind's one-row file below refers to."""
    rosa = make_therapist(full_name="Rosa Quispe", email="rosa@clinic.pe")
    make_client(rosa, full_name="Ana Ruiz", national_id="40111222")
    make_payer("ICBC")
    make_site("Downtown", rooms=("Room 1",))
    db.session.commit()


ONE_ROW_FILES = {
    "therapists": (
        THERAPIST_HEADER,
        ["Luz Ramos", "luz@example.com", "40", "150", "PEN"],
        ["Luz Ramos", "luz@example.com"],
    ),
    "clients": (["name", "national_id"], ["Juan Paz", "40999888"], ["Juan Paz", "40999888"]),
    "appointments": (
        ["client_national_id", "therapist_email", "start", "fee", "currency"],
        ["40111222", "rosa@clinic.pe", "2026-10-05 10:00", "150", "PEN"],
        ["40111222", "rosa@clinic.pe", "2026-10-05 10:00"],
    ),
    "authorizations": (
        ["client_national_id", "payer", "reference", "approved_sessions", "valid_from", "valid_until"],
        ["40111222", "ICBC", "CLM-9", "10", "2026-10-01", "2027-03-31"],
        ["40111222", "ICBC", "CLM-9"],
    ),
    "payments": (
        ["date", "amount", "currency", "method", "client_national_id"],
        ["2026-11-10", "35.50", "PEN", "cash", "40111222"],
        ["2026-11-10", "35.50", "PEN", "40111222"],
    ),
    "rooms": (["site", "room"], ["Downtown", "Room 2"], ["Downtown", "Room 2"]),
    "reservations": (
        ["therapist_email", "site", "room", "weekday", "from", "to", "valid_from"],
        ["rosa@clinic.pe", "Downtown", "Room 1", "1", "09:00", "10:00", "2026-09-01"],
        ["rosa@clinic.pe", "Downtown", "Room 1", "1", "09:00", "10:00"],
    ),
}


@pytest.mark.parametrize("kind", list(ONE_ROW_FILES))
def test_every_kind_lists_its_rows_with_the_cells_that_say_which_record(admin_client, every_kind, kind):
    header, row, keys = ONE_ROW_FILES[kind]
    upload(admin_client, kind, csv_bytes([header, row]), f"{kind}.csv")

    page = body(admin_client.get(PREVIEW))

    assert preview_rows(page) == [{"row": "2", "outcome": "To create", "keys": keys, "errors": [], "text": ""}]
    assert 'id="import-confirm"' in page
