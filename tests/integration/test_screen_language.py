"""No English on a Spanish or French screen (issue 21, "Language").

Every screen the app registers is rendered for a user of each language: every page of both
Flask-Admin areas (a model view's list, create, details and edit pages, with the id of a record of
a small practice), the sign-in, reset and two-step pages, and the error pages. What a person reads
on it (text, button labels, placeholders, titles; never scripts or styles) must hold none of the
English words below. The screens come from the app's url_map, as in tests/integration/test_url_walk.py,
so a screen added later is checked without editing this file.
"""

from __future__ import annotations

import html.parser
import json
import re

import pytest
from sqlalchemy import select, update

from admin_app.extensions import db, limiter
from admin_app.models import Client, ClientLink, LinkKind, MessageStatus, Participant, User
from admin_app.services import imports
from tests.conftest import login
from tests.factories import PASSWORD, make_admin, make_client
from tests.integration.test_outbox_screen import make_message
from tests.integration.test_url_walk import SIGNING_OUT, view_models, walked_rules
from tests.isolation import rule_arguments, two_caseloads

# English a Spanish or French screen never shows: Flask-Admin's, Select2's and the pickers' words, ours,
# and the small words of an English sentence. Whole words, as written (a name or a brand is no word here).
ENGLISH = [
    "Failed to create record",
    "Please enter",
    "No matches found",
    "Nuevo Participantes",
    "Salvar",
    "__None",
    "Save",
    "Cancel",
    "Delete",
    "Search",
    "Filter",
    "Apply",
    "Export",
    "Today",
    "Loading",
    "Next",
    "Previous",
    "Select",
    "Create",
    "Edit",
    "View",
    "Details",
    "Add",
    "Yes",
    "record",
    "Record",
    "records",
    "None",
    "January",
    "February",
    "March",
    "April",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "the",
    "The",
    "and",
    "of",
    "with",
    "to",
    "is",
    "are",
    "for",
    "your",
    "You",
    "you",
    "this",
    "This",
]
# A name from the code shown raw (`survey_invitation`, `answered_at`): a table, a column, a template.
RAW_NAME = r"[a-z]+(?:_[a-z0-9]+)+"
ENGLISH_PATTERN = re.compile(
    r"(?<![\w.@/-])(" + "|".join([*(re.escape(word) for word in ENGLISH), RAW_NAME]) + r")(?![\w@/-])"
)

# What else a person reads besides the text: a button's label, a field's hint and a link's tooltip.
READ_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "data-placeholder"}


class ReadableText(html.parser.HTMLParser):
    """The words of a page a person reads: text and the attributes above (the value of a button, not
    of a field: that is data). Left out: scripts, styles, Flask-Admin's hidden filter data, names a
    machine reads (`<code>`: a spreadsheet's column names) and parts in another language said so
    (`lang`: the language menu, an email previewed in the recipient's language). The row Flask-Admin
    adds to an inline list is kept as escaped HTML in a hidden element: it is read as the page it becomes."""

    SKIPPED = ("script", "style", "template", "code", "textarea")
    HIDDEN_DATA = ("filter-groups-data", "active-filters-data", "actions-confirmation-data", "message-data")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: tuple[str, int] | None = None  # the skipped element's tag and how deep in it
        self._inline_row = False
        self._language: str | None = None  # the page's own, on <html>

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        if self._skipping:
            if tag == self._skipping[0]:
                self._skipping = (tag, self._skipping[1] + 1)
            return
        if tag == "html":
            self._language = values.get("lang")
        elif tag in self.SKIPPED or values.get("lang", self._language) != self._language:
            self._skipping = (tag, 1)
            return
        if values.get("id") in self.HIDDEN_DATA:
            self._skipping = (tag, 1)
            return
        self._inline_row = "inline-field-template" in (values.get("class") or "")
        if values.get("type") == "hidden":
            return
        self.parts += [value for name, value in attrs if name in READ_ATTRIBUTES and value]
        if tag == "input" and values.get("type") in ("submit", "button", "reset") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag) -> None:
        self._inline_row = False
        if self._skipping and tag == self._skipping[0]:
            depth = self._skipping[1] - 1
            self._skipping = (tag, depth) if depth else None

    def handle_data(self, data) -> None:
        if self._skipping:
            return
        self.parts.append(readable(data) if self._inline_row else data)


