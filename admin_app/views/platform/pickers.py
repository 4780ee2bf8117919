"""The words of Flask-Admin's JavaScript widgets in the reader's language.

Flask-Admin ships Select2 3.5, bootstrap-daterangepicker 1.3 and moment 2.9 in English only, with no
locale files: "Please enter 1 or more character", "No matches found", Apply/Cancel, January, Mo Tu We.
The base template hands these texts (ours, translated like any other message; month and day names from
Babel's data for the locale) to static/js/picker-locale.js, which makes them the widgets' defaults.
"""

from __future__ import annotations

from flask_babel import get_locale, gettext

SUNDAY_FIRST = (6, 0, 1, 2, 3, 4, 5)  # moment's weekday order; Babel counts from Monday (0)


def picker_texts() -> dict:
    locale = get_locale()
    days = locale.days["format"]
    months = locale.months["format"]
    return {
        "language": str(locale),
        "select2": {
            "noMatches": gettext("No matches found"),
            # `{n}` is filled in by the script: how many characters more (or fewer) to type.
            "inputTooShort": [gettext("Type 1 more character"), gettext("Type {n} more characters")],
            "inputTooLong": [gettext("Delete 1 character"), gettext("Delete {n} characters")],
            "selectionTooBig": [gettext("You can only select 1 item"), gettext("You can only select {n} items")],
            "loadMore": gettext("Loading more results…"),
            "searching": gettext("Searching…"),
            "ajaxError": gettext("The results could not be loaded."),
        },
        "daterangepicker": {
            "applyLabel": gettext("Apply"),
            "cancelLabel": gettext("Cancel"),
            "fromLabel": gettext("From"),
            "toLabel": gettext("To"),
            "weekLabel": gettext("Wk"),
            "customRangeLabel": gettext("Custom range"),
        },
        "moment": {
            "months": [months["wide"][number] for number in range(1, 13)],
            "monthsShort": [months["abbreviated"][number] for number in range(1, 13)],
            "weekdays": [days["wide"][day] for day in SUNDAY_FIRST],
            "weekdaysShort": [days["abbreviated"][day] for day in SUNDAY_FIRST],
            "weekdaysMin": [days["short"][day] for day in SUNDAY_FIRST],
            "week": {"dow": (locale.first_week_day + 1) % 7, "doy": 4},
        },
    }
