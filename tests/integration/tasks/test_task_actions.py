"""The staff work their tasks through the screens: assign (to themselves or a colleague), mark done
with a note, snooze to a date, answer a therapist's request, add a task by hand. Every refusal names
its field and leaves the database as it was. Today is Saturday 5 December 2026 in Lima.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    AdminTask,
    ClientRequest,
    RequestAction,
    RequestStatus,
    TaskKind,
    TaskStatus,
)
from tests.conftest import login
from tests.factories import make_admin, make_client, make_therapist
from tests.integration.test_csrf import csrf_app, protected, sign_in  # noqa: F401 (fixtures)
from tests.pages import body, csrf_token, field_errors, flashed, table_rows

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
TODAY = dt.date(2026, 12, 5)
HOME = "/admin/"
TASKS = "/admin/tasks/"


def make_task(kind: TaskKind = TaskKind.MANUAL, *, subject: str | None = None, params=None, **fields) -> AdminTask:
    """A task as the scan (or a person) writes it, opened today unless said otherwise; flushed."""
    values = {"opened_on": TODAY, **fields}
    if kind == TaskKind.MANUAL:
        values.setdefault("title", "Call the insurer back")
    task = AdminTask(kind=kind, subject=subject, params=params or {}, **values)
    db.session.add(task)
    db.session.flush()
    return task


def stored(task: AdminTask) -> AdminTask:
    db.session.expire_all()
    return db.session.get(AdminTask, task.id)


def listed(page, table: str = "task-list") -> list[str]:
    """The task descriptions of a page's table, in order."""
    return [row[0] for row in table_rows(page, table)]


@pytest.fixture
def colleague(app):
    user = make_admin("marta@example.com")
    db.session.commit()
    return user


@pytest.fixture
def task(app):
    made = make_task(title="Call the insurer back")
    db.session.commit()
    return made


def test_assign_to_me_then_to_a_colleague_then_to_nobody(admin_client, admin_user, colleague, task):
    page = admin_client.post(
        f"{TASKS}{task.id}/assign", data={"assigned_to": "me", "next": HOME}, follow_redirects=True
    )

    assert page.request.path == HOME
    assert flashed(page) == ["The task was assigned."]
    assert table_rows(page, "home-tasks")[0][2] == "staff@example.com"
    assert stored(task).assigned_to_id == admin_user.id

    page = admin_client.post(f"{TASKS}{task.id}/assign", data={"assigned_to": str(colleague.id)}, follow_redirects=True)
    assert flashed(page) == ["The task was assigned."]
    assert stored(task).assigned_to_id == colleague.id

    page = admin_client.post(f"{TASKS}{task.id}/assign", data={"assigned_to": ""}, follow_redirects=True)
    assert flashed(page) == ["The task is assigned to nobody."]
    assert stored(task).assigned_to_id is None


def test_assigning_to_someone_who_is_not_staff_is_refused(admin_client, task):
    therapist = make_therapist(full_name="Rosa Mendoza")
    from tests.factories import make_therapist_user

    login_of_therapist = make_therapist_user(therapist)
    db.session.commit()

    for value in (str(login_of_therapist.id), "999999", "x"):
        page = admin_client.post(f"{TASKS}{task.id}/assign", data={"assigned_to": value}, follow_redirects=True)
        assert flashed(page) == ["Assigned to: choose an active staff login."], value
        assert stored(task).assigned_to_id is None


def test_done_with_a_note_leaves_the_open_list_and_shows_in_done(admin_client, admin_user):
    generated = make_task(TaskKind.MESSAGE_FAILED, subject="failed", params={"count": 2, "oldest": "2026-12-01"})
    db.session.commit()

    page = admin_client.post(f"{TASKS}{generated.id}/done", data={"note": "", "next": HOME}, follow_redirects=True)

    assert flashed(page) == ["The task is done."]  # a generated task needs no note
    assert "home-tasks" not in body(page)
    done = stored(generated)
    assert (done.status, done.done_by_id, done.note) == (TaskStatus.DONE, admin_user.id, None)
    assert listed(admin_client.get(TASKS, query_string={"status": "done"})) == [
        "Messages that could not be sent: 2, the oldest of Dec 1, 2026"
    ]


