"""Translatable names of fields and choices, shared by screens, messages and exports."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from admin_app.models import (
    AppointmentKind,
    AppointmentStatus,
    AssignmentKind,
    Attendance,
    AuditAction,
    BadFitReason,
    BadFitResolution,
    BadFitState,
    BilledTo,
    CancelledBy,
    Channel,
    CompensationModel,
    HeldReason,
    InvoiceGrouping,
    InvoiceKind,
    InvoiceStatus,
    LinkKind,
    MessageStatus,
    Modality,
    PayerKind,
    PaymentMethod,
    PayoutStatus,
    ReminderPreference,
    RequestAction,
    RequestStatus,
    TaskStatus,
)

FIELDS = {
    "full_name": _l("Name"),
    "client_number": _l("Client no."),
    "national_id": _l("National ID"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "birth_date": _l("Birth date"),
    "preferred_language": _l("Preferred language"),
    "reminder_preference": _l("Reminders"),
    "survey_opt_out": _l("No surveys"),
    "active": _l("Active"),
    "registered_at": _l("Registered"),
    "notes": _l("Notes"),
    "clinical_note": _l("Clinical note"),
    "links": _l("Links"),
    "linked_from": _l("Linked from"),
    "care_assignments": _l("Therapists"),
    "payment_sources": _l("Payment sources"),
    "client": _l("Client"),
    "related_client": _l("Related client"),
    "kind": _l("Kind"),
    "compensation_model": _l("Compensation"),
    "commission_percent": _l("Commission %"),
    "service_fee": _l("Service fee"),
    "effective_from": _l("Effective from"),
    "compensation_terms": _l("Compensation history"),
    "recorded_at": _l("Created"),
    "default_fee": _l("Default fee"),
    "default_currency": _l("Currency"),
    "site": _l("Site"),
    "user": _l("Login"),
    "designation": _l("Designation"),
    "registration_number": _l("Registration no."),
    "registration_body": _l("Registering college"),
    "provisional": _l("Provisional registrant"),
    "supervisor": _l("Supervisor"),
    "therapist": _l("Therapist"),
    "started_on": _l("Since"),
    "deactivated_on": _l("Deactivated on"),
    "name": _l("Name"),
    "billing_email": _l("Billing email"),
    "billing_address": _l("Billing address"),
    "tax_rate": _l("Tax rate"),
    "invoice_prefix": _l("Invoice number prefix"),
    "address": _l("Address"),
    "payer": _l("Payer"),
    "member_number": _l("Member number"),
    "provider_number": _l("Provider number"),
    "payment_terms_days": _l("Payment terms (days)"),
    "invoice_grouping": _l("Invoices"),
    "counts_missed_sessions": _l("Missed sessions use an approved session"),
    "refuses_over_approved": _l("Refuse bookings beyond what is approved"),
    "authorization": _l("Authorization"),
    "authorizations": _l("Authorizations"),
    "authorization_chosen": _l("Authorization chosen by staff"),
    "reference": _l("Reference"),
    "approved_sessions": _l("Approved sessions"),
    "approved": _l("Approved"),
    "scheduled": _l("Scheduled"),
    "used": _l("Used"),
    "billed": _l("Billed"),
    "remaining": _l("Remaining"),
    "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until"),
    "rate": _l("Approved rate"),
    "extends": _l("Extends"),
    "extended_by": _l("Extended by"),
    "week": _l("Week"),
    "extension_requested_at": _l("Extension requested"),
    "closed_at": _l("Closed"),
    "letter": _l("Approval letter"),
    "next_steps": _l("Next steps"),
    "policy_number": _l("Policy number"),
    "rooms": _l("Rooms"),
    "room": _l("Room"),
    "weekday": _l("Day of the week"),
    "starts_time": _l("From"),
    "ends_time": _l("To"),
    "starts_at": _l("Start"),
    "ends_at": _l("End"),
    "modality": _l("Modality"),
    "status": _l("Status"),
    "video_link": _l("Video link"),
    "participants": _l("Participants"),
    "attendance": _l("Attendance"),
    "cancelled_by": _l("Cancelled by"),
    "cancellation_reason": _l("Cancellation reason"),
    "calendar_feed": _l("Calendar link"),
    "fee": _l("Fee"),
    "currency": _l("Currency"),
    "billed_to": _l("Billed to"),
    "created_at": _l("Created"),
    "occurred_at": _l("When"),
    "actor": _l("Who"),
    "action": _l("Action"),
    "entity": _l("Record type"),
    "entity_id": _l("Record id"),
    "changed_fields": _l("Changed fields"),
    "roles": _l("Roles"),
    "locale": _l("Language"),
    "last_login_at": _l("Last login"),
    "month": _l("Month"),
    "clients": _l("Clients"),
    "appointment": _l("Appointment"),
    "participant": _l("Participant"),
    "history": _l("History"),
    "number": _l("Number"),
    "invoice_date": _l("Invoice date"),
    "bill_to": _l("Bill to"),
    "total": _l("Total"),
    "sent": _l("Sent"),
    "run": _l("Invoice run"),
    "period_start": _l("First date of service"),
    "period_end": _l("Through"),
    "date_of_service": _l("Date of service"),
    "amount": _l("Amount"),
    "adjustment_reason": _l("Reason for the change"),
    "void_reason": _l("Reason for voiding"),
    "issued_at": _l("Issued"),
    "voided_at": _l("Voided"),
    "method": _l("Method"),
    "received_on": _l("Received on"),
    "invoices": _l("Invoices"),
    "reason": _l("Reason"),
    "paid_on": _l("Paid on"),
    "paid_reference": _l("Transfer reference"),
    "collected": _l("Collected"),
    "earning": _l("Earning"),
    "earned": _l("Earned"),
    "held_lines": _l("Held sessions"),
    "adjustments": _l("Adjustments"),
    "due": _l("Due to the therapist"),
    "terms": _l("Terms applied"),
    "email_subject": _l("Subject"),
    "email_body": _l("Message"),
    "on": _l("Date"),
    "state": _l("State"),
    "resolution": _l("Resolution"),
    "resolution_note": _l("Resolution note"),
    "resolved_at": _l("Resolved"),
    "resolved_by": _l("Resolved by"),
    "bad_fit": _l("Bad Fit"),
    "payment_source": _l("Payment source"),
    "authorization_status": _l("Authorization status"),
    "attention": _l("Attention"),
    "last_appointment": _l("Last appointment"),
    "next_appointment": _l("Next appointment"),
    "colour": _l("Colour"),
    "answered_at": _l("Answered on"),
    "answer_note": _l("Office's note"),
    "asked_on": _l("Asked on"),
}

CHOICES: dict[type[enum.Enum], dict[str, object]] = {
    ReminderPreference: {
        "email": _l("Email"),
        "sms": _l("SMS"),
        "both": _l("Email and SMS"),
        "none": _l("None"),
    },
    LinkKind: {
        "guardian_of": _l("guardian of"),
        "partner_of": _l("partner of"),
        "sibling_of": _l("sibling of"),
    },
    CompensationModel: {
        "commission": _l("Commission: a percentage of each fee"),
        "service_fee": _l("Fixed service fee kept by the practice"),
    },
    AssignmentKind: {"direct": _l("Direct"), "indirect": _l("Indirect")},
    PayerKind: {
        "insurer": _l("Insurer"),
        "employer": _l("Employee assistance programme"),
        "public": _l("Public programme"),
        "other": _l("Other"),
    },
    InvoiceGrouping: {"per_client": _l("One invoice per client"), "per_period": _l("One invoice per period")},
    AppointmentKind: {
        "individual": _l("Individual"),
        "couple": _l("Couple"),
        "family": _l("Family"),
        "group": _l("Group"),
    },
    Modality: {"virtual": _l("Virtual"), "on_site": _l("On-site")},
    AppointmentStatus: {
        "scheduled": _l("Scheduled"),
        "held": _l("Held"),
        "cancelled": _l("Cancelled"),
    },
    Attendance: {
        "expected": _l("Expected"),
        "attended": _l("Attended"),
        "cancelled": _l("Cancelled"),
        "late_cancelled": _l("Late-cancelled"),
        "no_show": _l("No-show"),
    },
    CancelledBy: {"client": _l("Client"), "practice": _l("Practice")},
    BilledTo: {"client": _l("Client"), "payer": _l("Payer")},
    InvoiceKind: {"invoice": _l("Invoice"), "credit_note": _l("Credit note")},
    InvoiceStatus: {"draft": _l("Draft"), "issued": _l("Issued"), "void": _l("Void")},
    AuditAction: {
        "create": _l("Created"),
        "update": _l("Changed"),
        "delete": _l("Deleted"),
        "export": _l("Exported"),
        "view": _l("Viewed"),
        "sign_in": _l("Signed in"),
        "sign_in_failed": _l("Sign-in failed"),
    },
    Channel: {"email": _l("Email"), "sms": _l("SMS")},
    # "On hold", not "Held": an appointment's "Held" (it took place) translates differently.
    MessageStatus: {
        "queued": _l("Queued"),
        "sending": _l("Sending"),
        "sent": _l("Sent"),
        "failed": _l("Failed"),
        "held": _l("On hold"),
        "withdrawn": _l("Withdrawn"),
    },
    # "Approved" and "Sent" of a statement; "Paid": the practice paid the therapist.
    PayoutStatus: {"draft": _l("Draft"), "approved": _l("Approved"), "sent": _l("Sent"), "paid": _l("Paid")},
    TaskStatus: {"open": _l("To do"), "done": _l("Done"), "closed": _l("Closed (cause gone)")},
    HeldReason: {
        "uninvoiced": _l("Not invoiced yet"),
        "invoiced": _l("Invoiced, not paid yet"),
        "partly_paid": _l("Partly paid"),
    },
    BadFitReason: {"no_show": _l("No-show"), "two_cancellations": _l("Two cancellations in a row")},
    BadFitState: {"open": _l("To review"), "resolved": _l("Resolved")},
    BadFitResolution: {"kept": _l("Kept on"), "deactivated": _l("Client deactivated")},
    PaymentMethod: {
        "cash": _l("Cash"),
        "card": _l("Card"),
        "transfer": _l("Bank transfer"),
        "cheque": _l("Cheque"),
        "other": _l("Other"),
    },
    RequestAction: {"activate": _l("Ask to activate"), "deactivate": _l("Ask to deactivate")},
    RequestStatus: {"open": _l("Waiting for the office"), "done": _l("Done"), "refused": _l("Refused")},
}

# An authorization's status (services.billing.authorizations.AuthorizationStatus), by its value.
AUTHORIZATION_STATUSES = {
    "active": _l("Active"),
    "low": _l("Low"),
    "extension_requested": _l("Extension requested"),
    "exhausted": _l("Exhausted"),
    "expired": _l("Expired"),
    "closed": _l("Closed"),
}

# Where an invoice stands (services.billing.ledger.InvoiceState), by its value.
INVOICE_STATES = {
    "draft": _l("Draft"),
    "issued": _l("Issued"),
    "partly_paid": _l("Partly paid"),
    "paid": _l("Paid"),
    "void": _l("Void"),
}

# Where a charge stands (services.billing.ledger.ChargeState), by its value; "invoiced" and "paid"
# are shown with the invoice's number and the date it was paid.
CHARGE_STATES = {
    "uninvoiced": _l("Uninvoiced"),
    "draft": _l("On a draft"),
    "invoiced": _l("Invoiced"),
    "partly_paid": _l("Partly paid"),
    "paid": _l("Paid"),
    "written_off": _l("Written off"),
}

# How a link reads from the other side: if Ana is guardian of Luis, Luis is "in the care of" Ana.
INVERSE_LINK = {
    "guardian_of": _l("in the care of"),
    "partner_of": _l("partner of"),
    "sibling_of": _l("sibling of"),
}

LANGUAGES = {"es": _l("Spanish"), "en": _l("English"), "fr": _l("French")}

# What an audit event is about, by the table it names (the audit trail stores table names).
ENTITIES = {
    "admin_task": _l("Admin task"),
    "allocation": _l("Payment allocation"),
    "app_role": _l("Role"),
    "app_user": _l("Login"),
    "audit_event": _l("Audit event"),
    "appointment": _l("Appointment"),
    "appointment_series": _l("Appointment series"),
    "bad_fit_entry": _l("Bad Fit entry"),
    "care_assignment": _l("Care assignment"),
    "client": _l("Client"),
    "client_clinical_notes": _l("Client's clinical notes"),
    "client_link": _l("Client link"),
    "client_request": _l("Therapist's request"),
    "clinical_note": _l("Clinical note"),
    "compensation_terms": _l("Compensation terms"),
    "invoice": _l("Invoice"),
    "invoice_line": _l("Invoice line"),
    "invoice_run": _l("Invoice run"),
    "invoice_sending": _l("Invoice sending"),
    "job_run": _l("Background job"),
    "login_invitation": _l("Login invitation"),
    "notification": _l("Notification"),
    "outbound_message": _l("Outbound message"),
    "participant": _l("Participant"),
    "payer": _l("Payer"),
    "payer_authorization": _l("Authorization"),
    "payment": _l("Payment"),
    "payment_source": _l("Payment source"),
    "payout_adjustment": _l("Payout adjustment"),
    "payout_email_text": _l("Payout email text"),
    "payout_line": _l("Payout line"),
    "payout_run": _l("Payout run"),
    "payout_statement": _l("Payout statement"),
    "receipt_link": _l("Receipt link"),
    "room": _l("Room"),
    "room_reservation": _l("Room reservation"),
    "second_factor": _l("Second factor"),
    "site": _l("Site"),
    "survey_invitation": _l("Survey invitation"),
    "survey_rating": _l("Survey rating"),
    "survey_response": _l("Survey response"),
    "therapist": _l("Therapist"),
}


def field_label(name: str):
    return FIELDS.get(name, name)


def changed_fields_label(names) -> str:
    """The columns an audit event changed, as a person calls them: a reference (`user_id`) by what it
    names, the parts of a stored file (`letter_key`, `letter_name`, `letter_type`) once by the file."""
    labels = []
    for name in names:
        label = FIELDS.get(name) or FIELDS.get(name.removesuffix("_id")) or FIELDS.get(name.partition("_")[0], name)
        if str(label) not in labels:
            labels.append(str(label))
    return ", ".join(labels)


def entity_label(table: str):
    """What an audit event names (a table), as a person calls it."""
    return ENTITIES.get(table, table)


def choice_label(value: enum.Enum | None):
    if value is None:
        return ""
    return CHOICES[type(value)].get(value.value, value.value)


def choices_for(enum_class: type[enum.Enum]) -> list[tuple[str, object]]:
    labels = CHOICES[enum_class]
    return [(member.value, labels[member.value]) for member in enum_class]
