"""Small factories for the practice's records, one module per aggregate; each flushes and returns
the record. Every public name is re-exported here: `from tests.factories import make_client`."""

from tests.factories.accounts import PASSWORD, make_admin, make_therapist_user
from tests.factories.billing import client_payment, issued_invoice, make_authorization, make_payer, pays_for
from tests.factories.people import make_client, make_therapist
from tests.factories.scheduling import attended, book, make_appointment
from tests.factories.sites import make_reservation, make_room, make_site
from tests.factories.surveys import make_answer, make_invitation
from tests.factories.tasks import make_bad_fit_entry, make_manual_task

__all__ = [
    "PASSWORD",
    "attended",
    "book",
    "client_payment",
    "issued_invoice",
    "make_admin",
    "make_answer",
    "make_appointment",
    "make_authorization",
    "make_bad_fit_entry",
    "make_client",
    "make_invitation",
    "make_manual_task",
    "make_payer",
    "make_room",
    "make_reservation",
    "make_site",
    "make_therapist",
    "make_therapist_user",
    "pays_for",
]
