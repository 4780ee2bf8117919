"""Unit fixtures: a bare app context (no database, no HTTP) for rules that read a setting or
translate their message."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import Babel


@pytest.fixture
def practice_in():
    """Returns `enter(**settings)`: an app context whose config holds those settings (PHONE_REGION,
    CLINIC_TIMEZONE ...), with Babel, since a rule's messages are lazy translatable strings."""

    def enter(**settings):
        app = Flask(__name__)
        app.config.update(settings)
        Babel(app)
        return app.app_context()

    return enter


@pytest.fixture
def practice(practice_in):
    """A bare app context with Flask's default settings, for the whole test."""
    with practice_in():
        yield
