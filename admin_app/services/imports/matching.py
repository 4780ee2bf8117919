"""Which stored client a row means: by national ID, else client number, else email.

One rule for the clients and the appointments imports. The national ID and the client number
each name one client; when a row's two keys name two different clients, the row is in error,
naming both. Email is the last resort and a weak key (a family may share one address): it is
used only when the row gives neither a national ID nor a client number found in the practice,
only for a client whose own national ID or number the row does not contradict, and only when
exactly one such client has that address.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Client
from admin_app.services.imports import values
from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import ImportPlan
from admin_app.services.imports.rows import chunks

KEYS = ("national_id", "client_number", "email")  # in the order they are tried
# A file of another record (appointments, authorizations) names its existing client by any of
# these columns (canonical name -> key); it needs one of them.
CLIENT_COLUMNS = {"client_national_id": "national_id", "client_number": "client_number", "client_email": "email"}
CLIENT_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "client_national_id": ("dni",),
    "client_number": ("numero_cliente", "n_cliente", "client_no"),
    "client_email": ("correo_cliente",),
}


@dataclasses.dataclass(frozen=True)
class ClientKeys:
    national_id: str | None = None
    client_number: str | None = None
    email: str | None = None

    @property
    def given(self) -> bool:
        return any((self.national_id, self.client_number, self.email))


@dataclasses.dataclass(frozen=True)
class Match:
    """The stored client (None: none, a new client) and the key that found it."""

    client: object | None
    key: str | None = None


class MatchError(ValueError):
    """The row's keys point at clients in a way that cannot be right; `key` is the column to fix."""

    def __init__(self, key: str, reason) -> None:
        super().__init__(str(reason))
        self.key, self.reason = key, reason


@dataclasses.dataclass
class ClientIndex:
    """The stored clients a file's keys point at (records or rows with id, full_name and the
    three keys), read once for the whole file."""

    by_national_id: dict[str, object] = dataclasses.field(default_factory=dict)
    by_client_number: dict[str, object] = dataclasses.field(default_factory=dict)
    by_email: dict[str, list] = dataclasses.field(default_factory=lambda: defaultdict(list))

    def match(self, keys: ClientKeys) -> Match:
        """Raises MatchError when the keys disagree or the email is ambiguous."""
        by_id = self.by_national_id.get(keys.national_id) if keys.national_id else None
        by_number = self.by_client_number.get(keys.client_number) if keys.client_number else None
        if by_id is not None and by_number is not None and by_id.id != by_number.id:
            raise MatchError(
                "client_number",
                _l(
                    "matches two clients: %(first)s by national ID and %(second)s by client number",
                    first=describe(by_id),
                    second=describe(by_number),
                ),
            )
        found, key = (by_id, "national_id") if by_id is not None else (by_number, "client_number")
        if found is not None:
            _refuse_other_keys(found, keys)
            return Match(found, key)
        if not keys.email:
            return Match(None)
        candidates = [
            client
            for client in self.by_email.get(keys.email, ())
            if not (keys.national_id and client.national_id) and not keys.client_number
        ]
        if len(candidates) > 1:
            raise MatchError(
                "email",
                _l(
                    "%(value)s is the email of several clients (%(names)s): add the national ID or client "
                    "number to say which",
                    value=keys.email,
                    names=", ".join(sorted(describe(client) for client in candidates)),
                ),
            )
        return Match(candidates[0], "email") if candidates else Match(None)


def _refuse_other_keys(client, keys: ClientKeys) -> None:
    """A client found by one key whose other stored key the row contradicts: a wrong row, not
    a change to make (national IDs and client numbers are changed on the client's screen)."""
    if keys.national_id and client.national_id and keys.national_id != client.national_id:
        raise MatchError(
            "national_id",
            _l(
                "%(client)s has the national ID %(stored)s, not %(value)s",
                client=describe(client),
                stored=client.national_id,
                value=keys.national_id,
            ),
        )
    if keys.client_number and keys.client_number != client.client_number:
        raise MatchError(
            "client_number",
            _l(
                "%(client)s has the client number %(stored)s, not %(value)s",
                client=describe(client),
                stored=client.client_number,
                value=keys.client_number,
            ),
        )