def readable(page: str) -> str:
    parser = ReadableText()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def english_in(page: str, typed: tuple[str, ...] = ()) -> list[str]:
    """Each English word of the page, with a little of what surrounds it; what the practice typed
    (`typed`: a client's comment, a note) is theirs, not the screen's."""
    text = readable(page)
    for words in typed:
        text = text.replace(words, "")
    return [
        f"{found.group(1)!r} in “…{text[max(0, found.start() - 40) : found.end() + 40]}…”"
        for found in ENGLISH_PATTERN.finditer(text)
    ]


class Screens:
    """Renders screens for one signed-in (or anonymous) visitor and gathers the English found."""

    def __init__(self, client, headers: dict | None = None, typed: tuple[str, ...] = ()) -> None:
        self.client, self.headers, self.typed = client, headers or {}, typed
        self.problems: list[str] = []
        self.rendered = 0

    def read(self, url: str, query: dict | None = None, screen: str | None = None, error: bool = False) -> None:
        """Reads a screen; an error page only when `error` says one is expected (they have their test)."""
        response = self.client.get(url, query_string=query or {}, headers=self.headers, follow_redirects=True)
        if not response.content_type.startswith("text/html") or (response.status_code >= 400) != error:
            return
        self.rendered += 1
        where = screen or url + (f"?{'&'.join(f'{k}={v}' for k, v in (query or {}).items())}" if query else "")
        self.problems += [
            f"{where} ({response.status_code}): {found}" for found in english_in(response.text, self.typed)
        ]


def first_ids(app) -> dict[type, int]:
    """The first record of every model a Flask-Admin view lists."""
    return {
        model: record_id
        for model in set(view_models(app).values())
        if (record_id := db.session.scalar(select(model.id).order_by(model.id).limit(1))) is not None
    }


def read_area(screens: Screens, app, prefix: str, ids: dict[type, int], client_id: int) -> None:
    """Every page of an area (`/admin` or `/portal`): a list view's pages open its first record."""
    models = view_models(app)
    for rule in walked_rules(app):
        if not rule.rule.startswith(prefix) or "GET" not in rule.methods or rule.endpoint in SIGNING_OUT:
            continue
        if "/ajax/" in rule.rule or rule.endpoint.endswith((".export", ".static")):
            continue
        model = models.get(rule.endpoint.rpartition(".")[0])
        url = rule.build(rule_arguments(rule, ids))[1]
        record_id = ids.get(model, ids[Client])
        screens.read(url, {"id": record_id, "month": "2026-11", "client": client_id})


def spreadsheet_columns() -> tuple[str, ...]:
    """The column names an import reads (`terms_from [vigente_desde]`): words a user types in a header."""
    return tuple(
        word
        for module in imports.KINDS.values()
        for name, aliases in module.COLUMNS.items()
        for word in (name, *aliases)
        if "_" in word
    )


def small_practice():
    """Two therapists' caseloads and a link between two clients (every list has a row), and what
    the practice typed into them."""
    rosa, jorge = two_caseloads()
    guardian = make_client(full_name="Lucía Ríos")
    db.session.add(ClientLink(client=guardian, related_client=rosa.client, kind=LinkKind.GUARDIAN_OF))
    participant = db.session.get(Participant, rosa.ids[Participant])
    starts_at = participant.appointment.starts_at.isoformat()
    make_message(
        rosa.client.email, MessageStatus.SENT, context={"participant_id": participant.id, "starts_at": starts_at}
    )
    db.session.commit()
    return rosa, rosa.secrets + jorge.secrets


def sign_in(client, email: str) -> None:
    db.session.execute(update(User).where(User.email == email).values(failed_logins=0, locked_until=None))
    db.session.commit()
    assert login(client, email, PASSWORD).status_code == 302


@pytest.fixture
def fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


