"""The task list (/admin/tasks/), one task's page, and the actions the home shares with them: assign,
mark done with a note, snooze to a date, answer a therapist's request, add a task by hand.

Every action is a POST (CSRF-checked) through services.tasks.work and one transaction: refused, it is
rolled back and the reason, naming its field, is flashed; then back to the page it came from (`next`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.form import BaseForm
from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from wtforms import SelectField, StringField, TextAreaField

from admin_app.extensions import db
from admin_app.models import ADMIN_ROLE
from admin_app.services.platform import bounds, clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.tasks import work
from admin_app.services.tasks.work import FIELDS, TaskFilter, TaskLink
from admin_app.views.platform.base import RoleRequired, local_path
from admin_app.views.platform.paging import page_count, page_url, requested_page
from admin_app.views.platform.rules import commit_or_flash

# Tasks a page: each has three forms, and a page of hundreds is slow to send and to read.
PAGE_SIZE = 50
STAFF_AREA = "admin"
FILTERS = {
    TaskFilter.OPEN: _l("To do"),
    TaskFilter.SNOOZED: _l("Snoozed"),
    TaskFilter.DONE: _l("Done"),
    TaskFilter.CLOSED: _l("Closed (cause gone)"),
    TaskFilter.ALL: _l("All"),
}


class AddTaskForm(BaseForm):
    title = StringField(FIELDS["title"])
    assigned_to = SelectField(FIELDS["assigned_to"], choices=[])
    client = StringField(_l("Client no. (optional)"))
    note = TextAreaField(FIELDS["note"], render_kw={"rows": 2})


def add_task_form(formdata=None) -> AddTaskForm:
    form = AddTaskForm(formdata)
    form.assigned_to.choices = [("", gettext("Nobody yet")), *staff_options()]
    return form


def staff_options() -> list[tuple[str, str]]:
    return [(str(user_id), email) for user_id, email in work.staff_choices(db.session)]


def link_url(link: TaskLink) -> str:
    """The URL of a task's link; a list filter becomes the argument Flask-Admin numbered for it; a
    form that comes back is given this page (the home, the list with its filter, the task) as `next`."""
    args = dict(link.args)
    if link.comes_back:
        args["next"] = request.full_path.rstrip("?")
    if link.list_filter is not None:
        column, value = link.list_filter
        args[f"flt0_{_filter_arg(link.endpoint, column)}"] = value.name
    return url_for(link.endpoint, **args)


def _filter_arg(endpoint: str, column: str) -> str:
    """The argument Flask-Admin gave the "equals" filter of `column` on the list at `endpoint`
    (it numbers them in the order it builds them), as InvoiceView.drafts_of_run_url reads it."""
    name = endpoint.split(".")[0]
    [view] = [view for admin in current_app.extensions["admin"] for view in admin._views if view.endpoint == name]
    return next(
        arg
        for arg, (_index, flt) in view._filter_args.items()
        if isinstance(flt, FilterEqual) and getattr(flt.column, "key", None) == column
    )


def back_to(default: str) -> str:
    """Where an action returns: the page it was posted from (`next`, a path of this site), else `default`."""
    return local_path(request.form.get("next")) or default


def chosen_user(raw: str | None) -> int | None:
    """The login an assignee field names: "me", an id, or nobody (empty). Anything else is an id no
    login has (0), which the rule refuses by the field's name."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if raw == "me":
        return current_user.id
    return bounds.record_id(raw) or 0


def posted_date(name: str) -> dt.date | None:
    try:
        return bounds.calendar_day(request.form.get(name, ""))
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class TaskBell:
    count: int
    url: str


def task_bell(area: str | None = None) -> TaskBell | None:
    """The staff navbar's count of open tasks assigned to me: one COUNT query, none elsewhere."""
    if area != STAFF_AREA or not current_user.is_authenticated or not current_user.has_role(ADMIN_ROLE):
        return None
    return TaskBell(
        count=work.assigned_count(db.session, current_user.id),
        url=url_for("tasks.index", status=TaskFilter.OPEN.value, mine=1),
    )


