"""SMS through the real `twilio` client, against a loopback server that speaks Twilio's Messages API.

Everything of Twilio's own runs: the request it builds (form fields, Basic auth), its HTTP
client (requests), its response parsing and its exceptions; only the API's base URL points
at 127.0.0.1 instead of https://api.twilio.com.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs import schedule
from admin_app.models import MessageStatus, OutboundMessage
from admin_app.services.messaging.sms import TwilioBackend
from tests.conftest import free_port, make_app
from tests.factories import make_client

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "loopback-auth-token"
FROM = "+15005550006"
INVALID_NUMBER = "+51900000001"  # answered 400, code 21211 (legacy error body)
PROBLEM_NUMBER = "+51900000002"  # answered 400, code 21211 (RFC 9457 problem body)
BUSY_NUMBER = "+51900000003"  # answered 503
THROTTLED_NUMBER = "+51900000004"  # answered 429
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w{32})/Messages\.json$")


class FakeTwilio:
    """A ThreadingHTTPServer on loopback answering POST .../Messages.json as Twilio does.

    Every request is kept in `requests`: path, form fields (one value each) and the account
    sid and token read from the Basic auth header.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {name: values[0] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
                username, password = _basic_auth(self.headers.get("Authorization", ""))
                fake.requests.append({"path": self.path, "form": form, "username": username, "password": password})
                self._answer(*fake.answer(self.path, form, username, password))

            def _answer(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args) -> None:  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def answer(self, path: str, form: dict, username: str, password: str) -> tuple[int, dict]:
        match = MESSAGES_PATH.match(path)
        if not match:
            return 404, {"code": 20404, "message": f"The requested resource {path} was not found", "status": 404}
        if (username, password) != (SID, TOKEN) or match["sid"] != username:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        to = form.get("To", "")
        if to == INVALID_NUMBER:
            return 400, {
                "code": 21211,
                "message": "The 'To' number is not a valid phone number.",
                "more_info": "https://www.twilio.com/docs/errors/21211",
                "status": 400,
            }
        if to == PROBLEM_NUMBER:
            return 400, {
                "type": "https://www.twilio.com/docs/errors/21211",
                "title": "Invalid 'To' Phone Number",
                "status": 400,
                "code": 21211,
                "detail": "The 'To' number is not a valid phone number.",
            }
        if to == BUSY_NUMBER:
            return 503, {"code": 20503, "message": "Service Unavailable", "status": 503}
        if to == THROTTLED_NUMBER:
            return 429, {"code": 20429, "message": "Too Many Requests", "status": 429}
        message_sid = "SM" + uuid.uuid4().hex
        return 201, {
            "sid": message_sid,
            "account_sid": username,
            "to": to,
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "error_code": None,
            "error_message": None,
            "date_created": "Mon, 01 Jun 2026 15:00:00 +0000",
            "date_updated": "Mon, 01 Jun 2026 15:00:00 +0000",
            "date_sent": None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{username}/Messages/{message_sid}.json",
        }

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _basic_auth(header: str) -> tuple[str | None, str | None]:
    if not header.startswith("Basic "):
        return None, None
    username, _, password = base64.b64decode(header[len("Basic ") :]).decode().partition(":")
    return username, password


@pytest.fixture
def fake_twilio():
    server = FakeTwilio()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def twilio(fake_twilio):
    """Twilio's client as production builds it, with its API at the loopback server."""
    return TwilioBackend(SID, TOKEN, FROM, api_base_url=fake_twilio.url)


def test_an_accepted_message_is_sent_with_its_fields_and_the_accounts_basic_auth(twilio, fake_twilio):
    outcome = twilio.send("+51987654321", "Recordatorio: cita con Lucia Paredes mañana a las 10:00.")

    assert outcome.status == MessageStatus.SENT
    assert outcome.error is None
    [request] = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["form"] == {
        "To": "+51987654321",
        "From": FROM,
        "Body": "Recordatorio: cita con Lucia Paredes mañana a las 10:00.",
    }
    assert (request["username"], request["password"]) == (SID, TOKEN)


def test_an_invalid_number_is_a_permanent_failure_carrying_twilios_code(twilio):
    outcome = twilio.send(INVALID_NUMBER, "Hola")

    assert outcome.status == MessageStatus.FAILED
    assert "21211" in outcome.error
    assert "400" in outcome.error
    assert "not a valid phone number" in outcome.error


def test_an_rfc9457_problem_body_is_classified_by_its_status_too(twilio):
    outcome = twilio.send(PROBLEM_NUMBER, "Hola")

    assert outcome.status == MessageStatus.FAILED
    assert "21211" in outcome.error
    assert "not a valid phone number" in outcome.error


@pytest.mark.parametrize(("number", "status"), [(BUSY_NUMBER, "503"), (THROTTLED_NUMBER, "429")])
def test_an_unavailable_or_throttling_twilio_is_a_temporary_failure(twilio, number, status):
    outcome = twilio.send(number, "Hola")

    assert outcome.status == MessageStatus.QUEUED  # tried again later
    assert status in outcome.error


def test_wrong_credentials_are_a_permanent_failure(fake_twilio):
    wrong = TwilioBackend(SID, "not-the-token", FROM, api_base_url=fake_twilio.url)

    outcome = wrong.send("+51987654321", "Hola")

    assert outcome.status == MessageStatus.FAILED
    assert "20003" in outcome.error


def test_a_closed_port_is_a_temporary_failure():
    down = TwilioBackend(SID, TOKEN, FROM, api_base_url=f"http://127.0.0.1:{free_port()}")

    outcome = down.send("+51987654321", "Hola")

    assert outcome.status == MessageStatus.QUEUED
    assert outcome.error.startswith("SMS provider unreachable: ConnectionError")


def test_a_silent_server_times_out_as_a_temporary_failure():
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        hung = TwilioBackend(SID, TOKEN, FROM, timeout=0.5, api_base_url=f"http://127.0.0.1:{silent.getsockname()[1]}")

        outcome = hung.send("+51987654321", "Hola")

    assert outcome.status == MessageStatus.QUEUED
    assert "Timeout" in outcome.error


@pytest.fixture
def twilio_app(app, database_url, twilio):
    """The app with Twilio configured; its backend (the cache `sms.backend()` reads) at the loopback server."""
    texting = make_app(database_url, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_FROM_NUMBER=FROM)
    texting.extensions["sms_backend"] = twilio
    with texting.app_context():
        yield texting
        db.session.remove()


def test_an_sms_reminder_goes_through_twilio_once(twilio_app, fake_twilio, clock, book_soon):
    client = make_client(email=None, phone="+51987654321", reminder_preference="sms", preferred_language="es")
    book_soon(client)

    assert schedule.tick()["appointment-reminders"] == 1

    [request] = fake_twilio.requests
    assert request["form"]["To"] == "+51987654321"
    assert request["form"]["From"] == FROM
    body = request["form"]["Body"]
    assert body.startswith("Recordatorio: cita con Lucia Paredes el ")
    assert len(body) <= 160
    assert "https://meet.example.com/abc-defg" in body
    [row] = db.session.scalars(select(OutboundMessage)).all()
    assert (row.channel, row.recipient, row.status, row.attempts) == ("sms", "+51987654321", MessageStatus.SENT, 1)

    schedule.tick()

    assert len(fake_twilio.requests) == 1
    assert db.session.scalar(select(OutboundMessage.status)) == MessageStatus.SENT


def test_an_sms_reminder_twilio_refuses_fails_for_good_without_retries(twilio_app, fake_twilio, clock, book_soon):
    client = make_client(email=None, phone=INVALID_NUMBER, reminder_preference="sms", preferred_language="es")
    book_soon(client)

    schedule.tick()

    [row] = db.session.scalars(select(OutboundMessage)).all()
    assert row.status == MessageStatus.FAILED
    assert "21211" in row.last_error
    assert len(fake_twilio.requests) == 1
