"""Our own screens that show a list a page at a time (tasks, charges, caseloads), with the pager of
templates/macros/pager.html. Pages are numbered from 0 in the address's `page`, as on Flask-Admin's
lists; a page there is not (a garbled number, one past the end) shows the first."""

from __future__ import annotations

from collections.abc import Callable

from flask import request, url_for


def page_count(rows: int, per_page: int) -> int:
    """How many pages `rows` fill: one, even for none."""
    return max(1, -(-rows // per_page))


def requested_page(pages: int) -> int:
    """The page the address asks for, when there is such a page; else the first."""
    page = request.args.get("page", 0, type=int)
    return page if 0 <= page < pages else 0


def page_url() -> Callable[[int], str]:
    """The pager's link to a page: this screen's address with its other arguments kept."""
    arguments = {key: value for key, value in request.args.items() if key != "page" and value}
    return lambda number: url_for(".index", **arguments, page=number)
