"""The appointment screen's fields as a browser posts them."""

from __future__ import annotations


def appointment_form(therapist, client, **fields) -> dict[str, str]:
    """An individual virtual appointment for one client on 5 October 2026 at 10:00 clinic time;
    `fields` override any field."""
    return {
        "therapist": str(therapist.id),
        "starts_at": "2026-10-05 10:00",
        "ends_at": "2026-10-05 10:50",
        "kind": "individual",
        "modality": "virtual",
        "room": "__None",
        "status": "scheduled",
        "video_link": "",
        "notes": "",
        "participants-0-client": str(client.id),
        "participants-0-attendance": "expected",
        "participants-0-fee": "150.00",
        "participants-0-currency": "PEN",
        "participants-0-billed_to": "client",
        "participants-0-payer": "__None",
        **fields,
    }