def test_a_task_added_by_hand_needs_a_note_to_be_done(admin_client, task):
    page = admin_client.post(f"{TASKS}{task.id}/done", data={"note": "  "}, follow_redirects=True)

    assert flashed(page) == ["Note: say what was done (a task added by hand needs a note)."]
    assert stored(task).status == TaskStatus.OPEN

    page = admin_client.post(f"{TASKS}{task.id}/done", data={"note": "Called: they pay Monday"}, follow_redirects=True)
    assert flashed(page) == ["The task is done."]
    assert (stored(task).status, stored(task).note) == (TaskStatus.DONE, "Called: they pay Monday")


def test_a_done_or_closed_or_unknown_task_is_refused(admin_client, task):
    closed = make_task(TaskKind.MESSAGE_FAILED, subject="7", status=TaskStatus.CLOSED)
    db.session.commit()
    admin_client.post(f"{TASKS}{task.id}/done", data={"note": "Called"}, follow_redirects=True)

    for url, data in (
        (f"{TASKS}{task.id}/done", {"note": "again"}),
        (f"{TASKS}{closed.id}/done", {"note": "x"}),
        (f"{TASKS}{closed.id}/snooze", {"snoozed_until": "2026-12-10"}),
        (f"{TASKS}{closed.id}/assign", {"assigned_to": "me"}),
    ):
        page = admin_client.post(url, data=data, follow_redirects=True)
        assert page.status_code == 200
        assert flashed(page) == ["Task: this task is already done or closed."], url
    assert stored(task).note == "Called"
    assert stored(closed).snoozed_until is None and stored(closed).assigned_to_id is None

    for url in (f"{TASKS}999999/done", f"{TASKS}99999999999999999999/snooze", f"{TASKS}999999/assign"):
        page = admin_client.post(url, data={"note": "x", "snoozed_until": "2026-12-10"}, follow_redirects=True)
        assert flashed(page) == ["Task: no such task."], url
    assert admin_client.get(f"{TASKS}999999", follow_redirects=True).status_code == 200


def test_snooze_hides_the_task_until_its_day(admin_client, task, clock):
    page = admin_client.post(
        f"{TASKS}{task.id}/snooze", data={"snoozed_until": "2026-12-08", "next": HOME}, follow_redirects=True
    )

    assert flashed(page) == ["The task is snoozed until Dec 8, 2026."]
    assert "home-tasks" not in body(page)
    snoozed = admin_client.get(TASKS, query_string={"status": "snoozed"})
    assert listed(snoozed) == ["Call the insurer back Snoozed until Tue 8 Dec 2026"]

    clock.set("2026-12-08T15:00Z")
    assert listed(admin_client.get(HOME), "home-tasks") == ["Call the insurer back"]


@pytest.mark.parametrize("value", ["2026-12-05", "2026-12-01", "tomorrow", "", "9999-12-31"])
def test_snoozing_to_today_the_past_or_no_date_is_refused(admin_client, task, value):
    page = admin_client.post(f"{TASKS}{task.id}/snooze", data={"snoozed_until": value}, follow_redirects=True)

    assert flashed(page) == ["Snooze until: choose a day after today."]
    assert stored(task).snoozed_until is None


