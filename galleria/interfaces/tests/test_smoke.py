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


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "allowed"), [("root", True), ("admin", False), ("heytea-owner", False)])
def test_django_admin_is_for_platform_admins_only(client, world, username, allowed):
    client.login(username=username, password=PASSWORD)
    resp = client.get("/django-admin/")
    if allowed:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 302 and "/django-admin/login/" in resp.url


@pytest.mark.django_db
def test_production_settings_refuse_debug_and_missing_secrets(monkeypatch):
    import importlib
    import sys

    from django.core.exceptions import ImproperlyConfigured

    for env, value in (("DEBUG", "true"), ("SECRET_KEY", "short")):
        monkeypatch.setenv("SECRET_KEY", "x" * 40)
        monkeypatch.setenv("GALLERIA_MEMBER_CODE_KEY", "y" * 40)
        monkeypatch.setenv("DEBUG", "false")
        monkeypatch.setenv(env, value)
        for name in ("config.settings.production", "config.settings.base"):
            sys.modules.pop(name, None)
        with pytest.raises(ImproperlyConfigured):
            importlib.import_module("config.settings.production")
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    for name in ("config.settings.production", "config.settings.base"):
        sys.modules.pop(name, None)
    module = importlib.import_module("config.settings.production")
    assert module.DEBUG is False and module.SESSION_COOKIE_SECURE and module.GALLERIA_SANDBOX_PAYMENTS is False
    for name in ("config.settings.production", "config.settings.base"):
        sys.modules.pop(name, None)
