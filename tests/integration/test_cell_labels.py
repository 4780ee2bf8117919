"""A list cell's label of a choice is the label of that choice's own kind, whatever was shown before:
labels are remembered per language, and members of two kinds with the same value are equal."""

from __future__ import annotations

from flask_babel import force_locale

from admin_app.models import AppointmentStatus, MessageStatus
from admin_app.views.platform.formatting import choice


def test_an_appointment_held_and_a_message_on_hold_keep_their_own_labels(app):
    with app.test_request_context():
        for _ in range(2):  # the second round reads what the first remembered
            assert choice(None, AppointmentStatus.HELD) == "Held"
            assert choice(None, MessageStatus.HELD) == "On hold"
        with force_locale("es"):
            assert choice(None, MessageStatus.HELD) != choice(None, AppointmentStatus.HELD)
