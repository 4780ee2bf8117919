"""The therapist's *My payments* (issue 18, "Payments"), read as Rosa reads it in the portal.

Lima, today 5 December 2026; the month shown is November (the default: the previous month, as on the
staff's payout screens). Rosa Mendoza (40 %), her November sessions, all in PEN:
- Ana, 3 Nov, 100.00 self-pay, on no invoice → **uninvoiced**;
- Ben, 4 Nov, 120.00 to ICBC, on an issued invoice, nothing paid → **invoiced**;
- Cara, 5 Nov, 90.00 self-pay, paid by Cara on 10 Nov → **paid** (10 Nov), paid out on PS-000002;
- Dora, 6 Nov, 150.00 to ICBC, on an issued invoice, on November's statement PS-000002 as a held
  line (invoiced, not paid by the cut-off) → **held**;
- Eva, 7 Nov, 80.00 self-pay, uninvoiced; Rosa's care of Eva has ended → shown as "E. L.".
Totals: uninvoiced 180.00, invoiced 120.00, held 150.00, paid 90.00; total 540.00.

Statements (hand-made rows, as a payout run then approving and sending would leave them):
- Rosa's October PS-000001, paid on 15 Nov: a paid line for Cara's 8 Oct session (80.00, earning 32.00);
- Rosa's November PS-000002, sent: Cara's paid line (earning 36.00) and Dora's held line (60.00 once paid);
- Rosa's December draft; Jorge's November PS-000003, sent (Carlos, 4 Nov, 200.00).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AuditAction,
    AuditEvent,
    CareAssignment,
    CompensationModel,
    HeldReason,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Participant,
    Payer,
    PaymentMethod,
    PayoutLine,
    PayoutStatement,
    PayoutStatus,
)
from admin_app.models.base import utcnow
from admin_app.services.billing import payments
from tests.conftest import sign_in_therapist
from tests.factories import book, client_payment, issued_invoice, make_client, make_payer, make_therapist
from tests.integration.test_month_report import pdf_text
from tests.pages import body, csv_rows, flashed, table_rows
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)

D = Decimal


def session_on(therapist, client, day, fee, *, month=11, payer=None) -> Participant:
    start = dt.datetime(2026, month, day, 10, 0)
    return book(therapist, [client], start, fee=fee, payer=payer, currency="PEN").participants[0]


def statement(therapist, month, status, number=None, **fields) -> PayoutStatement:
    year, month_number = map(int, month.split("-"))
    cut_off = dt.date(year + month_number // 12, month_number % 12 + 1, 1) - dt.timedelta(days=1)
    found = PayoutStatement(
        therapist=therapist,
        month=month,
        cut_off=cut_off,
        status=status,
        number=number,
        sent_at=None if status in (PayoutStatus.DRAFT, PayoutStatus.APPROVED) else utcnow(),
        **fields,
    )
    db.session.add(found)
    db.session.flush()
    return found


def line(on: PayoutStatement, participant: Participant, earning, *, held_reason: HeldReason | None = None):
    amount = participant.fee
    db.session.add(
        PayoutLine(
            statement=on,
            participant_id=participant.id,
            held=held_reason is not None,
            held_reason=held_reason,
            date_of_service=participant.appointment.starts_at.date(),
            client_id=participant.client_id,
            payer_id=participant.payer_id,
            currency=participant.currency,
            amount=amount,
            collected=D("0.00") if held_reason else amount,
            compensation_model=CompensationModel.COMMISSION,
            commission_percent=D("40.00"),
            earning=D(earning),
        )
    )
    db.session.flush()


@pytest.fixture
def november(app, client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    jorge = make_therapist(full_name="Jorge Salas")
    icbc = make_payer("ICBC")
    ana, ben, cara, dora, eva = (
        make_client(rosa, full_name=name) for name in ("Ana Ríos", "Ben Soto", "Cara Vega", "Dora Paz", "Eva Luna")
    )
    carlos = make_client(jorge, full_name="Carlos Quispe")
    session_on(rosa, ana, 3, "100.00")
    invoiced = session_on(rosa, ben, 4, "120.00", payer=icbc)
    issued_invoice(icbc, [invoiced])
    paid = session_on(rosa, cara, 5, "90.00")
    client_payment(cara, "90.00", dt.date(2026, 11, 10), allocations=[(paid, "90.00")])
    held = session_on(rosa, dora, 6, "150.00", payer=icbc)
    issued_invoice(icbc, [held])
    session_on(rosa, eva, 7, "80.00")
    db.session.execute(
        CareAssignment.__table__.update()
        .where(CareAssignment.client_id == eva.id, CareAssignment.therapist_id == rosa.id)
        .values(active=False)
    )
    october_session = session_on(rosa, cara, 8, "80.00", month=10)
    client_payment(cara, "80.00", dt.date(2026, 10, 8), allocations=[(october_session, "80.00")])
    carlos_session = session_on(jorge, carlos, 4, "200.00")
    client_payment(carlos, "200.00", dt.date(2026, 11, 4), allocations=[(carlos_session, "200.00")])

    october = statement(rosa, "2026-10", PayoutStatus.PAID, "PS-000001", paid_on=dt.date(2026, 11, 15))
    line(october, october_session, "32.00")
    mine = statement(rosa, "2026-11", PayoutStatus.SENT, "PS-000002")
    line(mine, paid, "36.00")
    line(mine, held, "60.00", held_reason=HeldReason.INVOICED)
    draft = statement(rosa, "2026-12", PayoutStatus.DRAFT)
    jorges = statement(jorge, "2026-11", PayoutStatus.SENT, "PS-000003")
    line(jorges, carlos_session, "80.00")
    db.session.commit()
    sign_in_therapist(client, rosa)
    return SimpleNamespace(rosa=rosa, jorge=jorge, october=october, mine=mine, draft=draft, jorges=jorges)


def sessions(response) -> list[list[str]]:
    return table_rows(response, "my-sessions")


# --- my sessions of a month --------------------------------------------------------------------


def test_each_session_shows_its_state_and_the_totals_add_up_per_state(client, november):
    response = client.get("/portal/payments/")

    assert response.status_code == 200
    assert "November 2026" in body(response)
    assert sessions(response) == [
        ["Tue 3 Nov 2026", "Ana Ríos", "Attended", "Client", "PEN 100.00", "Uninvoiced", ""],
        ["Wed 4 Nov 2026", "Ben Soto", "Attended", "ICBC", "PEN 120.00", "Invoiced", ""],
        [
            "Thu 5 Nov 2026",
            "Cara Vega",
            "Attended",
            "Client",
            "PEN 90.00",
            "Paid (Tue 10 Nov 2026)",
            "Paid out on PS-000002",
        ],
        [
            "Fri 6 Nov 2026",
            "Dora Paz",
            "Attended",
            "ICBC",
            "PEN 150.00",
            "Held",
            "Held on PS-000002: Invoiced, not paid yet",
        ],
        ["Sat 7 Nov 2026", "E. L.", "Attended", "Client", "PEN 80.00", "Uninvoiced", ""],
    ]
    assert table_rows(response, "my-session-totals") == [
        ["Uninvoiced", "PEN 180.00"],
        ["Invoiced", "PEN 120.00"],
        ["Held", "PEN 150.00"],
        ["Paid", "PEN 90.00"],
        ["Total", "PEN 540.00"],
    ]


def test_another_therapists_sessions_never_appear(client, november):
    page = body(client.get("/portal/payments/?month=2026-11"))
    assert "Carlos" not in page
    assert "200.00" not in page

    october = client.get("/portal/payments/?month=2026-10")
    assert [row[1] for row in sessions(october)] == ["Cara Vega"]
    assert sessions(october)[0][5:] == ["Paid (Thu 8 Oct 2026)", "Paid out on PS-000001"]


def test_a_month_that_does_not_parse_is_named_and_no_500(client, november):
    response = client.get("/portal/payments/?month=2026-13", follow_redirects=True)
    assert response.status_code == 200
    assert any("Month" in message for message in flashed(response))


def test_the_csv_export_holds_the_months_rows_with_plain_decimals(client, november):
    response = client.get("/portal/payments/export.csv?month=2026-11")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert [(row["Date of service"], row["Client"], row["Amount"], row["State"]) for row in rows] == [
        ("2026-11-03", "Ana Ríos", "100.00", "Uninvoiced"),
        ("2026-11-04", "Ben Soto", "120.00", "Invoiced"),
        ("2026-11-05", "Cara Vega", "90.00", "Paid"),
        ("2026-11-06", "Dora Paz", "150.00", "Held"),
        ("2026-11-07", "E. L.", "80.00", "Uninvoiced"),
    ]
    assert rows[2]["Paid on"] == "2026-11-10" and rows[2]["Paid out on statement"] == "PS-000002"
    assert rows[3]["Held on statement"] == "PS-000002"
    assert "Carlos" not in body(response)
    exported = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
    )
    assert exported == 1


def test_the_page_reads_in_a_constant_number_of_statements(client, november):
    """2 sessions in December against 40: the same count."""
    rosa = db.session.merge(november.rosa)
    client_record = make_client(rosa, full_name="Félix Ramos")
    for day in (1, 2):
        session_on(rosa, client_record, day, "100.00", month=12)
    db.session.commit()
    with counted_queries() as few:
        assert len(sessions(client.get("/portal/payments/?month=2026-12"))) == 2

    for index in range(38):
        start = dt.datetime(2026, 12, 3 + index // 8, 8 + index % 8, 0)  # December 3 to 7, eight a day
        book(rosa, [client_record], start, fee="100.00", currency="PEN")
    db.session.commit()
    with counted_queries() as many:
        assert len(sessions(client.get("/portal/payments/?month=2026-12"))) == 40

    assert len(many) == len(few)


# --- my statements ---------------------------------------------------------------------------


def test_the_statements_are_mine_and_only_sent_or_paid_newest_first(client, november):
    response = client.get("/portal/payments/")

    assert table_rows(response, "my-statements") == [
        ["November 2026", "PS-000002", "PEN 36.00", "Sent", "", "PDF"],
        ["October 2026", "PS-000001", "PEN 32.00", "Paid", "Sun 15 Nov 2026", "PDF"],
    ]
    page = body(response)
    assert "PS-000003" not in page
    assert f"/portal/payments/statement/{november.draft.id}/pdf" not in page


def test_my_statements_pdf_holds_its_number_and_total_and_is_audited(client, november):
    response = client.get(f"/portal/payments/statement/{november.mine.id}/pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = " ".join(pdf_text(response.data).split())
    assert "PS-000002" in text
    assert "PEN 36.00" in text
    assert "Dora Paz" in text  # the held line, as the statement the office sent lists it
    exports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT, AuditEvent.entity == "payout_statement")
    ).all()
    assert [event.entity_id for event in exports] == [november.mine.id]


def test_another_therapists_a_draft_or_an_unknown_statement_answers_404(client, november):
    for statement_id in (november.jorges.id, november.draft.id, 999999):
        assert client.get(f"/portal/payments/statement/{statement_id}/pdf").status_code == 404
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT))
        == 0
    )


def test_an_approved_statement_is_not_shown_before_it_is_sent(client, november):
    mine = db.session.get(PayoutStatement, november.mine.id)
    mine.status, mine.sent_at = PayoutStatus.APPROVED, None
    db.session.commit()

    response = client.get("/portal/payments/")
    assert [row[1] for row in table_rows(response, "my-statements")] == ["PS-000001"]
    assert client.get(f"/portal/payments/statement/{mine.id}/pdf").status_code == 404
    # its held line is not final either: Dora's session is simply invoiced
    dora = next(row for row in sessions(response) if row[1] == "Dora Paz")
    assert dora[5:] == ["Invoiced", ""]


def test_another_therapist_sees_only_their_own(client, november):
    client.post("/logout")
    sign_in_therapist(client, db.session.merge(november.jorge))
    response = client.get("/portal/payments/")
    assert [row[1] for row in sessions(response)] == ["Carlos Quispe"]
    assert [row[1] for row in table_rows(response, "my-statements")] == ["PS-000003"]
    assert client.get(f"/portal/payments/statement/{november.mine.id}/pdf").status_code == 404


def test_the_precedence_paid_over_held_over_invoiced_a_draft_or_void_invoice_is_uninvoiced(client, november):
    """ICBC pays Dora's held 150.00 on 2 Dec (after November's cut-off): paid, and still the note of
    the statement that held it until a later statement pays it out. Ben's 120.00: the rest written
    off on 3 Dec → paid (settled). Ana's 100.00 on a draft invoice → still uninvoiced. Eva's on an
    invoice that was voided → uninvoiced again."""
    rosa = db.session.merge(november.rosa)
    icbc = db.session.scalar(select(Payer).where(Payer.name == "ICBC"))
    by_client = {
        participant.client.full_name: participant
        for participant in db.session.scalars(
            select(Participant).join(Participant.appointment).where(Appointment.therapist_id == rosa.id)
        )
        if participant.appointment.starts_at.month == 11
    }
    dora_invoice = invoice_of(by_client["Dora Paz"])
    payments.record_payer_payment(
        db.session,
        payer_id=icbc.id,
        received_on=dt.date(2026, 12, 2),
        amount=D("150.00"),
        currency="PEN",
        method=PaymentMethod.TRANSFER,
        invoice_ids=[dora_invoice.id],
    )
    payments.write_off_rest(
        db.session, invoice_id=invoice_of(by_client["Ben Soto"]).id, reason="Payer refused", on=dt.date(2026, 12, 3)
    )
    draft = issued_invoice(by_client["Ana Ríos"].client, [by_client["Ana Ríos"]])
    draft.status, draft.number, draft.issued_at = InvoiceStatus.DRAFT, None, None
    voided = issued_invoice(by_client["Eva Luna"].client, [by_client["Eva Luna"]])
    voided.status, voided.void_reason = InvoiceStatus.VOID, "Wrong client"
    for voided_line in voided.lines:
        voided_line.holds = False
    db.session.commit()

    states = {row[1]: row[5:] for row in sessions(client.get("/portal/payments/"))}

    assert states == {
        "Ana Ríos": ["Uninvoiced", ""],
        "Ben Soto": ["Paid (Thu 3 Dec 2026)", ""],
        "Cara Vega": ["Paid (Tue 10 Nov 2026)", "Paid out on PS-000002"],
        "Dora Paz": ["Paid (Wed 2 Dec 2026)", "Held on PS-000002, paid since: it comes on your next statement"],
        "E. L.": ["Uninvoiced", ""],
    }


def invoice_of(participant: Participant) -> Invoice:
    return db.session.scalar(
        select(Invoice).join(InvoiceLine).where(InvoiceLine.participant_id == participant.id, InvoiceLine.holds)
    )
