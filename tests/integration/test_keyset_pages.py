"""Deep pages without OFFSET (issue 22, views/platform/keyset.py): the pager's next and previous
links carry the id of the row the page they leave ends or starts on, and that page is read from
there. The rows are those OFFSET gives, ties on the sort included; the URL carries an id, never a
name; an anchor the user may not see, or that is gone, falls back to OFFSET."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import delete, event

from admin_app.extensions import db
from admin_app.models import Appointment
from tests.conftest import sign_in_therapist
from tests.factories import make_appointment, make_client, make_therapist
from tests.pages import body, list_rows

APPOINTMENTS = "/admin/appointment/"
CLIENTS = "/admin/client/"
FIRST = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)


@pytest.fixture
def booked(app) -> list[int]:
    """45 appointments, three at each of 15 instants (three therapists), so that rows tied on the
    start straddle the boundaries of pages of 20; their ids newest first, the list's order."""
    pairs = []
    for name in ("Rosa Mendoza", "Jorge Salas", "Lucía Paredes"):
        therapist = make_therapist(full_name=name)
        pairs.append((therapist, make_client(therapist, full_name=f"Client of {name}")))
    appointments = [
        make_appointment(therapist, client, starts_at=FIRST + dt.timedelta(days=day))
        for day in range(15)
        for therapist, client in pairs
    ]
    db.session.commit()
    return [a.id for a in sorted(appointments, key=lambda a: (a.starts_at, a.id), reverse=True)]


def ids_in_order(response) -> list[int]:
    """The ids of the list's rows, top to bottom (from their details links)."""
    return [int(found) for found in dict.fromkeys(re.findall(r"/details/\?id=(\d+)", body(response)))]


def pager_link(response, arrow: str) -> str | None:
    """The address of the pager's next (`&gt;`) or previous (`&lt;`) link, None when disabled."""
    found = re.search(rf'<li class="page-item">\s*<a class="page-link" href="([^"]+)">{arrow}</a>', body(response))
    return html.unescape(found[1]) if found else None


@pytest.fixture
def statements(app):
    """The SQL statements run while the test reads pages."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def last_page_read_by_keyset(statements) -> bool:
    """Whether the last page of appointments read started from its anchor (SQLite writes `OFFSET 0`
    on every LIMIT, so the condition tells, not the word)."""
    pages = [sql for sql in statements if "FROM appointment" in sql and "ORDER BY" in sql]
    return "WHERE appointment.starts_at <= " in pages[-1] or "WHERE appointment.starts_at >= " in pages[-1]


def test_next_links_walk_the_list_by_keyset_with_the_rows_offset_gives(admin_client, booked, statements):
    page = admin_client.get(APPOINTMENTS + "?page_size=20")
    walked, links = ids_in_order(page), []
    while (link := pager_link(page, "&gt;")) is not None:
        links.append(link)
        page = admin_client.get(link)
        walked += ids_in_order(page)

    assert walked == booked  # every appointment once, newest first, ties by id
    assert [re.search(r"after=(\d+)", link)[1] for link in links] == [str(booked[19]), str(booked[39])]
    assert all("before=" not in link and "page=" in link for link in links)
    assert last_page_read_by_keyset(statements)
    for number in (1, 2):  # the same pages by OFFSET
        statements.clear()
        by_offset = admin_client.get(f"{APPOINTMENTS}?page={number}&page_size=20")
        assert ids_in_order(by_offset) == booked[20 * number : 20 * (number + 1)]
        assert not last_page_read_by_keyset(statements)


def test_the_previous_link_of_a_keyset_page_reads_the_page_before(admin_client, booked, statements):
    second = admin_client.get(f"{APPOINTMENTS}?page=2&page_size=20")
    back = pager_link(second, "&lt;")

    assert re.search(r"before=(\d+)", back)[1] == str(booked[40])
    statements.clear()
    previous = admin_client.get(back)
    assert ids_in_order(previous) == booked[20:40]
    assert last_page_read_by_keyset(statements)
    assert re.search(r"after=(\d+)", pager_link(previous, "&gt;"))[1] == str(booked[39])
    assert pager_link(admin_client.get(pager_link(previous, "&lt;")), "&lt;") is None  # the first page


def test_a_list_sorted_by_name_carries_the_id_and_never_the_name(admin_client, app):
    therapist = make_therapist(full_name="Rosa Mendoza")
    clients = [make_client(therapist, full_name=f"Ana Quispe {number:02d}") for number in range(25)]
    db.session.commit()

    first = admin_client.get(CLIENTS + "?page_size=20")
    link = pager_link(first, "&gt;")
    second = admin_client.get(link)

    assert "Quispe" not in link and re.search(r"after=(\d+)", link)[1] == str(clients[19].id)
    assert [row["full_name"] for row in list_rows(second)] == [f"Ana Quispe {number:02d}" for number in range(20, 25)]


def test_an_anchor_the_therapist_may_not_see_falls_back_to_offset(client, booked):
    rosa = db.session.get(Appointment, booked[0]).therapist
    others = [number for number in booked if db.session.get(Appointment, number).therapist_id != rosa.id]
    own = [number for number in booked if number not in others]
    sign_in_therapist(client, rosa)

    # Anchored on another therapist's newest appointment, page 1 is read as OFFSET reads it (page 0 holds
    # all fifteen of hers at 20 a page, so page 1 is empty), not as the rows after that appointment.
    page = client.get(f"/portal/appointments/?page=1&page_size=20&after={others[0]}")
    assert page.status_code == 200 and ids_in_order(page) == []
    assert set(own) == set(ids_in_order(client.get("/portal/appointments/?page_size=20")))


@pytest.mark.parametrize("anchor", ["gone", "12abc", "-1", "99999999999999999999"])
def test_an_anchor_that_is_gone_or_garbled_falls_back_to_offset(admin_client, booked, anchor):
    if anchor == "gone":
        gone = booked.pop(25)
        db.session.execute(delete(Appointment).where(Appointment.id == gone))
        db.session.commit()
        anchor = str(gone)

    page = admin_client.get(f"{APPOINTMENTS}?page=1&page_size=20&after={anchor}")

    assert page.status_code == 200
    assert ids_in_order(page) == booked[20:40]


def test_a_sort_the_user_chose_pages_by_offset_and_its_links_carry_no_anchor(admin_client, booked):
    first = admin_client.get(APPOINTMENTS + "?page_size=20&sort=0")
    link = pager_link(first, "&gt;")

    assert "after=" not in link and "sort=0" in link
    assert len(ids_in_order(admin_client.get(link + "&after=1"))) == 20
