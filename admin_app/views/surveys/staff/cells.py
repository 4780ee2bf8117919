"""Column labels and cell formatters of the survey screens (lists, details, the results tables)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal

from babel import numbers as babel_numbers
from flask import url_for
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from admin_app.models import SurveyResponse
from admin_app.services.platform.labels import FIELDS
from admin_app.services.surveys.stats import RatingLine

COMMENT_PREVIEW = 80
NO_VALUE = "—"

LABELS = {
    "month": FIELDS["month"],
    "client": FIELDS["client"],
    "recipient": _l("Sent to"),
    "language": FIELDS["locale"],
    "created_at": FIELDS["created_at"],
    "opened_at": _l("Opened"),
    "answered_at": _l("Answered"),
    "expires_at": _l("Expires"),
    "state": _l("State"),
    "submitted_at": _l("Submitted"),
    "nps_score": _l("Recommendation (0–10)"),
    "nps_group": _l("NPS group"),
    "ratings": _l("Stars per therapist"),
    "comment": _l("Comment"),
}


def client_link(client) -> Markup:
    url = url_for("client.details_view", id=client.id)
    return Markup(f'<a href="{escape(url)}">{escape(client.full_name)}</a>')


def ratings_text(response: SurveyResponse) -> str:
    """ "Ana Ruiz: 5★; Bruno Díaz: 4★", by therapist name (the therapists come with the page)."""
    ratings = sorted(response.ratings, key=lambda r: (r.therapist.full_name.casefold(), r.therapist_id))
    return "; ".join(f"{rating.therapist.full_name}: {rating.stars}★" for rating in ratings)


def short_comment(comment: str | None) -> str:
    if not comment:
        return ""
    flat = " ".join(comment.split())
    return flat if len(flat) <= COMMENT_PREVIEW else flat[: COMMENT_PREVIEW - 1].rstrip() + "…"


def full_comment(_view, _context, response: SurveyResponse, _name) -> Markup | str:
    if not response.comment:
        return ""
    return Markup(f'<div class="survey-comment" style="white-space: pre-wrap">{escape(response.comment)}</div>')


def one_decimal(value) -> str:
    return NO_VALUE if value is None else format_decimal(value, format="0.0")


def rate(value) -> str:
    return NO_VALUE if value is None else format_percent(value / 100, format="0.0%")


def stars_cells() -> Callable[[RatingLine | None], str]:
    """The page's `stars(line)`: "4.67 (3)", the average and the number of ratings, a dash for a
    month without. The reader's language is looked up once a page and each average formatted once
    per language: the stars table of 200 therapists x 12 months is 2,400 cells of a few dozen
    averages, and Babel's pattern parsing and Flask-Babel's locale lookup were half its render."""
    language = str(get_locale())

    def stars(line: RatingLine | None) -> str:
        if line is None:
            return NO_VALUE
        return f"{_two_decimals(line.average, language)} ({line.ratings})"

    return stars


@functools.lru_cache(maxsize=1024)
def _two_decimals(average: Decimal, language: str) -> str:
    return babel_numbers.format_decimal(average, format="0.00", locale=language)