def test_add_a_task_by_hand_with_an_assignee_and_a_client(admin_client, colleague):
    ana = make_client(full_name="Ana Quispe")
    db.session.commit()

    page = admin_client.post(
        f"{TASKS}add",
        data={
            "title": "Ask Ana for her new policy number",
            "assigned_to": str(colleague.id),
            "client": ana.client_number,
            "note": "She calls on Mondays",
        },
        follow_redirects=True,
    )

    assert flashed(page) == ["The task was added."]
    [row] = table_rows(page, "task-list")
    assert row[:4] == [
        "Ask Ana for her new policy number She calls on Mondays",
        "Ana Quispe",
        "marta@example.com",
        "Sat 5 Dec 2026",
    ]
    task = db.session.scalar(select(AdminTask))
    assert (task.kind, task.client_id, task.subject) == (TaskKind.MANUAL, ana.id, None)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "  "}, "title", "Title: say what is to be done."),
        ({"title": "x" * 201}, "title", "Title: at most 200 characters (201 given)"),
        ({"title": "Call", "client": "C-404"}, "client", "Client: no client has the number C-404."),
        ({"title": "Call", "assigned_to": "999999"}, "assigned_to", "Assigned to: choose an active staff login."),
        ({"title": "Call", "assigned_to": "Marta"}, "assigned_to", "Assigned to: choose an active staff login."),
    ],
)
def test_adding_a_task_with_bad_input_says_why_beside_the_field(admin_client, data, field, message):
    page = admin_client.post(f"{TASKS}add", data=data)

    assert page.status_code == 200
    assert field_errors(page) == {field: [message]}
    assert f'value="{data["title"]}"' in body(page)  # what was typed is still there
    assert db.session.scalar(select(func.count()).select_from(AdminTask)) == 0


def test_the_filters_list_open_snoozed_done_closed_mine_and_all(admin_client, admin_user):
    make_task(title="open, mine", assigned_to_id=admin_user.id)
    make_task(title="open, nobody's")
    make_task(title="snoozed", snoozed_until=dt.date(2026, 12, 9))
    make_task(title="done", status=TaskStatus.DONE)
    make_task(
        TaskKind.MESSAGE_FAILED, subject="failed", params={"count": 1, "oldest": "2026-11-30"}, status=TaskStatus.CLOSED
    )
    db.session.commit()

    def shown(**query):
        return listed(admin_client.get(TASKS, query_string=query))

    assert shown() == ["open, mine", "open, nobody's"]
    assert shown(status="snoozed") == ["snoozed Snoozed until Wed 9 Dec 2026"]
    assert shown(status="done") == ["done"]
    assert shown(status="closed") == ["Messages that could not be sent: 1, the oldest of Nov 30, 2026"]
    assert shown(status="open", mine="1") == ["open, mine"]
    assert len(shown(status="all")) == 5
    page = admin_client.get(TASKS, query_string={"status": "nonsense"})
    assert flashed(page) == ["Status: choose one of the filters."] and len(listed(page)) == 2


def test_the_list_shows_fifty_tasks_a_page_with_its_filter_kept_and_an_action_comes_back_to_its_page(
    admin_client, admin_user
):
    tasks = [make_task(title=f"task {number:02}", assigned_to_id=admin_user.id) for number in range(1, 56)]
    make_task(title="nobody's")
    db.session.commit()

    first = admin_client.get(TASKS, query_string={"status": "open", "mine": "1"})
    assert listed(first) == [f"task {number:02}" for number in range(1, 51)]
    assert "Page 1 of 2" in body(first)
    following = html.unescape(re.search(r'id="next-page" href="([^"]+)"', body(first)).group(1))
    assert parse_qs(urlsplit(following).query) == {"status": ["open"], "mine": ["1"], "page": ["1"]}
    second = admin_client.get(following)
    assert listed(second) == [f"task {number:02}" for number in range(51, 56)]
    assert "Page 2 of 2" in body(second) and 'id="next-page"' not in body(second)

    done = admin_client.post(f"{TASKS}{tasks[50].id}/done", data={"note": "Called", "next": following})
    assert done.headers["Location"] == following
    assert listed(admin_client.get(following)) == [f"task {number:02}" for number in range(52, 56)]
    for page in ("2", "-1", "x", "99999999999999999999"):
        shown = listed(admin_client.get(TASKS, query_string={"status": "open", "mine": "1", "page": page}))
        assert shown[0] == "task 01", page


