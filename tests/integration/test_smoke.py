from admin_app.extensions import db
from tests.conftest import login
from tests.factories import make_admin


def test_admin_signs_in_and_sees_the_client_list(client):
    make_admin()
    db.session.commit()
    response = login(client, "staff@example.com")
    assert response.status_code == 302
    page = client.get("/admin/client/")
    assert page.status_code == 200
    assert b"National ID" in page.data
