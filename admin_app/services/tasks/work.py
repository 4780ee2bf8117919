"""Working the admin tasks: the list staff read, and what they do with a task (assign, snooze, mark
done, add one by hand).

A task is **open** until staff mark it done or the scan closes it (its cause is gone). Snoozing
keeps it open but out of the open list until a clinic day (`snoozed_until`): from that day on it is
open again. The list reads every task with its client, therapist and assignee in one query; each
row says what it is about (`TaskRow.description`, one translatable sentence per kind, written in
`DESCRIPTIONS`) and where its subject is (`TaskRow.link`: an endpoint and its arguments, which the
screen turns into a URL; services build no URLs).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from decimal import Decimal, InvalidOperation

from babel.numbers import format_percent
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from admin_app.models import (
    ADMIN_ROLE,
    AdminTask,
    Client,
    ClientRequest,
    InvoiceStatus,
    MessageStatus,
    Room,
    RoomReservation,
    Site,
    TaskKind,
    TaskStatus,
    Therapist,
    User,
)
from admin_app.models.base import utcnow
from admin_app.services.platform import bounds, clinic_time
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.money import format_money
from admin_app.services.platform.months import Month
from admin_app.services.rooms.reservations import weekday_name
from admin_app.services.tasks import client_requests

NO_VALUE = "—"


class TaskFilter(enum.StrEnum):
    """What the task list shows: open (not snoozed), snoozed, done, closed by the scan, or all."""

    OPEN = "open"
    SNOOZED = "snoozed"
    DONE = "done"
    CLOSED = "closed"
    ALL = "all"


FIELDS = {
    "title": _l("Title"),
    "note": _l("Note"),
    "assigned_to": _l("Assigned to"),
    "client": _l("Client"),
    "snoozed_until": _l("Snooze until"),
    "task": _l("Task"),
}

# The sentence of each kind: `params` (the scan's figures, rules.md) and the row's client and
# therapist names fill it. A kind whose wording depends on a param is keyed "kind:value".
DESCRIPTIONS = {
    TaskKind.AUTHORIZATION_LOW: _l(
        "Authorization %(reference)s of %(client)s is running out: sessions left %(remaining)s, ends %(valid_until)s"
    ),
    TaskKind.EXTENSION_REQUESTED: _l(
        "Extension of authorization %(reference)s of %(client)s requested on %(requested_on)s: record the "
        "new authorization once the payer approves it"
    ),
    TaskKind.AUTHORIZATION_EXPIRED: _l(
        "Authorization %(reference)s of %(client)s ended %(valid_until)s with sessions still booked: %(booked)s"
    ),
    TaskKind.INVOICE_OVERDUE: _l(
        "Invoices to %(payer)s unpaid past its terms: %(count)s, the oldest due %(due_on)s; %(balance)s open"
    ),
    TaskKind.MESSAGE_FAILED: _l("Messages that could not be sent: %(count)s, the oldest of %(oldest)s"),
    f"{TaskKind.BAD_FIT}:no_show": _l("%(client)s did not come on %(on)s: on the Bad Fit list"),
    f"{TaskKind.BAD_FIT}:two_cancellations": _l(
        "%(client)s cancelled twice in a row, the second time on %(on)s: on the Bad Fit list"
    ),
    f"{TaskKind.CLIENT_REQUEST}:activate": _l("%(therapist)s asks to activate %(client)s"),
    f"{TaskKind.CLIENT_REQUEST}:deactivate": _l("%(therapist)s asks to deactivate %(client)s"),
    TaskKind.PAYOUTS_WAITING: _l("Payout statements of %(month)s wait for approval: %(count)s"),
    TaskKind.INVOICE_DRAFTS_OLD: _l("Invoice drafts older than %(days)s days wait to be issued: %(count)s"),
    TaskKind.RESERVATION_LOW_USE: _l(
        "Release part of this reservation? %(therapist)s used %(room)s at %(site)s (every %(day)s %(hours)s) "
        "%(use)s of the reserved time over the last %(weeks)s weeks (%(used_hours)s of %(reserved_hours)s h)"
    ),
}
DATE_PARAMS = ("valid_until", "requested_on", "due_on", "on", "oldest")
HOURS_FORMAT = "#,##0.00"


@dataclasses.dataclass(frozen=True)
class TaskLink:
    """Where a task's subject is shown: an endpoint and its arguments; `list_filter` (a column and a
    value) narrows a Flask-Admin list, whose filter arguments only the screen can number."""

    endpoint: str
    args: dict
    list_filter: tuple[str, enum.Enum] | None = None
    # The page is a form that goes back to the page the link was on once saved (its `next`).
    comes_back: bool = False


# The invoice list filtered to drafts (the old drafts' task and the home's summary link there).
DRAFT_INVOICES = TaskLink("invoice.index_view", {}, ("status", InvoiceStatus.DRAFT))
# The outbox filtered to the messages that failed for good.
FAILED_MESSAGES = TaskLink("outbox.index_view", {}, ("status", MessageStatus.FAILED))


class _Params(dict):
    """A task's values for its sentence: one the scan did not give shows as a dash, never an error."""

    def __missing__(self, key: str) -> str:
        return NO_VALUE


