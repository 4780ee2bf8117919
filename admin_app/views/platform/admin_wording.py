"""Flask-Admin's own words, reworded where its catalogs read wrong for the practice.

Flask-Admin translates through a Flask-Babel domain of its own ("admin") over its catalog folder.
Its Spanish says "Salvar" for Save and "Nuevo" for Add; its French leaves Export in English and calls a
record an "objet". Our folder (admin_app/translations, `admin.po` beside `messages.po`) holds only the
messages we reword, and is put after Flask-Admin's: Flask-Babel merges a domain's folders in order, the
last one winning, so every other message still comes from Flask-Admin's catalog.
"""

from __future__ import annotations

from pathlib import Path

from flask_admin import babel

TRANSLATIONS = str(Path(__file__).resolve().parents[2] / "translations")


def use_our_wording() -> None:
    """Adds our folder last to Flask-Admin's domain (once per process: the domain is Flask-Admin's
    module-level object, shared by every app). The domain caches a locale's merged catalogs at first
    use: any loaded before are dropped, to be merged again with ours."""
    directories = babel.domain._translation_directories
    if TRANSLATIONS not in directories:
        directories.append(TRANSLATIONS)
        babel.domain.cache.clear()
