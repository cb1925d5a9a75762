"""Webhooks in a real browser (issue #21): a group admin creates an endpoint pointing at a local receiver, copies the
secret shown once, sends a test event (delivered, signed with that secret), a member joins and the worker delivers
it, the delivery log shows both with their answers, and one is sent again. Screenshots under
var/screenshots/webhooks/<screen>-<lang>.png."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.webhooks import rules, services
from galleria.webhooks.tests.helpers import member
from galleria.webhooks.tests.receiver import receiver

from .screens import staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "webhooks"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_an_admin_sets_up_an_endpoint_tests_it_and_reads_the_log(browser, live_server, world, settings, lang):
    settings.GALLERIA_WEBHOOKS_ALLOW_HTTP = True
    violations: list[str] = []
    context, page = staff_page(browser, live_server, world.users["group_admin"].username, lang)
    watch(page, violations)
    with receiver() as rec:
        page.goto(live_server.url + "/console/webhooks/")
        page.get_by_test_id("wh-new").click()
        page.fill("#id_url", rec.url)
        page.fill("#id_description", "ERP 会员同步")
        page.get_by_test_id("wh-save").click()
        secret = page.get_by_test_id("wh-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        shot(page, f"secret-once-{lang}")
        page.get_by_test_id("wh-done").click()
        expect(page.get_by_test_id("wh-form")).to_be_visible()
        assert secret not in page.content()
        page.get_by_test_id("wh-test").click()
        expect(page.locator(".alert-success, .messages .success, [role=status]").first).to_be_visible()
        (req,) = rec.requests
        assert rules.verify(
            secret=secret, header=req.headers["x-galleria-signature"], body=req.body, now=int(time.time())
        )
        member(world)
        services.deliveries_run()
        assert len(rec.requests) == 2
        page.reload()
        expect(page.get_by_test_id("wh-delivery")).to_have_count(2)
        shot(page, f"endpoint-{lang}")
        page.goto(live_server.url + "/console/webhooks/deliveries/")
        expect(page.get_by_test_id("wh-delivery")).to_have_count(2)
        shot(page, f"log-{lang}")
        page.get_by_test_id("wh-delivery").first.locator("a").click()
        expect(page.get_by_test_id("wh-attempt")).to_have_count(1)
        page.get_by_test_id("wh-replay").click()
        expect(page.get_by_test_id("wh-status")).to_be_visible()
        shot(page, f"replay-{lang}")
        services.deliveries_run()
        assert len(rec.requests) == 3
    assert violations == []
    context.close()
