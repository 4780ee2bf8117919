"""Flask-Admin's own words on our screens: its catalogs, reworded by ours where they read wrong
(admin.po beside messages.po; views/platform/admin_wording.py). Spanish "Salvar" (to rescue) for Save,
"Nuevo" for Add; French "Export" left in English.

That every message of ours is in messages.pot and translated in es and fr (non-empty, not fuzzy) is
tests/unit/test_translations.py's check; the screens themselves, tests/integration/test_screen_language.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import flask_admin
import flask_admin.babel
import flask_security
import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel, force_locale

from admin_app import create_app
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


# "tú" in Flask-Security's Spanish: a second-person pronoun or possessive, or a verb in the familiar form
# (¿Has olvidado…?, Introduce, Vuelve a…) where the practice says "usted".
FAMILIAR = re.compile(
    r"\b(tu|tus|te|ti|has|puedes|estás|tienes|debes|deberás|recibirás|inicia|introduce|usa|utiliza|haz|abre|"
    r"escanea|comienza|confirma|vuelve|asegúrate|autenticarte|registrarte|enviarte)\b",
    re.IGNORECASE,
)


def test_flask_securitys_spanish_says_usted():
    """Every Spanish message of Flask-Security, as our sign-in, reset and two-step pages and its emails show
    them (its catalog, then ours: SECURITY_I18N_DIRNAME)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    theirs = messages(
        Path(flask_security.__file__).resolve().parent / "translations" / "es_ES" / "LC_MESSAGES" / "flask_security.po",
        "es",
    )
    with app.test_request_context(), force_locale("es"):
        domain = app.extensions["security"].i18n_domain
        shown = {msgid: domain.gettext(msgid) for msgid in theirs if isinstance(msgid, str)}

    assert any(FAMILIAR.search(str(message.string)) for message in theirs.values()), "its Spanish changed: re-check"
    assert {msgid: text for msgid, text in shown.items() if FAMILIAR.search(text)} == {}
    assert shown["Forgot password?"] == "¿Olvidó su contraseña?"
