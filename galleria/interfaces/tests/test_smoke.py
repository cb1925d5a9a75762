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


@pytest.mark.parametrize(
    ("hops", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "203.0.113.7", "10.0.0.1"),  # no proxy configured: the header is not believed
        (1, "10.0.0.1", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # a client-written entry on the left
        (2, "10.0.0.2", "203.0.113.7, 10.0.0.1", "203.0.113.7"),
        (2, "10.0.0.2", "10.0.0.1", "10.0.0.2"),  # fewer entries than proxies: the direct peer
        (1, "10.0.0.1", "not-an-ip", "10.0.0.1"),
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, "10.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_behind_trusted_proxies(rf, settings, hops, remote, forwarded, expected):
    from galleria.interfaces.common import client_ip

    settings.GALLERIA_TRUSTED_PROXIES = hops
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
