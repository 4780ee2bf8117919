"""Each row of a list carries its own record's buttons (rendered once per page, then given each row's id)."""

from __future__ import annotations

import html
import re

from admin_app.extensions import db
from tests.factories import make_client, make_therapist
from tests.pages import body


def test_each_rows_buttons_open_edit_and_delete_that_rows_record(admin_client):
    therapist = make_therapist(full_name="Rosa Mendoza")
    clients = [make_client(therapist, full_name=name) for name in ("Ana Quispe", "Luis Rojas")]
    db.session.commit()

    page = body(admin_client.get("/admin/client/?page_size=20"))

    for client in clients:
        [details] = re.findall(rf'href="(/admin/client/details/\?id={client.id}&amp;url=[^"]*)"', page)
        assert html.unescape(details).endswith("url=/admin/client/?page_size%3D20")
        assert client.full_name in body(admin_client.get(html.unescape(details)))
        [edit] = re.findall(rf'href="(/admin/client/edit/\?id={client.id}&amp;url=[^"]*)"', page)
        assert client.full_name in body(admin_client.get(html.unescape(edit)))
        delete = (
            rf'<input id="id" name="id" type="hidden" value="{client.id}">\s*'
            r'<input id="url" name="url" type="hidden" value="/admin/client/\?page_size=20">'
        )
        assert re.search(delete, page)