@pytest.fixture
def request_task(app):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    asked = ClientRequest(therapist=rosa, client=ana, action=RequestAction.DEACTIVATE, reason="Moved to Cusco")
    db.session.add(asked)
    db.session.flush()
    task = make_task(
        TaskKind.CLIENT_REQUEST,
        subject=str(asked.id),
        params={"action": "deactivate"},
        client_id=ana.id,
        therapist_id=rosa.id,
    )
    db.session.commit()
    return task


def test_a_therapists_request_is_answered_done_from_its_page(admin_client, request_task):
    page = admin_client.get(f"{TASKS}{request_task.id}")
    assert "Rosa Mendoza asks to deactivate Ana Quispe" in body(page)
    assert "Moved to Cusco" in body(page)

    page = admin_client.post(
        f"{TASKS}{request_task.id}/answer",
        data={"accepted": "1", "note": "Done, her file is closed", "next": f"{TASKS}{request_task.id}"},
        follow_redirects=True,
    )

    assert flashed(page) == ["The request was done and the therapist told."]
    db.session.expire_all()
    asked = db.session.get(ClientRequest, int(request_task.subject))
    assert (asked.status, asked.answer_note) == (RequestStatus.DONE, "Done, her file is closed")
    assert (stored(request_task).status, stored(request_task).note) == (TaskStatus.DONE, "Done, her file is closed")


def test_a_therapists_request_can_be_refused_and_only_requests_are_answered(admin_client, request_task, task):
    page = admin_client.post(
        f"{TASKS}{request_task.id}/answer", data={"accepted": "0", "note": "She still comes"}, follow_redirects=True
    )
    assert flashed(page) == ["The request was refused and the therapist told."]
    db.session.expire_all()
    assert db.session.get(ClientRequest, int(request_task.subject)).status == RequestStatus.REFUSED
    assert stored(request_task).status == TaskStatus.DONE

    page = admin_client.post(f"{TASKS}{task.id}/answer", data={"accepted": "1"}, follow_redirects=True)
    assert flashed(page) == ["Task: only a therapist's request can be answered."]
    page = admin_client.post(f"{TASKS}{task.id}/answer", data={"accepted": "maybe"}, follow_redirects=True)
    assert flashed(page) == ["Answer: choose Done or Refuse."]
    assert stored(task).status == TaskStatus.OPEN


def test_the_home_offers_done_and_refuse_for_a_request_and_done_for_others(admin_client, request_task, task):
    page = body(admin_client.get(HOME))

    assert f'action="/admin/tasks/{request_task.id}/answer"' in page
    assert f'action="/admin/tasks/{request_task.id}/done"' not in page
    assert f'action="/admin/tasks/{task.id}/done"' in page
    assert "Note (required)" in page and "Note (optional)" not in page


def test_an_action_without_its_csrf_token_is_refused(protected, task):  # noqa: F811
    sign_in(protected)

    assert protected.post(f"{TASKS}{task.id}/done", data={"note": "Called"}).status_code == 400
    assert stored(task).status == TaskStatus.OPEN

    token = csrf_token(protected.get(HOME))
    protected.post(f"{TASKS}{task.id}/done", data={"note": "Called", "csrf_token": token})
    assert stored(task).status == TaskStatus.DONE


def test_a_therapist_is_refused_the_task_screens_and_actions(therapist_client, task):
    for url in (HOME, TASKS, f"{TASKS}{task.id}"):
        assert therapist_client.get(url).status_code == 403, url
    for url in (f"{TASKS}{task.id}/done", f"{TASKS}{task.id}/assign", f"{TASKS}add"):
        assert therapist_client.post(url, data={"note": "x", "assigned_to": "me", "title": "x"}).status_code == 403
    assert stored(task).status == TaskStatus.OPEN
    assert db.session.scalar(select(func.count()).select_from(AdminTask)) == 1


def test_a_signed_in_admin_starts_on_the_home(client, admin_user):
    login(client, admin_user.email)

    page = client.get("/", follow_redirects=True)

    assert page.request.path == HOME
    assert 'id="open-book" href="/admin/book/"' in body(page)
