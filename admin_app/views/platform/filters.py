"""List filters the practice needs beyond Flask-Admin's column filters."""

from __future__ import annotations

import datetime as dt

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.model import filters as model_filters
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from admin_app.models import Client, Participant
from admin_app.services.platform.bounds import query_value_refused
from admin_app.services.platform.clinic_time import from_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import CHOICES
from admin_app.services.platform.months import Month


class BoundedValue:
    """Mixed into a list filter: a value whose parsing fails in any way (an unknown choice is a
    KeyError, a date past year 9999 an OverflowError) or whose parsed value the database cannot
    compare is invalid, so Flask-Admin says so instead of failing on the query."""

    def validate(self, value) -> bool:
        try:
            if not super().validate(value):
                return False
            return not query_value_refused(self.clean(value))
        except (ArithmeticError, LookupError, TypeError, ValueError, RuleViolation):
            return False


_BOUNDED: dict[type, type] = {}


def bounded_filter(flt: BaseSQLAFilter) -> BaseSQLAFilter:
    """The same filter, made a `BoundedValue` (one subclass per filter class, made once)."""
    cls = type(flt)
    if not issubclass(cls, BoundedValue):
        if cls not in _BOUNDED:
            _BOUNDED[cls] = type(cls.__name__, (BoundedValue, cls), {"__module__": cls.__module__})
        flt.__class__ = _BOUNDED[cls]
    return flt


class MonthFilter(BaseSQLAFilter):
    """Rows whose instant falls in a clinic-local month (YYYY-MM); Flask-Admin hands `apply` the
    month's UTC range from `clean`, which `BoundedValue` keeps within the calendar."""

    def clean(self, value):
        try:
            return Month.parse(value).utc_range()
        except RuleViolation:
            raise ValueError(value) from None

    def apply(self, query, value, alias=None):
        start, end = value
        column = self.get_column(alias)
        return query.filter(column >= start, column < end)

    def operation(self):
        return _l("in month (YYYY-MM)")


class ParticipantClientFilter(BaseSQLAFilter):
    """Appointments in which a client (by name, client number or national ID) takes part."""

    def apply(self, query, value, alias=None):
        term = value.strip()
        matching = (
            select(Participant.appointment_id)
            .join(Client, Client.id == Participant.client_id)
            .where(
                or_(
                    Client.full_name.ilike(f"%{term}%"),
                    Client.client_number == term,
                    Client.national_id == term.upper(),
                )
            )
        )
        return query.filter(self.column.in_(matching))

    def operation(self):
        return _l("name, client no. or national ID")


def _local_instant(text: str):
    return from_local(dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S"))


class _LocalTime:
    """Datetime filters whose picker values are clinic wall-clock times."""

    def clean(self, value):
        return _local_instant(value)

    def validate(self, value) -> bool:
        try:
            self.clean(value)
        except (ValueError, RuleViolation):
            return False
        return True


class LocalGreaterFilter(_LocalTime, sqla_filters.DateTimeGreaterFilter):
    pass


class LocalSmallerFilter(_LocalTime, sqla_filters.DateTimeSmallerFilter):
    pass


class LocalBetweenFilter(_LocalTime, sqla_filters.DateTimeBetweenFilter):
    def clean(self, value):
        return [_local_instant(part) for part in value.split(" to ")]


class PracticeFilterConverter(sqla_filters.FilterConverter):
    """Flask-Admin's converter, with clinic-time instants and translated enum choices."""

    @model_filters.convert("utcdatetime")
    def conv_utc_datetime(self, column, name, **kwargs):
        return [f(column, name, **kwargs) for f in (LocalGreaterFilter, LocalSmallerFilter, LocalBetweenFilter)]

    @model_filters.convert("enum")
    def conv_enum(self, column, name, options=None, **kwargs):
        enum_class = column.type.enum_class
        labels = CHOICES.get(enum_class, {})
        options = options or [(member.name, labels.get(member.value, member.value)) for member in enum_class]
        return [f(column, name, options, **kwargs) for f in self.enum]


class LiveOptions:
    """Filter choices read when the list page renders, not once when the app starts."""

    def __init__(self, load) -> None:
        self.load = load

    def __iter__(self):
        return iter(self.load())

    def __bool__(self) -> bool:
        return True