@dataclasses.dataclass(frozen=True)
class TaskRow:
    id: int
    kind: TaskKind
    subject: str | None
    params: dict
    title: str | None
    client_id: int | None
    client_name: str | None
    client_number: str | None
    therapist_name: str | None
    assigned_to_id: int | None
    assigned_to_email: str | None
    opened_on: dt.date
    snoozed_until: dt.date | None
    status: TaskStatus
    note: str | None
    # The reservation a reservation_low_use task is about: where and when (None for other kinds).
    site_name: str | None = None
    room_name: str | None = None
    reservation_weekday: int | None = None
    reservation_starts: dt.time | None = None
    reservation_ends: dt.time | None = None

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def is_generated(self) -> bool:
        return self.kind != TaskKind.MANUAL

    def snoozed(self, today: dt.date) -> bool:
        return self.is_open and self.snoozed_until is not None and self.snoozed_until > today

    @property
    def description(self) -> str:
        """The task in one sentence of the reader's language."""
        if self.kind == TaskKind.MANUAL:
            return self.title or NO_VALUE
        key = self.kind
        if self.kind == TaskKind.BAD_FIT:
            key = f"{self.kind}:{self.params.get('reason')}"
        elif self.kind == TaskKind.CLIENT_REQUEST:
            key = f"{self.kind}:{self.params.get('action')}"
        template = DESCRIPTIONS.get(key)
        if template is None:
            return NO_VALUE
        return str(template) % self._values()

    def _values(self) -> _Params:
        values = _Params({key: value for key, value in (self.params or {}).items() if value is not None})
        for key in DATE_PARAMS:
            if key in values:
                values[key] = _date_text(values[key])
        if isinstance(values.get("balances"), dict):
            values["balance"] = ", ".join(
                _money_text(amount, currency) for currency, amount in sorted(values["balances"].items())
            )
        if self.kind == TaskKind.PAYOUTS_WAITING and self.subject:
            values["month"] = _month_text(self.subject)
        if self.kind == TaskKind.RESERVATION_LOW_USE:
            self._reservation_values(values)
        values["client"] = self.client_name or NO_VALUE
        values["therapist"] = self.therapist_name or NO_VALUE
        return values

    def _reservation_values(self, values: _Params) -> None:
        """Where and when the reservation is, its use as a percentage and its hours, in the reader's
        language (what is missing stays a dash)."""
        for key, value in (("site", self.site_name), ("room", self.room_name)):
            if value is not None:
                values[key] = value
        if self.reservation_weekday is not None:
            values["day"] = weekday_name(self.reservation_weekday)
        if self.reservation_starts is not None and self.reservation_ends is not None:
            values["hours"] = f"{self.reservation_starts:%H:%M}–{self.reservation_ends:%H:%M}"
        for key in ("use", "reserved_hours", "used_hours"):
            if key in values:
                values[key] = _figure_text(values[key], percent=key == "use")
        try:
            first_day = dt.date.fromisoformat(str(self.params["first_day"]))
            last_day = dt.date.fromisoformat(str(self.params["last_day"]))
        except (KeyError, ValueError):
            return
        values["weeks"] = ((last_day - first_day).days + 1) // 7

    @property
    def link(self) -> TaskLink:
        """Where to act on it: the subject's own page, or the task's page when it has none."""
        by_id = {"id": self.subject}
        links = {
            TaskKind.AUTHORIZATION_LOW: TaskLink("authorization.details_view", by_id),
            TaskKind.EXTENSION_REQUESTED: TaskLink("authorization.details_view", by_id),
            TaskKind.AUTHORIZATION_EXPIRED: TaskLink("authorization.details_view", by_id),
            TaskKind.INVOICE_OVERDUE: TaskLink("ageing.index", {}),
            TaskKind.MESSAGE_FAILED: FAILED_MESSAGES,
            TaskKind.BAD_FIT: TaskLink("bad_fit.index_view", {}),
            TaskKind.PAYOUTS_WAITING: TaskLink("payouts.index_view", {"month": self.subject}),
            TaskKind.INVOICE_DRAFTS_OLD: DRAFT_INVOICES,
            TaskKind.RESERVATION_LOW_USE: TaskLink("room_reservation.release_view", by_id, comes_back=True),
        }
        return links.get(self.kind) or TaskLink("tasks.task", {"task_id": self.id})


