"""Invoice downloads over HTTP from the app served on loopback, as a signed-in person gets them: the
staff's PDF and workbook of an invoice, a run's ZIP and workbook; a therapist gets none of them."""

from __future__ import annotations

import http.cookiejar
import io
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from admin_app.extensions import db
from admin_app.services.billing.invoice_documents import invoice_documents
from tests.factories import PASSWORD, make_admin, make_therapist_user
from tests.factories.invoices import issued_october
from tests.integration.test_month_report import pdf_text
from tests.pages import run_link, run_result

pytestmark = pytest.mark.parametrize("clock", ["2026-11-05T15:00Z"], indirect=True)


class Browser:
    """A person at the live server: cookies kept, redirects followed, answers read whole."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def sign_in(self, email: str) -> None:
        form = urllib.parse.urlencode({"email": email, "password": PASSWORD}).encode()
        with self.opener.open(f"{self.base_url}/login", data=form) as answer:
            assert "/login" not in answer.url, "signed in"

    def get(self, path: str) -> tuple[int, dict, bytes]:
        try:
            with self.opener.open(f"{self.base_url}{path}") as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


@pytest.fixture
def october(app):
    world = issued_october()
    make_admin()
    make_therapist_user(world.lucia)
    db.session.commit()
    return world


def test_the_staff_download_an_invoice_and_a_runs_files(live_server, october):
    staff = Browser(live_server)
    staff.sign_in("staff@example.com")
    invoices = (october.ana_invoice, october.acme_invoice, october.carla_invoice)
    documents = invoice_documents(db.session, [invoice.id for invoice in invoices])
    expected = {document.file_name("pdf"): document for document in documents}

    status, headers, pdf = staff.get(f"/admin/invoice-documents/{october.ana_invoice.id}.pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == 'attachment; filename="icbc-000001-clm-88812345.pdf"'
    assert "Claim reference: CLM-88812345" in pdf_text(pdf)

    status, headers, workbook = staff.get(f"/admin/invoice-documents/{october.ana_invoice.id}.xlsx")
    assert status == 200 and headers["Content-Disposition"].endswith('filename="icbc-000001-clm-88812345.xlsx"')
    assert openpyxl.load_workbook(io.BytesIO(workbook)).sheetnames == ["ICBC-000001"]

    # The ZIP is made by a run in the background (in-process here: done when its page opens).
    status, _headers, run_page = staff.get(f"/admin/invoice-documents/category.zip?run={october.run_id}")
    assert status == 200 and run_result(run_page.decode()) == f"{len(expected)} PDFs in the ZIP."
    status, _headers, archive = staff.get(run_link(run_page.decode(), "job-run-file"))
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        assert sorted(bundle.namelist()) == sorted(expected)

    status, _headers, workbook = staff.get(f"/admin/invoice-documents/category.xlsx?run={october.run_id}")
    summary = openpyxl.load_workbook(io.BytesIO(workbook))["Summary"]
    totals = {row[0]: Decimal(str(row[9])) for row in list(summary.iter_rows(values_only=True))[1:]}
    assert totals == {document.number: document.total for document in expected.values()}


def test_a_wrong_category_comes_back_with_the_reason(live_server, october):
    staff = Browser(live_server)
    staff.sign_in("staff@example.com")

    status, _headers, page = staff.get("/admin/invoice-documents/category.zip?payer=1&since=2026-10-01&until=oops")

    assert status == 200 and "Until: give a date as YYYY-MM-DD." in page.decode()


def test_a_therapist_gets_no_invoice(live_server, october):
    therapist = Browser(live_server)
    therapist.sign_in(october.lucia.email)

    for path in (
        f"{october.ana_invoice.id}.pdf",
        f"{october.ana_invoice.id}.xlsx",
        f"category.zip?run={october.run_id}",
    ):
        status, _headers, _body = therapist.get(f"/admin/invoice-documents/{path}")
        assert status == 403
