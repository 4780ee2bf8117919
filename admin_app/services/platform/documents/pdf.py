"""HTML to PDF with wkhtmltopdf, locked down, with a time limit, and page numbers stamped afterwards.

- pdfkit only builds the command line; the process is run here, because pdfkit has no timeout
  and a stuck wkhtmltopdf would hold a web worker forever.
- wkhtmltopdf 0.12.6 never fixed its SSRF (CVE-2022-35583): JavaScript is off, local files are
  off, and every request goes to a proxy on a closed loopback port, so nothing leaves the host.
  The templates load nothing; data reaches them escaped (Jinja autoescape, never `|safe`).
- pdfkit turns `<meta name="pdfkit-...">` tags in the HTML into command-line options; escaped
  data cannot produce one, and a document that carries one anyway is refused.
- Debian's wkhtmltopdf (unpatched Qt) ignores `--footer-*`, so "1 / 3" is written onto each page
  with pypdf: a Helvetica text line merged at the bottom centre (digits, space and slash only,
  the same in every language).
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pdfkit
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, RectangleObject

from admin_app.services.platform.progress import Progress, ignore

PDF_TIMEOUT_SECONDS = 30
# Renders of a batch (every therapist's month report) run side by side: wkhtmltopdf spends most of its
# time waiting, so a few at once cut a 200-therapist month from about a minute to seconds.
PARALLEL_RENDERS = 4
CLOSED_PROXY = "127.0.0.1:9"  # the discard port, closed on our hosts: any request fails at once

OPTIONS = {
    "page-size": "A4",
    "margin-top": "15mm",
    "margin-right": "15mm",
    "margin-bottom": "20mm",  # room for the page number
    "margin-left": "15mm",
    "encoding": "UTF-8",
    "disable-javascript": "",
    "disable-local-file-access": "",
    "proxy": CLOSED_PROXY,
}  # pdfkit adds --quiet itself

PAGE_NUMBER_SIZE = 8  # points
PAGE_NUMBER_BASELINE = 22  # points above the bottom edge (about 8 mm)
PAGE_NUMBER_GREY = 0.35
# Helvetica advance widths (1/1000 em) of the only characters a page number uses.
_HELVETICA_WIDTHS = {**dict.fromkeys("0123456789", 556), " ": 278, "/": 278}


class PdfError(RuntimeError):
    """wkhtmltopdf is missing, failed or took too long; the message is for the logs, not the user."""


@functools.cache
def _configuration() -> pdfkit.configuration:
    path = shutil.which("wkhtmltopdf")
    if path is None:
        raise PdfError("wkhtmltopdf is not installed (scripts/system-deps.sh installs it)")
    return pdfkit.configuration(wkhtmltopdf=path)


def command(html: str) -> list[str]:
    """The wkhtmltopdf command line for `html` (read from stdin, PDF on stdout)."""
    kit = pdfkit.PDFKit(html, "string", options=OPTIONS, configuration=_configuration())
    smuggled = sorted(set(kit.options) - set(OPTIONS))
    if smuggled:
        raise PdfError(f"the HTML carries wkhtmltopdf options in meta tags: {', '.join(smuggled)}")
    return kit.command()


def render_pdf(html: str, *, timeout: float | None = None) -> bytes:
    """The PDF of a complete HTML document, A4, each page numbered "n / total"."""
    return stamp_page_numbers(_run(html, timeout or PDF_TIMEOUT_SECONDS))


def render_pdfs(documents: Sequence[str], *, timeout: float | None = None, progress: Progress = ignore) -> list[bytes]:
    """`render_pdf` for several documents, a few at a time; the PDFs come back in order, and
    `progress` counts them as they do."""
    rendered: list[bytes] = []
    progress(0, len(documents))
    with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL_RENDERS, len(documents)))) as pool:
        for document in pool.map(functools.partial(render_pdf, timeout=timeout), documents):
            rendered.append(document)
            progress(len(rendered), len(documents))
    return rendered


def _run(html: str, timeout: float) -> bytes:
    args = command(html)
    try:
        result = subprocess.run(
            args,
            input=html.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            env=_configuration().environ,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has already killed the process
        raise PdfError(f"wkhtmltopdf took longer than {timeout:g} s and was stopped") from None
    except OSError as error:
        raise PdfError(f"wkhtmltopdf could not be started: {error}") from None
    if result.returncode != 0 or not result.stdout.startswith(b"%PDF"):
        # A non-zero exit also means a frame failed to load: our documents load none.
        detail = result.stderr.decode("utf-8", errors="replace").strip()[-1000:]
        raise PdfError(f"wkhtmltopdf failed (exit code {result.returncode}): {detail}")
    return result.stdout


def stamp_page_numbers(pdf: bytes) -> bytes:
    """The same PDF with "n / total" at the bottom centre of every page."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    total = len(writer.pages)
    for number, page in enumerate(writer.pages, start=1):
        page.merge_page(_page_number(page.mediabox, f"{number} / {total}"))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _page_number(box: RectangleObject, text: str) -> PageObject:
    """A blank page of the same size holding only `text`, centred near the bottom edge."""
    overlay = PageObject.create_blank_page(width=box.width, height=box.height)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    overlay[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/PageNumber"): font})}
    )
    width = sum(_HELVETICA_WIDTHS[char] for char in text) * PAGE_NUMBER_SIZE / 1000
    x = float(box.left) + (float(box.width) - width) / 2
    y = float(box.bottom) + PAGE_NUMBER_BASELINE
    stream = DecodedStreamObject()
    stream.set_data(
        f"BT /PageNumber {PAGE_NUMBER_SIZE} Tf {PAGE_NUMBER_GREY} g {x:.2f} {y:.2f} Td ({text}) Tj ET".encode("ascii")
    )
    overlay[NameObject("/Contents")] = stream
    return overlay
