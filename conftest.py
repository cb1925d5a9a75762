"""Shared fixtures: a small mall with staff in every role, and a headless Chromium for browser tests."""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connection


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests run whenever the database is PostgreSQL; with GALLERIA_REQUIRE_POSTGRES=1 (CI) a
    run on any other database is an error rather than a silent skip."""
    vendor = connection.vendor
    if os.environ.get("GALLERIA_REQUIRE_POSTGRES") == "1" and vendor != "postgresql":
        raise pytest.UsageError("GALLERIA_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL")
    if vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Each test starts with a database of its own: forget ids remembered from earlier tests."""
    from galleria.core import configcache
    from galleria.ledger.services import clear_caches

    clear_caches()
    configcache.clear()
    yield
    clear_caches()
    configcache.clear()


@pytest.fixture
def world(db):
    from galleria.testing import build_world

    return build_world()


@pytest.fixture(scope="session")
def payment_gateway_process():
    """The sandbox payment gateway (WeChat Pay v3 + Alipay wire protocols) as a separate process, for the session."""
    from galleria.payments.testing import sandbox_start

    proc = sandbox_start(time_scale=0.001)
    yield proc
    proc.stop()


@pytest.fixture
def gateways(world, payment_gateway_process, settings):
    """The world's group takes WeChat Pay and Alipay at the sandbox gateway. Its notifications go to a closed port
    (tests apply payments with `attempt_sync`, the query the member's payment page makes); a browser test that
    wants them delivered sets GALLERIA_PUBLIC_URL to its live server."""
    from galleria.audit.types import Actor
    from galleria.payments.services import sandbox_credentials_install

    settings.GALLERIA_PUBLIC_URL = "http://127.0.0.1:9"
    sandbox_credentials_install(
        mall_group_id=world.group.pk,
        keys=payment_gateway_process.keys,
        base_url=payment_gateway_process.base_url,
        actor=Actor.system("test"),
    )
    return payment_gateway_process


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # date inputs follow the page's <html lang> (yyyy/mm/dd on Chinese pages), as in a browser set to Chinese; by
    # default Chromium formats them in its own UI language, which these headless runs have as en-US
    "--enable-blink-features=LangAttributeAwareFormControlUI",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def mobile_page(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def pytest_collection_finish(session: pytest.Session) -> None:
    """CI must never pass on an empty or truncated collection."""
    minimum = int(os.environ.get("GALLERIA_MIN_TESTS", "0"))
    if len(session.items) < minimum:
        raise pytest.UsageError(f"collected {len(session.items)} tests, expected at least {minimum}")
