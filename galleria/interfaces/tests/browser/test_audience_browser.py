"""The audience console in a real browser (issue #18, "Tags, RFM, personas, segments"): a marketing manager opens the
RFM overview, builds a segment — a spend condition in yuan and a group of lifecycle stages — watches the live count
follow each change (a wrong range is marked on its row), saves it, and reads its persona; then tags its members and
sees the tag on a member's page. No CSP violation or page error on the way. Screenshots under
var/screenshots/audience/<screen>-<lang>.png (looked at by a person)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.audience import services
from galleria.audience.models import MemberTag, Segment
from galleria.audience.tests.helpers import member, sale
from galleria.audit.types import Actor
from galleria.core import timeutil

from .screens import staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "audience"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_segment_built_counted_saved_and_used(browser, live_server, world, lang):
    now = timeutil.now()
    big = [member(world, joined_at=now - dt.timedelta(days=200), gender="female") for _ in range(3)]
    small = [member(world, joined_at=now - dt.timedelta(days=200), gender="male") for _ in range(2)]
    for m in big:
        sale(world, m, at=now - dt.timedelta(days=3), fen=88000)
    for m in small:
        sale(world, m, at=now - dt.timedelta(days=3), fen=1200)
    services.profiles_rebuild(mall_group_id=world.group.pk)
    tag = services.tag_save(mall_group_id=world.group.pk, name="VIP 沙龙", actor=Actor.system("test"))

    violations: list[str] = []
    context, page = staff_page(browser, live_server, world.users["marketing"].username, lang)
    watch(page, violations)
    page.goto(live_server.url + "/console/audience/")
    expect(page.get_by_test_id("aud-rfm-table")).to_be_visible()
    expect(page.get_by_test_id("aud-scored")).to_have_text("5")
    shot(page, f"overview-{lang}")

    page.goto(live_server.url + "/console/audience/segments/new/")
    count = page.get_by_test_id("seg-count")
    expect(count).to_have_text("5")  # no condition: every member
    page.get_by_test_id("seg-add").click()
    row = page.get_by_test_id("seg-row").nth(0)
    row.locator("select.seg-field").select_option("spend")
    row.locator("input[data-key=min]").fill("500")  # ¥500 = 50,000 fen
    expect(count).to_have_text("3")
    row.locator("input[data-key=max]").fill("100")  # at most ¥100 < at least ¥500: refused, the row is marked
    expect(page.get_by_test_id("seg-count-error")).not_to_be_empty()
    expect(row).to_have_class("seg-row has-error")
    row.locator("input[data-key=max]").fill("")
    expect(count).to_have_text("3")
    page.get_by_test_id("seg-add-group").click()
    group = page.get_by_test_id("seg-group")
    group.locator("select.seg-field").select_option("lifecycle")
    group.locator("select[data-key=in]").select_option(label=("Active" if lang == "en" else "活跃"))
    expect(count).to_have_text("3")
    page.get_by_test_id("seg-name").fill("大额消费女性")
    shot(page, f"builder-{lang}")
    page.get_by_test_id("seg-save").click()
    expect(page.get_by_test_id("seg-size")).to_have_text("3")
    segment = Segment.objects.get(name="大额消费女性")
    assert segment.definition["conditions"][0] == {"field": "spend", "days": 90, "min": 50000}
    assert segment.definition["conditions"][1]["conditions"][0] == {"field": "lifecycle", "in": ["active"]}
    shot(page, f"segment-{lang}")

    page.get_by_test_id("seg-tag-form").locator("select").select_option(str(tag.pk))
    page.get_by_test_id("seg-tag-form").locator("button").click()
    expect(page.locator(".alert, .messages, [role=status]").first).to_be_visible()
    assert set(MemberTag.objects.filter(tag=tag).values_list("member_id", flat=True)) == {m.pk for m in big}

    page.goto(live_server.url + f"/console/members/{big[0].pk}/")
    expect(page.get_by_test_id("member-tags")).to_contain_text("VIP 沙龙")
    expect(page.get_by_test_id("member-lifecycle")).to_have_text("Active" if lang == "en" else "活跃")
    page.get_by_test_id("member-audience").scroll_into_view_if_needed()
    shot(page, f"member-{lang}")
    context.close()
    assert violations == []
