"""Flask-Admin's own words on our screens: its catalogs, reworded by ours where they read wrong
(admin.po beside messages.po; views/platform/admin_wording.py). Spanish "Salvar" (to rescue) for Save,
"Nuevo" for Add; French "Export" left in English.

That every message of ours is in messages.pot and translated in es and fr (non-empty, not fuzzy) is
tests/unit/test_translations.py's check; the screens themselves, tests/integration/test_screen_language.py.
"""

from __future__ import annotations

from pathlib import Path

import flask_admin
import flask_admin.babel
import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel, force_locale

from admin_app.views.platform import admin_wording

ROOT = Path(__file__).resolve().parents[2]
OURS = ROOT / "admin_app" / "translations"
THEIRS = Path(flask_admin.__file__).resolve().parent / "translations"


def messages(path: Path, locale: str) -> dict:
    with path.open("rb") as file:
        return {message.id: message for message in read_po(file, locale=locale) if message.id}


@pytest.fixture
def reader():
    """Returns `read(locale, message)`: Flask-Admin's translation of `message`, as its screens show it."""
    app = Flask(__name__)
    Babel(app)
    admin_wording.use_our_wording()

    def read(locale: str, message: str) -> str:
        with app.test_request_context(), force_locale(locale):
            return flask_admin.babel.gettext(message)

    return read


@pytest.mark.parametrize(
    ("locale", "message", "reads"),
    [
        ("es", "Save", "Guardar"),
        ("es", "Add", "Añadir"),
        ("fr", "Export", "Exporter"),
        ("es", "Cancel", "Cancelar"),  # not reworded: Flask-Admin's own
        ("fr", "Save", "Enregistrer"),
    ],
)
def test_flask_admins_words_read_as_ours_where_its_catalog_is_wrong(reader, locale, message, reads):
    assert reader(locale, message) == reads


@pytest.mark.parametrize("locale", ["es", "fr"])
def test_every_reworded_message_is_one_flask_admin_has_and_reads_as_written(reader, locale):
    """A message Flask-Admin does not have (a typo, or one a new version renamed) would reword nothing."""
    ours = messages(OURS / locale / "LC_MESSAGES" / "admin.po", locale)
    theirs = messages(THEIRS / locale / "LC_MESSAGES" / "admin.po", locale)

    assert sorted(str(msgid) for msgid in ours if msgid not in theirs) == []
    singular = {msgid: message.string for msgid, message in ours.items() if isinstance(msgid, str)}
    assert {msgid: reader(locale, msgid) for msgid in singular} == singular  # the compiled admin.mo is current


def test_no_spanish_screen_says_salvar(reader):
    theirs = messages(THEIRS / "es" / "LC_MESSAGES" / "admin.po", "es")
    salvar = [msgid for msgid, message in theirs.items() if "Salvar" in str(message.string)]

    assert salvar, "Flask-Admin's Spanish no longer says Salvar: admin.po may drop its rewording"
    assert [reader("es", msgid) for msgid in salvar if "Salvar" in reader("es", msgid)] == []