class TasksView(RoleRequired, BaseView):
    """Every task by filter, one task's page, and the actions on a task (staff only)."""

    @expose("/")
    def index(self):
        return self._list(add_task_form())

    def _list(self, form: AddTaskForm):
        status = request.args.get("status", TaskFilter.OPEN.value)
        if status not in TaskFilter.__members__.values():
            flash(gettext("Status: choose one of the filters."), "error")
            status = TaskFilter.OPEN.value
        mine = request.args.get("mine") == "1"
        today = clinic_time.today()
        chosen = {"status": TaskFilter(status), "assigned_to_id": current_user.id if mine else None, "today": today}
        pages = page_count(work.task_count(db.session, **chosen), PAGE_SIZE)
        page = requested_page(pages)
        return self.render(
            "admin/tasks/tasks.html",
            rows=work.task_rows(db.session, **chosen, limit=PAGE_SIZE, offset=page * PAGE_SIZE),
            page=page,
            pages=pages,
            page_url=page_url(),
            status=status,
            mine=mine,
            filters=FILTERS,
            form=form,
            staff=staff_options(),
            today=today,  # is a task snoozed?
            link_url=link_url,
        )

    @expose("/<int:task_id>")
    def task(self, task_id: int):
        try:
            row = work.task_row(db.session, bounds.record_id(task_id))
        except RuleViolation as error:
            flash(str(error), "error")
            return redirect(url_for(".index"))
        return self.render(
            "admin/tasks/tasks_page.html",
            row=row,
            client_request=work.client_request_of(db.session, row),
            staff=staff_options(),
            today=clinic_time.today(),  # is a task snoozed?
            link_url=link_url,
        )

    @expose("/add", methods=("POST",))
    def add(self):
        form = add_task_form(request.form)
        with commit_or_flash(form) as outcome:
            work.add_task(
                db.session,
                title=form.title.data,
                user=current_user,
                assigned_to_id=chosen_user(form.assigned_to.data),
                client_id=work.client_id_of(db.session, form.client.data),
                note=form.note.data,
            )
        if outcome.refusal is not None:
            return self._list(form)
        flash(gettext("The task was added."), "success")
        return redirect(url_for(".index"))

    @expose("/<int:task_id>/assign", methods=("POST",))
    def assign(self, task_id: int):
        user_id = chosen_user(request.form.get("assigned_to"))
        return self._act(
            lambda: work.assign(db.session, bounds.record_id(task_id), user_id),
            gettext("The task was assigned.") if user_id else gettext("The task is assigned to nobody."),
        )

    @expose("/<int:task_id>/done", methods=("POST",))
    def done(self, task_id: int):
        return self._act(
            lambda: work.mark_done(
                db.session, bounds.record_id(task_id), note=request.form.get("note"), user=current_user
            ),
            gettext("The task is done."),
        )

    @expose("/<int:task_id>/snooze", methods=("POST",))
    def snooze(self, task_id: int):
        until = posted_date("snoozed_until")
        return self._act(
            lambda: work.snooze(db.session, bounds.record_id(task_id), until),
            gettext("The task is snoozed until %(date)s.", date=format_date(until, "medium") if until else ""),
        )

    @expose("/<int:task_id>/answer", methods=("POST",))
    def answer(self, task_id: int):
        """A therapist's request: `accepted` is "1" (done as asked) or "0" (refused), with a note."""
        accepted = request.form.get("accepted")
        if accepted not in ("0", "1"):
            flash(gettext("Answer: choose Done or Refuse."), "error")
            return redirect(back_to(url_for(".index")))
        return self._act(
            lambda: work.answer_request(
                db.session,
                bounds.record_id(task_id),
                accepted=accepted == "1",
                note=request.form.get("note"),
                user=current_user,
            ),
            gettext("The request was done and the therapist told.")
            if accepted == "1"
            else gettext("The request was refused and the therapist told."),
        )

    def _act(self, change, done: str):
        with commit_or_flash() as outcome:
            change()
        if outcome.refusal is None:
            flash(done, "success")
        return redirect(back_to(url_for(".index")))
