"""The message catalogs (en, es, fr): complete, compiled, and in step with the sources.

`make translations` (scripts/translations.sh) extracts, updates and compiles them; the
.pot, .po and .mo files are committed because the package ships compiled catalogs.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "admin_app" / "translations"
POT = CATALOGS / "messages.pot"
LOCALES = ("en", "es", "fr")
TRANSLATED = ("es", "fr")  # English is the source language: its msgstrs may stay empty
FIX = "run `make translations` (scripts/translations.sh) and translate what is new"


def po_path(locale: str) -> Path:
    return CATALOGS / locale / "LC_MESSAGES" / "messages.po"


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def msgids(catalog: Catalog) -> set:
    """Singular msgids (a plural message counts by its singular form)."""
    return {message.id[0] if isinstance(message.id, tuple) else message.id for message in catalog if message.id}


def placeholders(text: str) -> tuple[set, list]:
    """Named placeholders as a set of (name, type), positional ones as a list of types."""
    named, positional = set(), []
    for name, _spec, typechar in PYTHON_FORMAT.findall(text):
        if typechar == "%" and not name:
            continue  # a literal "%%"
        if name:
            named.add((name, typechar))
        else:
            positional.append(typechar)
    return named, positional


def extracted_msgids() -> set:
    """What `pybabel extract -F babel.cfg .` finds now (babel.cfg carries the lazy keywords)."""
    with (ROOT / "babel.cfg").open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(ROOT / "babel.cfg"))
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {message for message in found if message}


@pytest.fixture(scope="module")
def template() -> Catalog:
    assert POT.exists(), f"{POT.relative_to(ROOT)} is missing: {FIX}"
    return load(POT)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_exists_and_is_not_fuzzy(locale):
    path = po_path(locale)
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: {FIX}"
    catalog = load(path, locale)
    assert str(catalog.locale) == locale
    # `pybabel compile` silently skips a catalog whose header is marked fuzzy.
    assert not catalog.fuzzy, f"{path.relative_to(ROOT)}: remove the fuzzy flag from the header"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated(locale):
    catalog = load(po_path(locale), locale)
    untranslated = [m.id for m in catalog if m.id and not (all(m.string) if m.pluralizable else m.string)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{locale}: untranslated messages {untranslated}; {FIX}"
    assert not fuzzy, f"{locale}: fuzzy translations {fuzzy}: review them and drop the fuzzy flag"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_the_placeholders(locale):
    catalog = load(po_path(locale), locale)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        if not message.pluralizable:
            if message.string and placeholders(message.string) != placeholders(message.id):
                wrong.append((message.id, message.string))
            continue
        # A plural form may leave the count out ("un rendez-vous") but must not invent names.
        allowed = placeholders(message.id[0])[0] | placeholders(message.id[1])[0]
        wrong += [(message.id[0], s) for s in message.string if s and not placeholders(s)[0] <= allowed]
    assert not wrong, f"{locale}: placeholders differ from the msgid in {wrong}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_passes_babels_checks(locale):
    """The checks `pybabel compile` runs; any error there makes `make translations` fail."""
    catalog = load(po_path(locale), locale)
    errors = [(message.id, [str(error) for error in found]) for message, found in catalog.check()]
    assert not errors, f"{locale}: {errors}"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_po(locale):
    po = po_path(locale)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: {FIX}"
    expected = io.BytesIO()
    write_mo(expected, load(po, locale))
    if mo.read_bytes() != expected.getvalue():
        # Say which messages differ, not just that the bytes do.
        compiled = Translations(io.BytesIO(mo.read_bytes()))._catalog
        wanted = Translations(io.BytesIO(expected.getvalue()))._catalog
        differing = sorted(str(key) for key in set(compiled) ^ set(wanted))
        differing += sorted(str(key) for key in set(compiled) & set(wanted) if compiled[key] != wanted[key])
        pytest.fail(f"{mo.relative_to(ROOT)} is out of date with the .po ({differing[:10]}): {FIX}")


def test_template_is_up_to_date_with_the_sources(template):
    current = extracted_msgids()
    committed = msgids(template)
    new, gone = sorted(current - committed), sorted(committed - current)
    assert not new, f"strings not in messages.pot yet: {new}; {FIX}"
    assert not gone, f"messages.pot has strings the sources no longer use: {gone}; {FIX}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_has_the_templates_messages(template, locale):
    catalog = load(po_path(locale), locale)
    committed = msgids(template)
    missing, extra = committed - msgids(catalog), msgids(catalog) - committed
    assert not missing, f"{locale}: not in the catalog yet: {sorted(missing)}; {FIX}"
    assert not extra, f"{locale}: no longer in the sources: {sorted(extra)}; {FIX}"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("es", ("Clientes", "DNI", "Cerrar sesión")), ("fr", ("Clients", "Numéro d'identité", "Se déconnecter"))],
)
def test_the_app_loads_the_compiled_catalogs(locale, expected):
    """Flask-Babel finds admin_app/translations: eager, lazy and template strings are translated."""
    from flask import render_template_string
    from flask_babel import force_locale, gettext

    from admin_app import create_app
    from admin_app.services.labels import FIELDS

    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context(), force_locale(locale):
        assert gettext("Clients") == expected[0]
        assert str(FIELDS["national_id"]) == expected[1]
        assert render_template_string("{{ _('Log out') }}") == expected[2]
        assert gettext("Welcome, %(name)s", name="Ana").endswith(", Ana")
