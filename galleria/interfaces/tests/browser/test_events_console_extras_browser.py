"""The console's registration questions and conversion report in a real browser: marketing adds a one-choice
question on the event's page, a member's answer shows in the registrations list; the attendance page shows an ended
event's conversion (attendees against similar members). No CSP violation. Screenshots under
var/screenshots/events/console-*-<lang>.png (looked at by a person)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from galleria.core import timeutil
from galleria.events import services
from galleria.events.models import Question
from galleria.events.tests.helpers import ACTOR, event, member, register
from galleria.events.tests.test_conversion import sale

from .screens import staff_page, watch
from .test_events_browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_questions_answers_and_the_conversion_report(browser, live_server, world, lang):
    ev = event(world, title="周末亲子烘焙课")
    start = timeutil.now() - dt.timedelta(days=1)
    past = event(world, title="秋季穿搭讲座", starts_at=start, ends_at=start + dt.timedelta(hours=2))
    for fen in (52_000, 18_000, 0):
        m = member(world)
        reg = register(world, m, past, at=start - dt.timedelta(days=1))
        services.check_in(mall_group_id=world.group.pk, code=reg.code, actor=ACTOR, at=start)
        if fen:
            sale(world, m, at=start + dt.timedelta(hours=3), fen=fen)
    for fen in (9_900, 0, 0, 0):
        m = member(world)
        if fen:
            sale(world, m, at=start + dt.timedelta(hours=1), fen=fen)
    violations: list[str] = []
    ctx, page = staff_page(browser, live_server, "marketing", lang)
    watch(page, violations)
    try:
        page.goto(live_server.url + f"/console/events/{ev.pk}/")
        form = page.get_by_test_id("ev-question-form")
        form.locator("input[name=label]").fill("场次")
        form.locator("select[name=kind]").select_option("single")
        form.locator("textarea[name=choices]").fill("上午\n下午")
        form.locator("input[name=required]").check()
        page.get_by_test_id("ev-question-add").click()
        expect(page.get_by_test_id("ev-question-row")).to_have_count(1)
        q = Question.objects.get()
        register(world, member(world), ev, answers={f"q{q.pk}": ["下午"]})
        page.reload()
        expect(page.get_by_test_id("ev-reg-answers").first).to_contain_text("下午")
        shot(page, f"console-questions-{lang}")

        page.goto(live_server.url + "/console/events/attendance/")
        page.get_by_test_id("ev-conv-open").first.click()
        expect(page.get_by_test_id("ev-conversion")).to_be_visible()
        expect(page.get_by_test_id("ev-conv-attendees")).to_have_text("3")
        expect(page.get_by_test_id("ev-conv-peers")).to_have_text("5")  # 4 + the member registered elsewhere
        expect(page.get_by_test_id("ev-conv-attendee-avg")).to_have_text("¥233.33")
        expect(page.get_by_test_id("ev-conv-peer-avg")).to_have_text("¥19.80")
        shot(page, f"console-conversion-{lang}")
    finally:
        ctx.close()
    assert violations == []
