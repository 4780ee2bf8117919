"""The declarative base, the column types every aggregate shares, and the money/time rules."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import DateTime, Enum, Index, MetaData, Numeric, String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An instant: stored in UTC, always returned timezone-aware.

    SQLite keeps no offset, so the value is written as naive UTC there; PostgreSQL keeps a
    `timestamptz`. A naive datetime is refused on write: whether it was local or UTC cannot
    be known, and guessing is how appointments move by five hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; attach a time zone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


POSTGRESQL_ONLY = {"dialect": "postgresql"}  # an object's `info`: migrations/env.py compares it on PostgreSQL only


def trigram_index(table: str, column: str) -> Index:
    """A GIN trigram index for the `ILIKE '%term%'` of a list's search (pg_trgm; PostgreSQL only:
    SQLite has no such index and scans). The operator class is named with its schema, `public`,
    where migration 0020 creates the extension: a schema's search_path need not include it."""
    return Index(
        f"ix_{table}_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "public.gin_trgm_ops"},
        info=POSTGRESQL_ONLY,
    ).ddl_if(dialect="postgresql")


Money = Numeric(12, 2, asdecimal=True)
Percent = Numeric(5, 2, asdecimal=True)
CurrencyCode = String(3)


def str_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, values (not names) stored."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {Decimal: Money}


def utcnow() -> dt.datetime:
    """The current instant: the one place the application reads the clock (the tests set it, tests/conftest.py)."""
    return dt.datetime.now(dt.UTC)
