"""The total of a list, without `count(*)` over millions of rows on every page.

On PostgreSQL a list whose rows (before filters and search) the planner expects to be more than
`LIST_EXACT_COUNT_LIMIT`, and that has more (counted up to the limit), shows the estimate, "about N",
when unfiltered, and no total when filtered or searched (the pager then offers the previous and next
pages); a link counts exactly on demand (`?count=exact`). Smaller lists, and every list on SQLite,
are counted exactly, as before.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import format_decimal, gettext

from admin_app.extensions import db
from admin_app.services.platform.estimates import estimated_rows, more_rows_than

EXACT_COUNT_ARG = "count"
EXACT_COUNT_VALUE = "exact"


class Estimate(int):
    """A number of rows the planner expects. Flask-Admin computes the pages from it as from a count
    and prints it in the list's tab, where it reads "about 1,234,567" in the reader's language."""

    estimated = True

    def __str__(self) -> str:
        return gettext("about %(number)s", number=format_decimal(int(self)))


class CountsOnDemand:
    """A Flask-Admin list counting its rows exactly only where that is cheap or asked for."""

    def list_estimate(self) -> int | None:
        """The planner's estimate of the list's rows before filters and search, when they are too
        many to count on every page; None when the list is counted exactly. Asked once a request."""
        if self.simple_list_pager or request.args.get(EXACT_COUNT_ARG) == EXACT_COUNT_VALUE:
            return None
        estimates = g.setdefault("list_estimates", {})
        if self.endpoint not in estimates:
            statement, limit = self.get_query().statement, current_app.config["LIST_EXACT_COUNT_LIMIT"]
            rows = estimated_rows(db.session, statement)
            big = rows is not None and rows > limit and more_rows_than(db.session, statement, limit)
            estimates[self.endpoint] = rows if big else None
        return estimates[self.endpoint]

    def exact_count_url(self) -> str:
        """This page again, counting its rows exactly."""
        return self.get_url(".index_view", **{**request.args.to_dict(), EXACT_COUNT_ARG: EXACT_COUNT_VALUE})

    def get_count_query(self):
        return None if self.list_estimate() is not None else super().get_count_query()

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, data = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        estimate = self.list_estimate()
        if count is None and estimate is not None and not search and not filters:
            count = Estimate(estimate)
        return count, data