def fail_on(screens: Screens, locale: str, least: int) -> None:
    assert screens.rendered >= least, screens.rendered  # the url_map really was read
    if screens.problems:
        pytest.fail(
            f"English on {locale} screens ({len(screens.problems)}):\n" + "\n".join(screens.problems), pytrace=False
        )


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
@pytest.mark.parametrize("locale", ["es", "fr"])
def test_every_staff_screen_is_in_the_users_language(app, client, locale, tmp_path, monkeypatch, fresh_limits):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # the approval letters' folder
    rosa, typed = small_practice()
    make_admin(locale=locale)
    db.session.commit()
    sign_in(client, "staff@example.com")
    screens = Screens(client, typed=typed + spreadsheet_columns())

    read_area(screens, app, "/admin", {**first_ids(app), **rosa.ids}, rosa.client.id)
    for rule in walked_rules(app):  # the account's own pages: password, two-step sign-in, recovery codes
        own = rule.endpoint.startswith("security.") and rule.endpoint not in (*SIGNING_OUT, "security.login")
        if own and "GET" in rule.methods and not rule.arguments:
            screens.read(rule.rule)

    fail_on(screens, locale, 100)


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
@pytest.mark.parametrize("locale", ["es", "fr"])
def test_every_portal_screen_is_in_the_therapists_language(app, client, locale, tmp_path, monkeypatch, fresh_limits):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    rosa, typed = small_practice()
    db.session.execute(update(User).where(User.id == rosa.therapist.user_id).values(locale=locale))
    db.session.commit()
    sign_in(client, rosa.therapist.email)
    screens = Screens(client, typed=typed)

    read_area(screens, app, "/portal", rosa.ids, rosa.client.id)

    fail_on(screens, locale, 15)


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
@pytest.mark.parametrize("locale", ["es", "fr"])
def test_public_screens_follow_the_browsers_language(app, client, locale, fresh_limits):
    _, typed = small_practice()
    screens = Screens(client, headers={"Accept-Language": locale}, typed=typed)

    for rule in walked_rules(app):  # sign-in, reset, two-step, the client's links (an unknown token)
        if rule.rule.startswith(("/admin", "/portal")) or "GET" not in rule.methods:
            continue
        screens.read(rule.build(rule_arguments(rule))[1])

    fail_on(screens, locale, 5)


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
@pytest.mark.parametrize("locale", ["es", "fr"])
def test_error_pages_are_in_the_users_language(app, client, locale, fresh_limits, monkeypatch):
    rosa, typed = small_practice()
    db.session.execute(update(User).where(User.id == rosa.therapist.user_id).values(locale=locale))
    db.session.commit()
    screens = Screens(client, headers={"Accept-Language": locale}, typed=typed)

    screens.read("/no-such-page", screen="404 page, signed out", error=True)
    sign_in(client, rosa.therapist.email)
    screens.read("/portal/no-such-page/", screen="404 page", error=True)
    screens.read("/admin/", screen="403 page (a therapist on a staff page)", error=True)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # as in production (the suite turns it off)
    response = client.post("/portal/requests/new/", data={})  # no CSRF token
    assert response.status_code == 400
    screens.problems += [f"CSRF page ({response.status_code}): {found}" for found in english_in(response.text, typed)]

    fail_on(screens, locale, 3)


@pytest.mark.parametrize(
    ("locale", "no_matches", "apply", "january", "monday"),
    [
        ("es", "No se encontraron coincidencias", "Aplicar", "enero", "lunes"),
        ("fr", "Aucun résultat", "Appliquer", "janvier", "lundi"),
    ],
)
def test_the_pickers_and_searchable_lists_speak_the_users_language(
    app, client, locale, no_matches, apply, january, monday
):
    """Select2, the date pickers and moment read their words from the page (static/js/picker-locale.js):
    the texts there are the user's language's, and the week starts on Monday."""
    make_admin(locale=locale)
    db.session.commit()
    sign_in(client, "staff@example.com")

    page = client.get("/admin/appointment/new/").text
    texts = json.loads(re.search(r'<script type="application/json" id="picker-locale">(.*?)</script>', page, re.S)[1])

    assert texts["select2"]["noMatches"] == no_matches
    assert texts["daterangepicker"]["applyLabel"] == apply
    assert texts["moment"]["months"][0] == january
    assert texts["moment"]["weekdays"][1] == monday and texts["moment"]["week"]["dow"] == 1
    assert page.index("picker-locale.js") < page.index("admin/js/form.js")  # the defaults are set before the widgets
