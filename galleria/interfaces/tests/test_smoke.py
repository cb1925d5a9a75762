import pytest

from galleria.testing import PASSWORD


@pytest.mark.django_db
def test_login_lands_console_for_group_staff_and_portal_for_merchant_staff(client, world):
    resp = client.post("/console/login/", {"username": "admin", "password": PASSWORD})
    assert resp.status_code == 302 and resp.url == "/console/"
    assert client.get("/console/").status_code == 200
    client.logout()
    resp = client.post("/console/login/", {"username": "heytea-clerk", "password": PASSWORD})
    assert resp.url == "/merchant/"
    assert client.get("/console/").status_code == 403
