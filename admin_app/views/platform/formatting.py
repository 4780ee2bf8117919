"""How values look on screen and in exports: clinic-local times, labelled choices, money in the
reader's language, safe cells."""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass
from decimal import Decimal

from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import DateTimeField
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_babel import LazyString, format_date, format_decimal, format_percent, get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import TextInput

from admin_app.services.platform import bounds
from admin_app.services.platform.clinic_time import from_local, to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import choice_label
from admin_app.services.platform.money import format_money, money_formatter

LOCAL_FORMAT = "%Y-%m-%d %H:%M"
NO_VALUE = "—"
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what a datetime-local input sends, and links (the book's slots) carry
WALL_TIME_FORMATS = [INPUT_FORMAT, LOCAL_FORMAT, "%Y-%m-%d %H:%M:%S"]  # what a clinic time is read from


@dataclass(frozen=True)
class TypedFormat:
    """How a language writes a clinic date and time in a form: shown so, typed so, and said so."""

    pattern: str  # strftime/strptime
    hint: str  # lazy: the field's description
    error: str  # lazy: what a value in no format we read is told


ISO_TYPED = TypedFormat(
    LOCAL_FORMAT, _l("Clinic time, YYYY-MM-DD HH:MM"), _l("Expected a date and time as YYYY-MM-DD HH:MM")
)
DAY_FIRST_TYPED = TypedFormat(
    "%d/%m/%Y %H:%M", _l("Clinic time, DD/MM/YYYY HH:MM"), _l("Expected a date and time as DD/MM/YYYY HH:MM")
)
# Spanish and French write the day first. English keeps the ISO order: it is Canada's own short
# date (en_CA), and unlike the US month-first order nobody reads 06/12 the other way round.
TYPED_FORMATS = {"es": DAY_FIRST_TYPED, "fr": DAY_FIRST_TYPED}


def typed_format() -> TypedFormat:
    """The reader's way of writing a date and time (ISO outside a request)."""
    locale = get_locale()
    return TYPED_FORMATS.get(locale.language, ISO_TYPED) if locale is not None else ISO_TYPED


def wall_time(text: str) -> dt.datetime | None:
    """A naive clinic wall time typed (in the reader's format) or sent by a form or a link (ISO);
    None when it is none."""
    for fmt in (typed_format().pattern, *WALL_TIME_FORMATS):
        try:
            return dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def local_datetime(_view, value: dt.datetime, *_args) -> str:
    return to_local(value).strftime(LOCAL_FORMAT)


def short_date(_view, value: dt.date, *_args) -> str:
    return medium_date(value)


def amount(_view, value: Decimal, *_args) -> str:
    """A plain decimal, for exports a machine reads."""
    return f"{value:.2f}"


def decimal_number(_view, value: Decimal, *_args) -> str:
    """A decimal (a percent, an amount whose currency is in another column) with the reader's
    language's separators: 1.234,50 in Spanish, 1 234,50 in French."""
    return format_decimal(value, "#,##0.00")


def once_per_language(function):
    """`function(value)`, a text that depends only on the value and the reader's language, worked
    out once per language and value: a list asks it of every cell, and a translation is a catalogue
    lookup each time. The value's type is part of the key: members of two StrEnums with the same
    value are equal to each other (an appointment's "held" and a message's "held" read differently)."""

    @functools.lru_cache(maxsize=512)
    def in_language(_language: str, _kind: type, value):
        return function(value)

    @functools.wraps(function)
    def cached(value):
        return in_language(str(get_locale()), type(value), value)

    return cached


@once_per_language
def medium_date(day: dt.date) -> str:
    """A list's or a report's dates ("Oct 14, 2026"): Babel works out the pattern and the month names
    on every call, and a page shows the same few days."""
    return format_date(day, "medium")


def yes_no(_view, value: bool, *_args) -> Markup:
    """Flask-Admin's check or minus icon, titled in the reader's language (its own title reads
    `survey_opt_out: false`)."""
    return _yes_no_icon(bool(value))


@once_per_language
def _yes_no_icon(value: bool) -> Markup:
    word = gettext("Yes") if value else gettext("No")
    icon = "fa-check-circle" if value else "fa-minus-circle"
    return Markup(f'<span class="fa {icon}" role="img" title="{escape(word)}" aria-label="{escape(word)}"></span>')


def money(amount: Decimal | None, currency: str, language: str | None = None) -> str:
    """The `money` template filter, `{{ fee|money(currency) }}`: the amount in the reader's
    language (or `language`, for a document written in another); no amount shows as a dash."""
    return NO_VALUE if amount is None else format_money(amount, currency, language)


def money_column(currency_attribute: str):
    """The list and details formatter of an amount column: the row's amount in the row's currency
    (`currency_attribute`), in the reader's language. Exports keep the plain number: a view that
    uses it sets `column_formatters_export` (Flask-Admin would otherwise reuse this one)."""

    def formatter(_view, _context, model, name) -> str:
        value = getattr(model, name)
        return "" if value is None else format_money(value, getattr(model, currency_attribute))

    return formatter


def choice(_view, value: enum.Enum, *_args) -> str:
    return _choice_text(value)


@once_per_language
def _choice_text(value: enum.Enum) -> str:
    return str(choice_label(value))


def choice_texts(enum_class: type[enum.Enum]) -> dict[enum.Enum, str]:
    """Every member's label in the reader's language, for a page that shows hundreds of them (the
    book's attendances): a lookup in the page's dict instead of a filter call each."""
    return {member: _choice_text(member) for member in enum_class}


# Order matters: the first matching type wins, and a StrEnum is also a str. Flask-Admin's own
# formatters come first so that ours replace its `Enum` entry (which shows the member's name).
LIST_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    enum.Enum: choice,
    dt.datetime: local_datetime,
    dt.date: short_date,
    Decimal: decimal_number,
    bool: yes_no,
}
EXPORT_FORMATTERS = {
    **typefmt.EXPORT_FORMATTERS,
    enum.Enum: choice,
    dt.datetime: local_datetime,
    Decimal: amount,
}
DETAIL_FORMATTERS = {**LIST_FORMATTERS, **typefmt.DETAIL_FORMATTERS, enum.Enum: choice, bool: yes_no}


