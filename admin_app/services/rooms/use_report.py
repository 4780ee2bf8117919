"""The room use report as a file: a month's figures as JSON (`flask report rooms`), a month or a
range of months as CSV (the command and the Room use screen) and as Excel (the screen).

JSON: `{"month", "timezone", "rooms": [{"site", "room", "reserved_hours", "used_hours", "use"}],
"therapists": [{"email", "name", "reserved_hours", "used_hours", "unreserved_hours", "use"}]}`; hours
are numbers with two decimals, use a fraction with three decimals, null when nothing is reserved.
Rooms by site and room, therapists by name: each one that reserved something or was used on site.

CSV: one table, a row per month and line, with a `kind` column (`site`, `room`, `therapist`, then
`room_therapist`: a therapist in one room); a cell a kind does not have (a site's room, a room's
email) is empty, as is the use of a row with nothing reserved. Excel: the range's totals, a sheet
per kind with headers in the reader's language, then the use of each site per month (the chart's
figures). The files name therapists and how they use their rooms, so each is recorded in the
audit trail as an export.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from admin_app.models import RoomReservation
from admin_app.services.platform import documents
from admin_app.services.platform.documents.spreadsheets import Sheet
from admin_app.services.platform.months import Month
from admin_app.services.rooms.room_use import RoomUse, RoomUseTable, UseFigures, room_use

FIGURES = (
    "reserved_hours",
    "booked_hours",
    "used_hours",
    "no_show_hours",
    "cancelled_hours",
    "unreserved_hours",
    "use",
)
CSV_COLUMNS = ("month", "kind", "site", "room", "email", "name", *FIGURES)
EXPORT = documents.Export(f"{RoomReservation.__tablename__}:use")


def room_use_report(session: Session, month: Month) -> dict:
    """The month's room use as a JSON-ready dict (the module docstring has its shape)."""
    use = room_use(session, month)
    return {
        "month": str(month),
        "timezone": use.timezone,
        "rooms": [
            {
                "site": line.site,
                "room": line.room,
                "reserved_hours": float(line.figures.reserved_hours),
                "used_hours": float(line.figures.used_hours),
                "use": _number(line.figures.use),
            }
            for line in use.total.rooms
        ],
        "therapists": [
            {
                "email": line.email,
                "name": line.name,
                "reserved_hours": float(line.figures.reserved_hours),
                "used_hours": float(line.figures.used_hours),
                "unreserved_hours": float(line.figures.unreserved_hours),
                "use": _number(line.figures.use),
            }
            for line in use.total.therapists
        ],
    }


def room_use_json(session: Session, month: Month) -> documents.Document:
    text = json.dumps(room_use_report(session, month), ensure_ascii=False, indent=2) + "\n"
    return documents.text_document(
        session, text, mimetype="application/json", filename=_name(month, month, "json"), export=EXPORT
    )


def room_use_csv(session: Session, first_month: Month, last_month: Month | None = None) -> documents.Document:
    """Every line of every month of the range in one table (the module docstring says how)."""
    last_month = last_month or first_month
    use = room_use(session, first_month, last_month)
    rows = [
        (str(month), kind, *names, *_figures(figures))
        for month, table in use.months.items()
        for kind, names, figures in _lines(table)
    ]
    return documents.csv_document(
        session, CSV_COLUMNS, rows, filename=_name(first_month, last_month, "csv"), export=EXPORT
    )


def room_use_xlsx(session: Session, first_month: Month, last_month: Month, language: str) -> documents.Document:
    """A sheet per kind of line with the range's totals, then each site's use per month."""
    use = room_use(session, first_month, last_month)
    with force_locale(language):
        figure_headers = [
            gettext("Reserved hours"),
            gettext("Booked hours"),
            gettext("Used hours"),
            gettext("No-show hours"),
            gettext("Cancelled hours"),
            gettext("Unreserved hours"),
            gettext("Use"),
        ]
        site, room, therapist, email = gettext("Site"), gettext("Room"), gettext("Therapist"), gettext("Email")
        sheets = [
            _sheet(gettext("Sites"), [site], figure_headers, [([line.site], line.figures) for line in use.total.sites]),
            _sheet(
                gettext("Rooms"),
                [site, room],
                figure_headers,
                [([line.site, line.room], line.figures) for line in use.total.rooms],
            ),
            _sheet(
                gettext("Therapists"),
                [therapist, email],
                figure_headers,
                [([line.name, line.email], line.figures) for line in use.total.therapists],
            ),
            _sheet(
                gettext("Therapists by room"),
                [site, room, therapist, email],
                figure_headers,
                [([line.site, line.room, line.name, line.email], line.figures) for line in use.total.room_therapists],
            ),
            Sheet(gettext("Use by site and month"), _site_months(use, gettext("Month"))),
        ]
    return documents.workbook_document(session, sheets, filename=_name(first_month, last_month, "xlsx"), export=EXPORT)


def site_use_by_month(use: RoomUse) -> dict[str, list[Decimal | None]]:
    """Each site's use in each month of the range, in order (None: nothing reserved that month);
    every site of the range has a series, by name."""
    sites = [line.site for line in use.total.sites]
    per_month = [{line.site: line.figures.use for line in table.sites} for table in use.months.values()]
    return {site: [month.get(site) for month in per_month] for site in sites}


def _lines(table: RoomUseTable) -> Iterator[tuple[str, tuple, UseFigures]]:
    """(kind, (site, room, email, name), figures) of every line of a table, kinds in CSV order."""
    for line in table.sites:
        yield "site", (line.site, None, None, None), line.figures
    for line in table.rooms:
        yield "room", (line.site, line.room, None, None), line.figures
    for line in table.therapists:
        yield "therapist", (None, None, line.email, line.name), line.figures
    for line in table.room_therapists:
        yield "room_therapist", (line.site, line.room, line.email, line.name), line.figures


def _figures(figures: UseFigures) -> tuple:
    return tuple(getattr(figures, name) for name in FIGURES)


def _sheet(title: str, names: list[str], figure_headers: list[str], lines: list[tuple[list, UseFigures]]) -> Sheet:
    return Sheet(title, [[*names, *figure_headers], *([*cells, *_figures(figures)] for cells, figures in lines)])


def _site_months(use: RoomUse, month_header: str) -> list[list]:
    series = site_use_by_month(use)
    rows = [[str(month), *(values[index] for values in series.values())] for index, month in enumerate(use.months)]
    return [[month_header, *series], *rows]


def _number(fraction: Decimal | None) -> float | None:
    return None if fraction is None else float(fraction)


def _name(first_month: Month, last_month: Month, extension: str) -> str:
    months = [str(first_month)] if first_month == last_month else [str(first_month), str(last_month)]
    return documents.file_name("room-use", *months, extension=extension)
