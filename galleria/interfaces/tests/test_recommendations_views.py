"""Recommendations on the screens: the app home's "为你推荐" block placed by the layout, the /app/for-you/ page with
reasons naming the member's own merchants and the one-tap switch (recorded as a consent, popular content after);
the console page (scores, switches, "what is recommended to member X and why" with the phone masked); the merchant
counter's lookup (categories only, never another merchant's name)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from galleria.audit.types import Actor
from galleria.content import services as content_services
from galleria.core import timeutil
from galleria.members.models import Consent
from galleria.members.services import member_register
from galleria.merchants.models import Category
from galleria.recommendations import services
from galleria.recommendations.tests.helpers import members, merchant, sales

from .test_app_loyalty import sign_in_as
from .test_console_views import login

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def shop(world):
    """A member who often buys at 喜茶 (world.merchant) and once at 面包坊; other members buy at 喜茶 and 蛋糕坊."""
    cake = merchant(world, "蛋糕坊", Category.DINING)
    bread = merchant(world, "面包坊", Category.DINING)
    me = member_register(mall=world.mall, phone="13912345678", channel="desk", actor=ACTOR)
    others = members(world, 8)
    now = timeutil.now()
    rows = [(me, world.merchant, now - dt.timedelta(days=d)) for d in (1, 3, 5)]
    rows.append((me, bread, now - dt.timedelta(days=2)))
    for o in others:
        rows += [(o, world.merchant, now - dt.timedelta(days=6)), (o, cake, now - dt.timedelta(days=4))]
    sales(world, rows)
    services.model_train(mall_group_id=world.group.pk)
    services.model_evaluate(mall_group_id=world.group.pk)
    return {"me": me, "cake": cake, "bread": bread}


def test_home_block_is_placed_by_the_layout(client, world, shop):
    sign_in_as(client, shop["me"])
    assert 'data-testid="section-for-you"' not in client.get("/app/").content.decode()
    blocks = [{"id": "fy0001", "type": "section", "kind": "for_you", "title": "", "text": ""}]
    content_services.layout_draft_edit(mall_group_id=world.group.pk, revision=0, edit=lambda b: blocks, actor=ACTOR)
    content_services.layout_publish(mall_group_id=world.group.pk, revision=1, actor=ACTOR)
    html = client.get("/app/").content.decode()
    assert 'data-testid="section-for-you"' in html and "蛋糕坊" in html
    services.switches_update(mall_group_id=world.group.pk, values={"merchants": False}, actor=ACTOR)
    assert 'data-testid="section-for-you"' not in client.get("/app/").content.decode()


def test_for_you_page_and_the_one_tap_switch(client, world, shop):
    sign_in_as(client, shop["me"])
    html = client.get(reverse("app:for_you")).content.decode()
    assert "蛋糕坊" in html and "喜茶" in html  # the reason names the member's own merchant
    assert 'data-testid="for-you-off"' in html
    resp = client.post(reverse("app:for_you_switch"), {"on": "0"})
    assert resp.status_code == 302
    consent = Consent.objects.filter(member=shop["me"], purpose="recommendations").latest("recorded_at")
    assert consent.is_granted is False and consent.channel == "app"
    html = client.get(reverse("app:for_you")).content.decode()
    assert 'data-testid="for-you-on"' in html
    assert "Because you often visit" not in html and "因为你常去" not in html
    # a hand-made POST without a choice changes nothing
    client.post(reverse("app:for_you_switch"), {})
    assert Consent.objects.filter(member=shop["me"], purpose="recommendations").count() == 1


def test_privacy_page_shows_recommendations_on_by_default(client, world, shop):
    sign_in_as(client, shop["me"])
    resp = client.get(reverse("app:privacy"))
    toggles = {t["purpose"]: t["granted"] for t in resp.context["toggles"]}
    assert toggles["recommendations"] is True and toggles["personalisation"] is False


def test_console_shows_model_scores_and_a_members_recommendations(client, world, shop):
    login(client, world, "service")
    page = client.get(reverse("console:recommendations"), {"member": "13912345678"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="rec-score-popularity"' in html
    result = html[html.index('data-testid="rec-member"') :]
    assert "139****5678" in result and "13912345678" not in result[: result.index("</section>")]
    assert "蛋糕坊" in html
    assert 'data-testid="rec-train"' not in html  # view only
    assert client.post(reverse("console:recommendations_train")).status_code == 403


def test_console_manager_switches_blocks_and_trains(client, world, shop):
    login(client, world, "marketing")
    client.post(reverse("console:recommendations_switches"), {"save": "1", "show_merchants": "on"})
    html = client.get(reverse("console:recommendations")).content.decode()
    assert 'data-testid="rec-switch-coupons"' in html
    from galleria.recommendations.selectors import switches

    s = switches(mall_group_id=world.group.pk)
    assert s.merchants and not s.coupons and not s.events
    client.post(reverse("console:recommendations_train"))
    from galleria.recommendations.selectors import model_active

    model = model_active(mall_group_id=world.group.pk)
    assert model is not None and model.version == 2 and model.metrics


def test_merchant_lookup_shows_categories_not_other_merchants(client, world, shop):
    login(client, world, "merchant_clerk")
    html = client.post("/merchant/lookup/", {"q": shop["me"].card_no}).content.decode()
    assert 'data-testid="lookup-categories"' in html
    assert "面包坊" not in html  # another merchant the member bought at: only its category is shown
    Consent.objects.create(member=shop["me"], purpose="recommendations", is_granted=False, channel="app")
    html = client.post("/merchant/lookup/", {"q": shop["me"].card_no}).content.decode()
    assert 'data-testid="lookup-suggest-off"' in html and 'data-testid="lookup-categories"' not in html
