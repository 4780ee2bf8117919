"""List filters and exports work in clinic time, with labelled choices, and exports are safe to open."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from admin_app.extensions import db
from admin_app.models import Attendance
from tests.conftest import sign_in_therapist
from tests.factories import make_appointment, make_client, make_therapist
from tests.pages import body, csv_rows, list_rows


def filter_arg(response, group: str, operation: str) -> str:
    """The URL argument of a list filter, as the page's filter menu defines it."""
    found = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', body(response), re.S)
    groups = json.loads(found.group(1))
    [arg] = [f["arg"] for f in groups[group] if f["operation"] == operation]
    return f"flt0_{arg}"


def month_boundary_appointments():
    """In Lima: one on 31 January at 23:30 (04:30 UTC on 1 February), one on 1 February at 00:30."""
    therapist = make_therapist(full_name="Rosa Mendoza")
    january = make_client(therapist, full_name="Late January")
    february = make_client(therapist, full_name="Early February")
    make_appointment(therapist, january, dt.datetime(2026, 2, 1, 4, 30, tzinfo=dt.UTC))
    make_appointment(therapist, february, dt.datetime(2026, 2, 1, 5, 30, tzinfo=dt.UTC), attendance=Attendance.NO_SHOW)
    db.session.commit()
    return therapist


def names(response) -> list[str]:
    return [row["participants"].split(" · ")[0] for row in list_rows(response)]


def test_the_month_filter_uses_the_clinics_month(admin_client):
    month_boundary_appointments()
    month = filter_arg(admin_client.get("/admin/appointment/"), "Month", "in month (YYYY-MM)")

    january = admin_client.get(f"/admin/appointment/?{month}=2026-01")
    february = admin_client.get(f"/admin/appointment/?{month}=2026-02")

    assert january.status_code == 200
    assert names(january) == ["Late January"]
    assert list_rows(january)[0]["starts_at"] == "2026-01-31 23:30"
    assert names(february) == ["Early February"]
    assert list_rows(february)[0]["starts_at"] == "2026-02-01 00:30"


def test_the_portal_month_filter_uses_the_clinics_month_too(client):
    rosa = month_boundary_appointments()
    sign_in_therapist(client, rosa)
    month = filter_arg(client.get("/portal/appointments/"), "Month", "in month (YYYY-MM)")

    assert names(client.get(f"/portal/appointments/?{month}=2026-01")) == ["Late January"]


def test_the_start_filters_read_clinic_time(admin_client):
    month_boundary_appointments()
    page = admin_client.get("/admin/appointment/")
    after = filter_arg(page, "Start", "greater than")
    between = filter_arg(page, "Start", "between")

    assert names(admin_client.get(f"/admin/appointment/?{after}=2026-02-01 00:00:00")) == ["Early February"]
    in_range = admin_client.get(f"/admin/appointment/?{between}=2026-01-31 23:00:00 to 2026-01-31 23:59:00")
    assert names(in_range) == ["Late January"]


def test_the_status_filter_offers_labelled_choices_and_filters(admin_client):
    month_boundary_appointments()
    page = admin_client.get("/admin/appointment/")
    assert '["HELD", "Held"]' in body(page)
    status = filter_arg(page, "Status", "equals")

    held = admin_client.get(f"/admin/appointment/?{status}=HELD")

    assert sorted(names(held)) == ["Early February", "Late January"]  # attended and no-show were both held
    assert {row["status"] for row in list_rows(held)} == {"Held"}
    assert names(admin_client.get(f"/admin/appointment/?{status}=CANCELLED")) == []


def test_the_appointment_csv_is_in_clinic_time_with_labels(admin_client):
    month_boundary_appointments()

    response = admin_client.get("/admin/appointment/export/csv/")

    assert response.status_code == 200
    rows = sorted(csv_rows(response), key=lambda row: row["Start"])
    assert [(row["Start"], row["Participants"], row["Modality"], row["Therapist"]) for row in rows] == [
        ("2026-01-31 23:30", "Late January", "Virtual", "Rosa Mendoza"),
        ("2026-02-01 00:30", "Early February", "Virtual", "Rosa Mendoza"),
    ]


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_neutralised_in_the_csv(admin_client):
    make_client(full_name='=HYPERLINK("http://evil.example.com","x")', notes="-2+3")
    make_client(full_name="@SUM(A1)")
    db.session.commit()

    response = admin_client.get("/admin/client/export/csv/")

    cells = sorted(row["Name"] for row in csv_rows(response))
    assert cells == ['\'=HYPERLINK("http://evil.example.com","x")', "'@SUM(A1)"]


def test_lists_show_money_and_exports_keep_the_plain_number(admin_client):
    therapist = make_therapist(default_fee=Decimal("150"))
    make_appointment(therapist, make_client(full_name="Ana Quispe"), fee=Decimal("80.5"))
    db.session.commit()

    assert list_rows(admin_client.get("/admin/participant/"))[0]["fee"] == "PEN 80.50"
    assert csv_rows(admin_client.get("/admin/participant/export/csv/"))[0]["Fee"] == "80.50"
    assert list_rows(admin_client.get("/admin/therapist/"))[0]["default_fee"] == "PEN 150.00"
    assert csv_rows(admin_client.get("/admin/therapist/export/csv/"))[0]["Default fee"] == "150.00"


def test_the_therapist_filter_lists_that_therapists_appointments(admin_client):
    rosa = month_boundary_appointments()
    other = make_therapist(full_name="Jorge Salas")
    make_appointment(other, make_client(full_name="Carlos Quispe"))
    db.session.commit()
    page = admin_client.get("/admin/appointment/")
    assert f'["{rosa.id}", "Rosa Mendoza"]' in body(page)  # the choices are read when the page renders
    therapist = filter_arg(page, "Therapist", "equals")

    response = admin_client.get(f"/admin/appointment/?{therapist}={other.id}")

    assert response.status_code == 200
    assert names(response) == ["Carlos Quispe"]
