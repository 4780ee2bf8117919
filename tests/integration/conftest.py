"""Fixtures for the screens: a signed-in admin, a signed-in therapist with a client of their own."""

from __future__ import annotations

import pytest

from admin_app.extensions import db
from tests.conftest import login
from tests.factories import make_admin


@pytest.fixture
def admin_user(app):
    user = make_admin()
    db.session.commit()
    return user


@pytest.fixture
def admin_client(client, admin_user):
    """A test client signed in as the practice's admin."""
    response = login(client, admin_user.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
