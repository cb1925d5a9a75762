"""A campaign in a real browser (issue #18, "Browser journey"): a marketing manager opens a saved segment's campaign
editor, sends an inbox message and an SMS with a coupon to the segment with a 25 % hold-out; the treated members find
it in the app inbox, the SMS go through the SMS sandbox over the provider's signed protocol (its outbox shows them),
the hold-out gets nothing; some members buy; the report shows treated against hold-out, the incremental sales and
the ROI. Screenshots under var/screenshots/campaigns/<screen>-<lang>.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.audience import services as audience_services
from galleria.audience.tests.helpers import member, sale
from galleria.audit.types import Actor
from galleria.campaigns.models import Campaign, CampaignMember, MarketingSettings
from galleria.core import timeutil
from galleria.coupons.tests.helpers import template as coupon_template
from galleria.members.models import Consent
from galleria.messaging.models import SmsMessage
from galleria.messaging.sms import backend_cache_clear
from galleria.messaging.testing import sandbox_settings, sms_sandbox_start

from .screens import member_page, staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "campaigns"
ACTOR = Actor.system("test")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def sms_gateway(settings, tmp_path):
    proc = sms_sandbox_start(workdir=tmp_path)
    for name, value in sandbox_settings(proc.keys, endpoint=proc.endpoint, provider="aliyun").items():
        setattr(settings, name, value)
    backend_cache_clear()
    yield proc
    backend_cache_clear()
    proc.stop()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_campaign_with_a_holdout_reaches_members_and_reports_roi(browser, live_server, world, sms_gateway, lang):
    now = timeutil.now()
    members = [member(world, joined_at=now - dt.timedelta(days=60), gender="female") for _ in range(16)]
    for m in members:
        Consent.objects.create(member=m, purpose="marketing_sms", is_granted=True, channel="app")
    audience_services.segment_save(
        mall_group_id=world.group.pk,
        name="女性会员",
        definition={"conditions": [{"field": "gender", "in": ["female"]}]},
        actor=ACTOR,
    )
    coupon = coupon_template(world)
    MarketingSettings.objects.create(mall_group=world.group, quiet_start=dt.time(0), quiet_end=dt.time(0))  # none

    violations: list[str] = []
    context, page = staff_page(browser, live_server, world.users["marketing"].username, lang)
    watch(page, violations)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_server.url + "/console/campaigns/")
    page.get_by_test_id("cmp-new").click()
    form = page.get_by_test_id("cmp-form")
    form.locator("[name=name]").fill("双十二会员日")
    form.locator("[name=holdout_percent]").fill("25")
    form.locator("[name=send_sms]").check()
    form.locator("[name=title]").fill("双十二会员专享")
    form.locator("[name=body]").fill("12 月 12 日全场满 300 减 50，凭券再减 20。")
    form.locator("[name=sms_text]").fill("满300减50，再送20元券")
    form.locator("[name=coupon]").select_option(str(coupon.pk))
    shot(page, f"editor-{lang}")
    page.get_by_test_id("cmp-save").click()
    page.get_by_test_id("cmp-schedule").click()
    expect(page.get_by_test_id("cmp-status")).to_have_text("Sent" if lang == "en" else "已发送")

    c = Campaign.objects.get()
    rows = {r.member_id: r for r in CampaignMember.objects.filter(campaign=c)}
    treated = [m for m in members if rows[m.pk].arm == "treated"]
    held = [m for m in members if rows[m.pk].arm == "holdout"]
    assert treated and held and c.treated + c.held_out == 16
    expect(page.get_by_test_id("cmp-sms")).to_have_text(str(len(treated)))
    # the SMS went out through the sandbox over Aliyun's signed protocol; the hold-out got none
    outbox = sms_gateway.outbox()
    assert len(outbox) == len(treated)
    assert {m["phone"].lstrip("+86") for m in outbox} == {m.phone.lstrip("+86") for m in treated}
    assert SmsMessage.objects.filter(status="sent").count() == len(treated)

    # a treated member finds the message in the app inbox; a held-out member does not
    mctx, mpage = member_page(browser, live_server, treated[0], lang)
    mpage.goto(live_server.url + "/app/inbox/")
    expect(mpage.get_by_text("双十二会员专享").first).to_be_visible()
    mctx.close()
    hctx, hpage = member_page(browser, live_server, held[0], lang)
    hpage.goto(live_server.url + "/app/inbox/")
    expect(hpage.get_by_text("双十二会员专享")).to_have_count(0)
    hctx.close()

    # some buy: every other treated member, and one held-out member
    for m in treated[::2]:
        sale(world, m, at=timeutil.now(), fen=38800)
    sale(world, held[0], at=timeutil.now(), fen=38800)
    page.reload()
    expect(page.get_by_test_id("cmp-row-treated")).to_contain_text(str(len(treated[::2])))
    expect(page.get_by_test_id("cmp-row-holdout")).to_contain_text("1")
    expect(page.get_by_test_id("cmp-roi")).not_to_have_text("—")
    shot(page, f"report-{lang}")
    context.close()
    assert violations == []
