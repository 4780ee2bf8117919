"""What the access tests share: two therapists' caseloads (each with what the other may never see),
a value for every URL argument, the text a user would read in any answer, and a fingerprint of
what a POST could change.

tests/integration/test_url_walk.py walks every URL rule with them; a screen with a new kind of
argument fails there until ARGUMENTS names a value for it.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    AdminTask,
    Appointment,
    Authorization,
    BadFitEntry,
    Client,
    ClientRequest,
    ClinicalNote,
    Invoice,
    Notification,
    Participant,
    Payment,
    PayoutStatement,
    PayoutStatus,
    RequestAction,
    RoomReservation,
    SurveyInvitation,
    SurveyResponse,
    Therapist,
    User,
)
from admin_app.models.base import utcnow
from admin_app.services.billing import letters
from admin_app.services.people import clinical_notes
from admin_app.services.tasks import client_requests
from tests.factories import (
    book,
    client_payment,
    issued_invoice,
    make_answer,
    make_authorization,
    make_bad_fit_entry,
    make_client,
    make_invitation,
    make_manual_task,
    make_payer,
    make_reservation,
    make_site,
    make_therapist,
    make_therapist_user,
    pays_for,
)

# A token nobody was given: public links are capabilities (whoever holds one may read what it opens),
# so the walk checks that a guessed one opens nothing.
UNKNOWN_TOKEN = "Zm9yZ2VkLXRva2VuLW5vYm9keS13YXMtZ2l2ZW4"

LETTER = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"  # an approval letter (kept under instance_path)

# A value for every argument a URL rule may have: a constant, or the model whose record (of the
# therapist whose records are being reached for) the argument names.
ARGUMENTS = {
    "export_type": "csv",
    "year": 2026,
    "chart": "nps",
    "token": UNKNOWN_TOKEN,
    "payment_id": Payment,
    "invoice_id": Invoice,
    "statement_id": PayoutStatement,
    "task_id": AdminTask,
    "run_id": 1,  # a run in the background: staff only, whoever's records it touched
}


class UnfilledArgument(LookupError):
    """A rule has an argument ARGUMENTS has no value for."""


def rule_arguments(rule, ids: dict[type, int] | None = None) -> dict[str, object]:
    """The values to build `rule` with; record arguments name the records in `ids` (id 1 without)."""
    missing = sorted(set(rule.arguments) - set(ARGUMENTS))
    if missing:
        raise UnfilledArgument(
            f"{rule.rule} ({rule.endpoint}): no value for {', '.join(missing)}: "
            "add one to ARGUMENTS in tests/isolation.py"
        )
    values = {}
    for name in rule.arguments:
        value = ARGUMENTS[name]
        values[name] = (ids[value] if ids is not None else 1) if isinstance(value, type) else value
    return values


@dataclass
class Caseload:
    """One therapist's login, client and records: `ids` by model, `secrets` what only they (and the
    staff) may read."""

    therapist: Therapist
    client: Client
    ids: dict[type, int] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()


def caseload(*, therapist_name: str, client_name: str, tag: str, phone: str, payer, day: dt.date) -> Caseload:
    """A therapist with a login and one client with everything the portal and the staff screens show
    about a client: an authorization with its letter (the caller points instance_path somewhere), an
    attended session billed to the payer (invoiced) with a video link, a payment with its receipt, a
    sent payout statement, a request, a clinical note, a room reservation, a survey answer rating the
    therapist, a Bad Fit entry and an admin task.
    `tag` makes each text unique to this caseload."""
    therapist = make_therapist(full_name=therapist_name)
    make_therapist_user(therapist)
    email = f"{tag.lower()}.client@example.com"
    client = make_client(
        therapist, full_name=client_name, client_number=f"{tag}-7731", email=email, phone=phone, national_id=f"{tag}NID"
    )
    pays_for(client, payer)
    authorization = make_authorization(
        client, payer, 2, dt.date(2026, 11, 1), dt.date(2027, 3, 31), reference=f"{tag}-AUTH"
    )
    letters.keep(authorization, LETTER, f"{tag}-approval.pdf")
    appointment = book(therapist, [client], dt.datetime.combine(day, dt.time(10)), payer=payer)
    appointment.video_link = f"https://video.example.com/{tag.lower()}-room"
    participant = appointment.participants[0]
    invoice = issued_invoice(payer, [participant], number=f"INV-{tag}")
    payment = client_payment(client, Decimal("50.00"), day, receipt_number=f"REC-{tag}")
    statement = PayoutStatement(
        therapist=therapist,
        month="2026-11",
        cut_off=dt.date(2026, 11, 30),
        status=PayoutStatus.SENT,
        number=f"PS-{tag}",
        sent_at=utcnow(),
    )
    db.session.add(statement)
    db.session.flush()
    request = client_requests.ask(
        db.session, therapist=therapist, client=client, action=RequestAction.DEACTIVATE, reason=f"{tag} wants to stop"
    )
    note = clinical_notes.write(db.session, therapist=therapist, client_id=client.id, text=f"{tag} panics at night")
    room = make_site(f"Sede {tag}", rooms=(f"Sala {tag}",)).rooms[0]
    reservation = make_reservation(room, therapist, 2, ("09:00", "12:00"), dt.date(2026, 9, 1))
    invitation = make_invitation(client, "2026-11")
    answer = make_answer(invitation, 9, {therapist: 5}, comment=f"{tag} listened to me")
    entry = make_bad_fit_entry(participant)
    task = make_manual_task(f"Call {client_name}")
    db.session.flush()
    return Caseload(
        therapist=therapist,
        client=client,
        ids={
            Client: client.id,
            Appointment: appointment.id,
            Participant: participant.id,
            Authorization: authorization.id,
            Invoice: invoice.id,
            Payment: payment.id,
            PayoutStatement: statement.id,
            ClientRequest: request.id,
            ClinicalNote: note.id,
            RoomReservation: reservation.id,
            SurveyInvitation: invitation.id,
            SurveyResponse: answer.id,
            BadFitEntry: entry.id,
            AdminTask: task.id,
            Therapist: therapist.id,
            User: therapist.user_id,
        },
        secrets=(
            client_name,
            f"{tag}-7731",
            email,
            phone,
            f"{tag}NID",
            f"{tag}-AUTH",
            f"INV-{tag}",
            f"REC-{tag}",
            f"PS-{tag}",
            f"{tag} wants to stop",
            f"{tag} panics at night",
            f"{tag.lower()}-room",
            f"Sala {tag}",
            f"{tag} listened to me",
            f"{tag}-approval.pdf",
        ),
    )


def two_caseloads() -> tuple[Caseload, Caseload]:
    """Rosa's and Jorge's caseloads (committed), both billed to the same insurer."""
    icbc = make_payer("ICBC")
    rosa = caseload(
        therapist_name="Rosa Mendoza",
        client_name="Ana Ríos",
        tag="ROSA",
        phone="+51987650011",
        payer=icbc,
        day=dt.date(2026, 12, 3),
    )
    jorge = caseload(
        therapist_name="Jorge Salas",
        client_name="Carlos Quispe",
        tag="JORGE",
        phone="+51987650022",
        payer=icbc,
        day=dt.date(2026, 12, 4),
    )
    db.session.commit()
    return rosa, jorge


def readable_text(body: bytes) -> str:
    """What a person could read in an answer: a page or CSV as text, a PDF's text, and the parts of
    a ZIP (an XLSX is one) read the same way; anything else as UTF-8."""
    if body.startswith(b"%PDF"):
        try:
            return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
        except PdfReadError:  # not a PDF a reader opens (an uploaded letter): its bytes, then
            pass
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(readable_text(archive.read(name)) for name in archive.namelist())
    return body.decode("utf-8", errors="replace")


def fingerprint(owner: Caseload) -> tuple:
    """The owner's records as a POST could change them (the ids given may also name the poster's own
    records, which they may change: only what is the owner's or about the owner's client counts)."""
    db.session.expire_all()
    client = Client.id == owner.client.id
    therapist = owner.therapist
    return (
        db.session.execute(
            select(Client.full_name, Client.active, Client.email, Client.phone, Client.notes).where(client)
        ).all(),
        db.session.execute(
            select(Authorization.extension_requested_at, Authorization.closed_at, Authorization.notes).where(
                Authorization.client_id == owner.client.id
            )
        ).all(),
        db.session.execute(
            select(
                Participant.attendance,
                Participant.client_id,
                Appointment.notes,
                Appointment.video_link,
                Appointment.status,
                Appointment.starts_at,
            )
            .join(Appointment)
            .where((Appointment.therapist_id == therapist.id) | (Participant.client_id == owner.client.id))
        ).all(),
        db.session.scalar(select(func.count(ClientRequest.id)).where(ClientRequest.client_id == owner.client.id)),
        db.session.execute(select(ClinicalNote.text).where(ClinicalNote.client_id == owner.client.id)).all(),
        db.session.execute(
            select(PayoutStatement.status, PayoutStatement.number).where(PayoutStatement.therapist_id == therapist.id)
        ).all(),
        db.session.execute(
            select(RoomReservation.id, RoomReservation.valid_until, RoomReservation.released_on).where(
                RoomReservation.therapist_id == therapist.id
            )
        ).all(),
        db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == therapist.user_id)),
    )