class LocalDateTimeField(DateTimeField):
    """Shows and reads clinic wall-clock time in the reader's format (`typed_format`: DD/MM/YYYY
    HH:MM in Spanish and French); the model receives an aware UTC instant.

    A plain text input: the browser's `datetime-local` control writes the date in the browser's
    order (mm/dd/yyyy in an American browser), whatever the screen's language, and Flask-Admin's
    picker cannot be typed into. The ISO forms (`YYYY-MM-DDTHH:MM`, `YYYY-MM-DD HH:MM`) are read too:
    links and scripts send them.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        # Flask-Admin always passes `description` (None when the view sets none).
        kwargs["description"] = kwargs.get("description") or LazyString(lambda: str(typed_format().hint))
        super().__init__(label, validators, format=LOCAL_FORMAT, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return to_local(self.data).strftime(typed_format().pattern) if self.data else ""

    def process_formdata(self, valuelist) -> None:
        self.data = None
        typed = typed_wall_time(valuelist)
        if typed is None:
            return
        try:
            self.data = from_local(typed)
        except RuleViolation as error:
            raise ValueError(str(error)) from None


def typed_wall_time(valuelist) -> dt.datetime | None:
    """A form's clinic wall time as typed (the reader's format, or ISO); None when left empty.

    Raises ValueError with the reason (in the reader's language) for text that is no date and time
    in range; str(): Flask-Admin shows only plain-string errors under a field (`is_field_error`)."""
    text = " ".join(valuelist).strip() if valuelist else ""
    if not text:
        return None
    typed = wall_time(text)
    if typed is None:
        raise ValueError(str(typed_format().error))
    if bounds.date_problem(typed) is not None:
        raise ValueError(str(bounds.date_problem(typed)))
    return typed


class ColumnBound:
    """A form field's share of `bounds.column_problem`: the reason under the field, before any save."""

    def __init__(self, column) -> None:
        self.column = column

    def __call__(self, _form, field) -> None:
        if isinstance(field.data, str) and "\x00" not in field.data:
            return  # the length: Flask-Admin's own Length validator, from the same column
        reason = bounds.column_problem(self.column, field.data)
        if reason is not None:
            # Stop: the validators after this one (Flask-Admin's Unique) would query with the value.
            raise StopValidation(str(reason))


def known_choice(_form, field) -> None:
    """A related-record choice that names no record is refused (Flask-Admin would save it as empty)."""
    raw = (field.raw_data or [""])[0]
    if raw not in ("", "__None") and field.data is None and not field.errors:
        raise ValidationError(field.gettext("Not a valid choice"))


class ModelConverter(AdminModelConverter):
    """Flask-Admin's converter, taught that UTC instants are entered in clinic time."""

    def convert(self, model, mapper, name, prop, field_args, hidden_pk):
        """Every field written to a column is bounded as the column's rule says; every choice of a
        related record must name one, and its blank choice reads as a dash (WTForms 3.3 shows an
        empty label's value instead: "__None")."""
        field_args = dict(field_args or {})
        field_args["validators"] = list(field_args.get("validators") or [])
        if hasattr(prop, "direction"):
            field_args["validators"].append(known_choice)
        elif getattr(prop, "columns", None):
            field_args["validators"].append(ColumnBound(prop.columns[0]))
        field = super().convert(model, mapper, name, prop, field_args, hidden_pk)
        if field is not None and issubclass(field.field_class, QuerySelectField):
            field.kwargs["blank_text"] = field.kwargs.get("blank_text") or NO_VALUE
        return field

    @converts("UTCDateTime")
    def convert_utc_datetime(self, field_args, **_extra):
        return LocalDateTimeField(**field_args)


def percent(fraction: Decimal | None, digits: str = "0.0") -> str:
    """A fraction as a percent with one decimal (or as `digits` says: "0.##" up to two), spaced as
    the reader's language writes it ("14.6%", "14,6 %"); a dash for no value."""
    if fraction is None:
        return "—"
    pattern = get_locale().percent_formats[None].pattern.replace("0", digits, 1)
    return format_percent(fraction, format=pattern)


def register_template_filters(app) -> None:
    """Clinic-time, label and money filters for our own templates."""
    app.add_template_filter(lambda instant: to_local(instant).strftime("%H:%M"), "clinic_time")
    app.add_template_filter(_choice_text, "choice")  # a list asks it of every row: once per language
    app.add_template_filter(lambda day: format_date(day, "EEE d MMM y"), "long_date")
    app.add_template_filter(lambda day: format_date(day, "EEEE"), "weekday")
    app.add_template_filter(money, "money")
    # A table of many amounts in one currency: `{% set as_money = money_formatter(currency) %}`.
    app.add_template_global(money_formatter, "money_formatter")
