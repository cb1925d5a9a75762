"""Browser sessions the journeys share: a member's phone signed in (the session an SMS sign-in leaves), a staff
member signed in to the console, and a watch for CSP violations and page errors."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

from galleria.testing import PASSWORD


def watch(page, violations: list[str]) -> None:
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: violations.append(f"page error: {exc}"))


def member_page(browser, live_server, m, lang: str):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = m.pk
    store.create()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def staff_page(browser, live_server, username: str, lang: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/console/")
    return context, page