def _date_text(value) -> str:
    try:
        return format_date(dt.date.fromisoformat(str(value)), "medium")
    except ValueError:
        return str(value)


def _money_text(amount, currency) -> str:
    try:
        return format_money(Decimal(str(amount)), str(currency))
    except (InvalidOperation, ValueError):
        return f"{amount} {currency}"


def _figure_text(value, *, percent: bool) -> str:
    """A fraction as a percentage (one decimal at most: 0.125 is 12.5 %), or hours with two decimals."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if percent:
        return format_percent(number, locale=get_locale(), decimal_quantization=False)
    return format_decimal(number, HOURS_FORMAT)


def _month_text(subject: str) -> str:
    try:
        return Month.parse(subject).label(str(get_locale()))
    except RuleViolation:
        return subject


# --- reading ---------------------------------------------------------------------------------


def _not_snoozed(today: dt.date):
    return or_(AdminTask.snoozed_until.is_(None), AdminTask.snoozed_until <= today)


def _status_condition(status: TaskFilter, today: dt.date):
    is_open = AdminTask.status == TaskStatus.OPEN
    return {
        TaskFilter.OPEN: is_open & _not_snoozed(today),
        TaskFilter.SNOOZED: is_open & (AdminTask.snoozed_until > today),
        TaskFilter.DONE: AdminTask.status == TaskStatus.DONE,
        TaskFilter.CLOSED: AdminTask.status == TaskStatus.CLOSED,
        TaskFilter.ALL: None,
    }[status]


def _rows():
    """The select of TaskRow's columns, each task with its client, therapist and assignee, and the
    reservation (room, site, day, hours) of a reservation_low_use task, whose subject is its id."""
    assignee = aliased(User)
    reservation_of_task = and_(
        AdminTask.kind == TaskKind.RESERVATION_LOW_USE, cast(RoomReservation.id, String) == AdminTask.subject
    )
    return (
        select(
            AdminTask.id,
            AdminTask.kind,
            AdminTask.subject,
            AdminTask.params,
            AdminTask.title,
            AdminTask.client_id,
            Client.full_name,
            Client.client_number,
            Therapist.full_name,
            AdminTask.assigned_to_id,
            assignee.email,
            AdminTask.opened_on,
            AdminTask.snoozed_until,
            AdminTask.status,
            AdminTask.note,
            Site.name,
            Room.name,
            RoomReservation.weekday,
            RoomReservation.starts_time,
            RoomReservation.ends_time,
        )
        .outerjoin(Client, Client.id == AdminTask.client_id)
        .outerjoin(Therapist, Therapist.id == AdminTask.therapist_id)
        .outerjoin(assignee, assignee.id == AdminTask.assigned_to_id)
        .outerjoin(RoomReservation, reservation_of_task)
        .outerjoin(Room, Room.id == RoomReservation.room_id)
        .outerjoin(Site, Site.id == Room.site_id)
    )


def task_rows(
    session: Session,
    *,
    status: TaskFilter = TaskFilter.OPEN,
    assigned_to_id: int | None = None,
    today: dt.date | None = None,
    limit: int | None = None,
    offset: int = 0,
    first_for: int | None = None,
) -> list[TaskRow]:
    """The tasks of a filter, in one query: open ones not snoozed first, oldest first, then snoozed
    ones, then the done and closed (most recently finished first); `limit` of them after the first
    `offset`. `first_for`: within each of those, the tasks assigned to this login come first (the
    home: my tasks before the others)."""
    today = today or clinic_time.today()
    rank = case((AdminTask.status != TaskStatus.OPEN, 2), (_not_snoozed(today), 0), else_=1)
    mine = [case((AdminTask.assigned_to_id == first_for, 0), else_=1)] if first_for is not None else []
    finished = func.coalesce(AdminTask.done_at, AdminTask.cause_gone_at, AdminTask.opened_at)
    query = _filtered(_rows(), status, assigned_to_id, today).order_by(
        rank, *mine, case((rank == 2, finished)).desc(), AdminTask.opened_at, AdminTask.id
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [TaskRow(*row) for row in session.execute(query)]


def task_count(
    session: Session, *, status: TaskFilter = TaskFilter.OPEN, assigned_to_id: int | None = None, today: dt.date
) -> int:
    """How many tasks `task_rows` gives for the same filter (the list's pages): one COUNT."""
    return session.scalar(_filtered(select(func.count(AdminTask.id)), status, assigned_to_id, today))


def _filtered(query: Select, status: TaskFilter, assigned_to_id: int | None, today: dt.date) -> Select:
    condition = _status_condition(TaskFilter(status), today)
    if condition is not None:
        query = query.where(condition)
    if assigned_to_id is not None:
        query = query.where(AdminTask.assigned_to_id == assigned_to_id)
    return query


def task_row(session: Session, task_id: int | None) -> TaskRow:
    """One task as the list shows it; NotFound when there is no such task."""
    row = session.execute(_rows().where(AdminTask.id == task_id)).one_or_none()
    if row is None:
        raise _no_such_task()
    return TaskRow(*row)


def client_request_of(session: Session, row: TaskRow) -> ClientRequest | None:
    """The therapist's request a client_request task is about (its reason is on the task's page)."""
    if row.kind != TaskKind.CLIENT_REQUEST or not (row.subject or "").isdigit():
        return None
    return session.get(ClientRequest, int(row.subject))


def assigned_count(session: Session, user_id: int, *, today: dt.date | None = None) -> int:
    """How many open tasks, not snoozed, are the user's (the navbar's figure): one COUNT."""
    today = today or clinic_time.today()
    return session.scalar(
        select(func.count(AdminTask.id)).where(
            AdminTask.assigned_to_id == user_id, AdminTask.status == TaskStatus.OPEN, _not_snoozed(today)
        )
    )


def staff_choices(session: Session) -> list[tuple[int, str]]:
    """The active staff logins a task can be assigned to, by email."""
    query = select(User.id, User.email).where(User.active.is_(True), User.roles.any(name=ADMIN_ROLE))
    return [(user_id, email) for user_id, email in session.execute(query.order_by(User.email))]


# --- changing --------------------------------------------------------------------------------


def _task(session: Session, task_id: int | None) -> AdminTask:
    task = session.get(AdminTask, task_id) if task_id is not None else None
    if task is None:
        raise _no_such_task()
    return task


def _no_such_task() -> NotFound:
    return NotFound(_l("%(field)s: no such task.", field=FIELDS["task"]), field="task")


def _open_task(session: Session, task_id: int | None) -> AdminTask:
    task = _task(session, task_id)
    if task.status != TaskStatus.OPEN:
        raise RuleViolation(_l("%(field)s: this task is already done or closed.", field=FIELDS["task"]), field="task")
    return task


def _staff_member(session: Session, user_id: int | None) -> User:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active or not user.has_role(ADMIN_ROLE):
        raise RuleViolation(
            _l("%(field)s: choose an active staff login.", field=FIELDS["assigned_to"]), field="assigned_to"
        )
    return user


def _text(value: str | None, field: str, *, max_length: int | None = None) -> str | None:
    """The text typed, trimmed (None when empty), refused when longer than its column holds."""
    text = (value or "").strip() or None
    problem = bounds.length_problem(text, max_length)
    if problem is not None:
        raise RuleViolation(_l("%(field)s: %(reason)s", field=FIELDS[field], reason=problem), field=field)
    return text


def add_task(
    session: Session,
    *,
    title: str,
    user: User,
    assigned_to_id: int | None = None,
    client_id: int | None = None,
    note: str | None = None,
) -> AdminTask:
    """A task written by hand: a title, optionally a client and an assignee. The scan never touches it."""
    text = _text(title, "title", max_length=AdminTask.__table__.c.title.type.length)
    if text is None:
        raise RuleViolation(_l("%(field)s: say what is to be done.", field=FIELDS["title"]), field="title")
    if assigned_to_id is not None:
        _staff_member(session, assigned_to_id)
    if client_id is not None and session.get(Client, client_id) is None:
        raise RuleViolation(_l("%(field)s: no such client.", field=FIELDS["client"]), field="client")
    task = AdminTask(
        kind=TaskKind.MANUAL,
        title=text,
        note=_text(note, "note"),
        client_id=client_id,
        assigned_to_id=assigned_to_id,
        created_by_id=user.id,
        opened_on=clinic_time.today(),
    )
    session.add(task)
    session.flush()
    return task


def client_id_of(session: Session, number: str | None) -> int | None:
    """The client a number typed on a form names (None when nothing was typed)."""
    text = (number or "").strip()
    if not text:
        return None
    client_id = session.scalar(select(Client.id).where(Client.client_number == text))
    if client_id is None:
        raise RuleViolation(
            _l("%(field)s: no client has the number %(number)s.", field=FIELDS["client"], number=text), field="client"
        )
    return client_id


def assign(session: Session, task_id: int, user_id: int | None) -> AdminTask:
    """Give an open task to a staff member (None: to nobody)."""
    task = _open_task(session, task_id)
    task.assigned_to_id = None if user_id is None else _staff_member(session, user_id).id
    session.flush()
    return task


def mark_done(session: Session, task_id: int, *, note: str | None, user: User) -> AdminTask:
    """Mark an open task done. The note is optional for a generated task (its cause tells what it
    was about) and required for one added by hand (nothing else records what was done)."""
    task = _open_task(session, task_id)
    text = _text(note, "note")
    if text is None and task.kind == TaskKind.MANUAL:
        raise RuleViolation(
            _l("%(field)s: say what was done (a task added by hand needs a note).", field=FIELDS["note"]),
            field="note",
        )
    _done(task, text, user)
    session.flush()
    return task


def _done(task: AdminTask, note: str | None, user: User) -> None:
    task.status = TaskStatus.DONE
    task.note = note
    task.done_at = utcnow()
    task.done_by_id = user.id
    task.snoozed_until = None


def snooze(session: Session, task_id: int, until: dt.date | None) -> AdminTask:
    """Hide an open task from the open list until a clinic day after today."""
    task = _open_task(session, task_id)
    if until is None or until <= clinic_time.today() or bounds.date_problem(until) is not None:
        raise RuleViolation(
            _l("%(field)s: choose a day after today.", field=FIELDS["snoozed_until"]), field="snoozed_until"
        )
    task.snoozed_until = until
    session.flush()
    return task


def answer_request(session: Session, task_id: int, *, accepted: bool, note: str | None, user: User) -> AdminTask:
    """Answer the therapist's request a client_request task is about (client_requests.answer: the
    client record is activated or deactivated when accepted, the therapist is told either way), and
    mark the task done with the same note."""
    task = _open_task(session, task_id)
    if task.kind != TaskKind.CLIENT_REQUEST:
        raise RuleViolation(
            _l("%(field)s: only a therapist's request can be answered.", field=FIELDS["task"]), field="task"
        )
    text = _text(note, "note")
    client_requests.answer(session, int(task.subject), accepted=accepted, note=text or "", user=user)
    _done(task, text, user)  # even if answer() closed it already: it was done, by this user
    session.flush()
    return task
