"""The staff's home (/admin/): the open tasks first (mine, then the others), then the Bad Fit entries
to review, then the day's summary; the appointment book is one click away. Three queries for the content (tasks, the
summary's counts, the Bad Fit rows) and one for the staff an open task can be assigned to."""

from __future__ import annotations

from flask_admin import AdminIndexView, expose
from flask_security import current_user

from admin_app.extensions import db
from admin_app.services.platform import clinic_time
from admin_app.services.tasks import home, work
from admin_app.services.tasks.work import DRAFT_INVOICES, TaskFilter
from admin_app.views.platform.base import RoleRequired
from admin_app.views.tasks.tasks import link_url, staff_options

# Open tasks on the home, mine first: a screenful to act on, each row with its four forms; the task
# list (linked under them when there are more) pages and filters the rest.
HOME_LIMIT = 20


class StaffHomeView(RoleRequired, AdminIndexView):
    @expose("/")
    def index(self):
        today = clinic_time.today()
        rows = work.task_rows(
            db.session, status=TaskFilter.OPEN, today=today, limit=HOME_LIMIT + 1, first_for=current_user.id
        )
        return self.render(
            "admin/tasks/home.html",
            rows=rows[:HOME_LIMIT],
            more=len(rows) > HOME_LIMIT,
            summary=home.home_summary(db.session, today=today),
            staff=staff_options(),
            today=today,
            link_url=link_url,
            drafts_url=link_url(DRAFT_INVOICES),
        )