def existing_client(index: ClientIndex, keys: ClientKeys) -> Match:
    """The stored client the keys name; raises MatchError when none is (an import of another
    record never creates a client) or the keys disagree."""
    found = index.match(keys)
    if found.client is None:
        key = next(key for key in KEYS if getattr(keys, key))
        raise MatchError(key, NOT_FOUND[key](getattr(keys, key)))
    return found


NOT_FOUND = {
    "national_id": lambda value: _l("no client has the national ID %(value)s", value=value),
    "client_number": lambda value: _l("no client has the client number %(value)s", value=value),
    "email": lambda value: _l("no client has the email %(value)s", value=value),
}


def key_column(key: str) -> str:
    """The file's column (of CLIENT_COLUMNS) that holds a key."""
    return next(name for name, found in CLIENT_COLUMNS.items() if found == key)


def has_client_column(result: ImportPlan, table: Table) -> bool:
    """Whether the file has a column naming the client; when not, says so on the header row."""
    if any(name in table.headers for name in CLIENT_COLUMNS):
        return True
    result.error(
        1,
        "client_national_id",
        _l(
            "the file needs a column that names the client: client_national_id, client_number or client_email "
            "(dni, numero_cliente, correo_cliente)"
        ),
    )
    return False


def client_keys(row: Row, key_column: str, column: dict, result: ImportPlan, parsers: dict) -> ClientKeys | None:
    """The row's keys of its client (None: a key cell is wrong, or none is given; said on the
    plan, for a missing key on `key_column`). `column`: canonical name -> header as written;
    `parsers`: one per column of CLIENT_COLUMNS."""
    found, ok = {}, True
    for name, key in CLIENT_COLUMNS.items():
        try:
            found[key] = parsers[name](row.values.get(name, ""))
        except values.CellError as error:
            result.error(row.number, column[name], error.reason)
            ok = False
    keys = ClientKeys(**found)
    if ok and not keys.given:
        result.error(row.number, column[key_column], _l("a value is required"))
    return keys if ok and keys.given else None


def first_client_column(table: Table) -> str:
    """The file's first column of CLIENT_COLUMNS (where a row naming no client is reported)."""
    return next(name for name in CLIENT_COLUMNS if name in table.headers)


def describe(client) -> str:
    return f"{client.full_name} (#{client.client_number})"


def load_client_index(session: Session, keys: Iterable[ClientKeys], *, columns=None) -> ClientIndex:
    """The clients any of `keys` point at, in a few queries whatever the number of rows.

    `columns`: what to read of each client (default: the records themselves, to be updated).
    """
    keys = list(keys)
    wanted = columns or (Client,)
    index = ClientIndex()
    for key, found in (
        ("national_id", index.by_national_id),
        ("client_number", index.by_client_number),
    ):
        given = {getattr(k, key) for k in keys} - {None}
        for chunk in chunks(sorted(given)):
            for client in _rows(session, select(*wanted).where(getattr(Client, key).in_(chunk)), columns):
                found[getattr(client, key)] = client
    emails = {k.email for k in keys} - {None}
    for chunk in chunks(sorted(emails)):
        for client in _rows(session, select(*wanted).where(Client.email.in_(chunk)), columns):
            index.by_email[client.email].append(client)
    return index


def _rows(session: Session, query, columns):
    return session.execute(query) if columns else session.scalars(query)


def parse_national_id(text: str) -> str | None:
    """As the client screen keeps it: upper case; empty is none."""
    return values.text(text, max_length=40, is_required=False) and text.upper()


def parse_client_number(text: str) -> str | None:
    return values.text(text, max_length=20, is_required=False)


def count_matches(matches: Iterable[str | None]) -> dict[str, int]:
    """How many rows each key matched, in the order of KEYS (keys that matched none left out)."""
    counted = defaultdict(int)
    for key in matches:
        if key is not None:
            counted[key] += 1
    return {key: counted[key] for key in KEYS if counted[key]}


def matched_summary(matched: dict[str, int]) -> str | None:
    """ "Clients matched by national ID: 12, by client number: 3, by email: 1." (None: no match)."""
    if not matched:
        return None
    words = {
        "national_id": lambda num: gettext("by national ID: %(num)d", num=num),
        "client_number": lambda num: gettext("by client number: %(num)d", num=num),
        "email": lambda num: gettext("by email: %(num)d", num=num),
    }
    return gettext("Clients matched %(counts)s.", counts=", ".join(words[key](count) for key, count in matched.items()))
