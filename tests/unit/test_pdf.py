"""HTML to PDF with the real wkhtmltopdf: page numbers, and nothing read or fetched on the document's behalf."""

from __future__ import annotations

import io
import socket

import pytest
from pypdf import PdfReader

from admin_app.services.platform.documents import pdf


def page_texts(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def document(body: str) -> str:
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


def test_every_page_is_numbered_n_of_total():
    rows = "".join(f"<p>Línea {n}: ñandú, café, garçon</p>" for n in range(150))

    pages = page_texts(pdf.render_pdf(document(rows)))

    assert len(pages) >= 3
    assert [page.endswith(f"{n} / {len(pages)}") for n, page in enumerate(pages, start=1)] == [True] * len(pages)
    assert pages[0].startswith("Línea 0: ñandú, café, garçon")
    assert PdfReader(io.BytesIO(pdf.render_pdf(document("<p>x</p>")))).pages[0].mediabox[2:] == [595, 842]  # A4


def test_a_document_cannot_read_a_local_file():
    """0.12.6 blocks local files by default and we say so explicitly; the load fails, so does the render."""
    with pytest.raises(pdf.PdfError) as failure:
        pdf.render_pdf(document('<iframe src="file:///etc/passwd"></iframe><p>x</p>'))

    assert "root:" not in str(failure.value)


def test_a_document_cannot_reach_the_network():
    """Every request goes to the closed proxy: a server listening on loopback never hears from it
    (without the proxy option wkhtmltopdf does connect: CVE-2022-35583)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        url = f"http://127.0.0.1:{server.getsockname()[1]}"

        text = page_texts(
            pdf.render_pdf(document(f'<p>x</p><img src="{url}/x.png"><link rel="stylesheet" href="{url}/s.css">'))
        )

        assert text == ["x 1 / 1"]
        with pytest.raises(BlockingIOError):  # nobody knocked
            server.accept()


def test_javascript_does_not_run():
    text = page_texts(
        pdf.render_pdf(
            document('<p id="p">static</p><script>document.getElementById("p").textContent = "scripted";</script>')
        )
    )

    assert text[0].startswith("static")


def test_options_smuggled_in_meta_tags_are_refused():
    html = '<html><head><meta name="pdfkit-enable-local-file-access" content=""></head><body>x</body></html>'

    with pytest.raises(pdf.PdfError, match="enable-local-file-access"):
        pdf.render_pdf(html)


def test_the_command_is_locked_down():
    args = pdf.command(document("x"))

    assert args[0].endswith("wkhtmltopdf")
    for flag in ("--disable-javascript", "--disable-local-file-access", "--quiet"):
        assert flag in args
    assert args[args.index("--proxy") + 1] == "127.0.0.1:9"
    assert args[args.index("--encoding") + 1] == "UTF-8"
    assert args[-2:] == ["-", "-"]  # HTML on stdin, PDF on stdout: no file names from anyone


def test_a_render_that_takes_too_long_is_stopped():
    with pytest.raises(pdf.PdfError, match="took longer than"):
        pdf.render_pdf(document("<p>x</p>"), timeout=0.001)


def test_several_documents_come_back_in_order():
    results = pdf.render_pdfs([document(f"<p>Document {n}</p>") for n in range(6)])

    assert [page_texts(data)[0] for data in results] == [f"Document {n} 1 / 1" for n in range(6)]
