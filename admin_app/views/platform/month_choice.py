"""The month chooser of the report, payout, survey and room-use screens.

A `<select>` of months named in the reader's language ("noviembre de 2026"), sending `YYYY-MM`.
`<input type="month">` was shown in the browser's language, not the user's (Chromium), or as a bare
text box (Firefox, Safari): a Spanish user read "November 2026", or had to type a format.
"""

from __future__ import annotations

from flask_babel import get_locale

from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import FIRST, LAST, Month

YEARS_BACK, MONTHS_AHEAD = 3, 12


def month_choices(selected=None) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of the months around today, newest first: three years back, a year
    ahead, and the chosen month wherever it is."""
    current = Month.containing(clinic_time.today())
    try:
        chosen = selected if isinstance(selected, Month) else Month.parse(str(selected or current))
    except RuleViolation:  # a month typed in the address that no report has: today's is shown
        chosen = current
    first = max(FIRST, min(chosen, current.shift(-12 * YEARS_BACK)))
    last = min(LAST, max(chosen, current.shift(MONTHS_AHEAD)))
    locale = str(get_locale())
    return [(str(month), month.label(locale), month == chosen) for month in reversed(first.until(last))]
