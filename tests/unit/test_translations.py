"""The message catalogs (en, es, fr): complete, compiled, and in step with the sources.

`make translations` (scripts/translations.sh) extracts, updates and compiles them; the
.pot, .po and .mo files are committed because the package ships compiled catalogs.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

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


def compiled_differences(po: Catalog, mo: gettext.GNUTranslations) -> list[str]:
    """Where the compiled catalog would show the app something else than the .po says.

    Compared by messages, never by bytes: the .mo header carries the compiler's name and release
    (`Generated-By`), so two Babel releases compile one .po to different bytes. The .mo is read
    with the standard library, as the app's gettext reads it, independently of Babel.
    """
    differences = []
    if (mo.info().get("plural-forms") or "").strip().rstrip(";") != po.plural_forms.strip().rstrip(";"):
        differences.append(f"Plural-Forms: {mo.info().get('plural-forms')!r} instead of {po.plural_forms!r}")
    expected = {}  # gettext's key -> (what the app should show, what gettext shows when the key is absent)
    for message in po:
        if not message.id:
            continue  # the header
        prefix = f"{message.context}\x04" if message.context else ""
        if message.pluralizable:
            for index, string in enumerate(message.string):
                source = message.id[min(index, 1)]
                expected[(prefix + message.id[0], index)] = (string if string and not message.fuzzy else source, source)
        else:
            shown = message.string if message.string and not message.fuzzy else message.id
            expected[prefix + message.id] = (shown, message.id)
    compiled = {key: value for key, value in mo._catalog.items() if key != ""}
    for key, (shown, fallback) in expected.items():
        if compiled.get(key, fallback) != shown:
            differences.append(f"{key!r}: {compiled.get(key, fallback)!r} instead of {shown!r}")
    differences += [f"{key!r}: not in the .po" for key in compiled.keys() - expected.keys()]
    return differences


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_po(locale):
    po = po_path(locale)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: {FIX}"
    with mo.open("rb") as fileobj:
        compiled = gettext.GNUTranslations(fileobj)
    differences = compiled_differences(load(po, locale), compiled)
    assert not differences, f"{mo.relative_to(ROOT)} is out of date with the .po ({differences[:10]}): {FIX}"


def compile_mo(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def read_mo(data: bytes) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(data))


def test_the_comparison_ignores_the_compiler_but_not_a_message():
    """Another Babel release (another `Generated-By`) compiles the same messages; a changed one is caught."""
    po = load(po_path("es"), "es")
    compiled = compile_mo(po)
    # Same length, so the offsets in the file stay right: another release's bytes, the same messages.
    other_release = re.sub(rb"(?<=Generated-By: Babel )[0-9.]+", lambda found: b"9" * len(found[0]), compiled)
    assert other_release != compiled
    assert compiled_differences(po, read_mo(other_release)) == []

    message = po["Clients"]
    stale = read_mo(compile_mo(po))
    message.string = "Pacientes"
    assert compiled_differences(po, stale) == ["'Clients': 'Clientes' instead of 'Pacientes'"]
    po.delete("Clients")
    assert compiled_differences(po, stale) == ["'Clients': not in the .po"]


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
    from admin_app.services.platform.labels import FIELDS

    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context(), force_locale(locale):
        assert gettext("Clients") == expected[0]
        assert str(FIELDS["national_id"]) == expected[1]
        assert render_template_string("{{ _('Log out') }}") == expected[2]
        assert gettext("Welcome, %(name)s", name="Ana").endswith(", Ana")
