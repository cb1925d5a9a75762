"""What a new user meets in the member app and the merchant portal: times read in mall time, the tab bar lights the
screen the member is on, a refunded bill shows what the refund took back, the member code has a barcode for laser
scanners, a coupon names its shops, and every page has the icon and the language of the page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from galleria.accounts.models import User
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.coupons import services as coupon_services
from galleria.interfaces.app.barcode import code128_modules
from galleria.members.services import member_register
from galleria.privacy import services as privacy_services
from galleria.sales import services as sale_services
from galleria.sales.models import Sale
from galleria.sales.tests.helpers import sale_in
from galleria.sales.types import RefundLineIn

from .test_coupons_console import client_for, make_template

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=None, label="test")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def text(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return re.sub(r"\s+", " ", resp.content.decode())


@pytest.fixture
def member(world):
    return member_register(
        mall=world.mall, phone="13812345678", channel="desk", actor=ACTOR, profile={"name": "王小丽"}
    )


@pytest.fixture
def app(client, member):
    """The member signed in, pages in English."""
    session = client.session
    session["member_id"] = member.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def shanghai(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------------- mall time


def test_the_data_export_reads_in_mall_time(app, world, member):
    moment = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    req = privacy_services.export_create(
        member_id=member.pk, mall_group_id=world.group.pk, actor=ACTOR, via="app", now=moment
    )
    assert shanghai(moment) != utc(moment)
    page = text(app.get(reverse("app:privacy_export", args=[req.pk])))
    assert f"Prepared {shanghai(moment)}" in page and utc(moment) not in page
    index = text(app.get(reverse("app:privacy")))
    assert f"<span>{shanghai(moment)}</span>" in index and utc(moment) not in index


def test_a_coupon_valid_from_mall_midnight_reads_00_00_in_the_app(app, world):
    today = timeutil.local_date(timezone.now(), world.mall.timezone)
    start, _ = timeutil.local_day_bounds(today - dt.timedelta(days=1), world.mall.timezone)
    end, _ = timeutil.local_day_bounds(today + dt.timedelta(days=30), world.mall.timezone)
    make_template(world, name="午夜券", valid_from=start, valid_until=end, is_claimable=True)
    page = text(app.get(reverse("app:claim_centre")))
    assert f"Valid {shanghai(start)} – {shanghai(end)}" in page
    assert shanghai(start).endswith("00:00") and utc(start) not in page  # not 16:00 of the day before (UTC)


def test_the_merchant_portal_reads_in_mall_time(world):
    owner = client_for(world, "merchant_owner")
    seen = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    User.objects.filter(pk=world.users["merchant_clerk"].pk).update(last_login=seen)
    page = text(owner.get(reverse("merchant:staff")))
    assert shanghai(seen) in page and utc(seen) not in page
    today = timeutil.local_date(timezone.now(), world.mall.timezone)
    start, _ = timeutil.local_day_bounds(today, world.mall.timezone)
    make_template(
        world, name="喜茶午夜券", merchant_id=world.merchant.pk, funder="merchant", valid_from=start, activate=False
    )
    assert f"Valid {shanghai(start)}" in text(owner.get(reverse("merchant:coupons")))


# ---------------------------------------------------------------------------------------------- tab bar


def active_tabs(html: str) -> list[str]:
    bar = re.search(r'<nav class="tabbar".*?</nav>', html)
    assert bar is not None
    return re.findall(r'class="active" aria-current="page"> <svg[^>]*>.*?</svg> <span>([^<]+)</span>', bar.group(0))


@pytest.mark.parametrize(
    ("url", "tabs"),
    [
        ("/app/", ["Home"]),
        ("/app/points/", ["Points"]),
        ("/app/wallet/", ["Wallet"]),
        ("/app/profile/", ["Profile"]),
        ("/app/profile/privacy/", ["Profile"]),
        ("/app/tier/", []),
        ("/app/bills/", []),
        ("/app/coupons/", []),
        ("/app/coupons/centre/", []),
        ("/app/merchants/", []),
        ("/app/inbox/", []),
    ],
)
def test_the_tab_bar_lights_the_tab_of_the_screen_or_none(app, url, tabs):
    assert active_tabs(text(app.get(url))) == tabs


def test_a_bill_lights_no_tab(app, world, member):
    sale = sale_services.sale_commit(data=sale_in(world, member_id=member.pk, amounts=(12800,)), actor=ACTOR)
    assert active_tabs(text(app.get(reverse("app:bill", args=[sale.sale_id])))) == []


# ---------------------------------------------------------------------------------------------- refunds


def test_a_refunded_bill_shows_the_reversal_not_the_earn(app, world, member):
    sale_services.sale_commit(data=sale_in(world, member_id=member.pk, amounts=(12800,), pos_id="F1"), actor=ACTOR)
    kept = sale_services.sale_commit(
        data=sale_in(world, member_id=member.pk, amounts=(10000, 5000), pos_id="P1"), actor=ACTOR
    )
    sale_services.sale_refund(merchant_id=world.merchant.pk, pos_sale_id="F1", pos_refund_id="R1", lines=None)
    sale_services.sale_refund(
        merchant_id=world.merchant.pk, pos_sale_id="P1", pos_refund_id="R2", lines=[RefundLineIn(line_no=1, quantity=1)]
    )
    bills = text(app.get(reverse("app:bills")))
    assert "+128 points earned" not in bills
    assert "Points +128 −128 (refund) = 0" in bills and "¥128.00 refunded" in bills
    assert "Points +150 −100 (refund) = 50" in bills and "¥100.00 refunded" in bills
    home = text(app.get(reverse("app:home")))
    assert "Points +128 −128 (refund) = 0" in home
    bill = text(app.get(reverse("app:bill", args=[kept.sale_id])))
    assert 'data-testid="bill-points-earned">+150<' in bill
    assert 'data-testid="bill-points-reversed">−100<' in bill
    assert 'data-testid="bill-points-net"><b>50</b>' in bill
    assert 'data-testid="bill-refunded">¥100.00<' in bill


def test_points_returned_by_a_refund_show_on_the_bill(app, world, member):
    sale_services.sale_commit(data=sale_in(world, member_id=member.pk, amounts=(30000,), pos_id="E1"), actor=ACTOR)
    sale_services.sale_commit(
        data=sale_in(world, member_id=member.pk, amounts=(20000,), points=100, pos_id="P2"), actor=ACTOR
    )
    sale_services.sale_refund(merchant_id=world.merchant.pk, pos_sale_id="P2", pos_refund_id="R1", lines=None)
    bills = text(app.get(reverse("app:bills")))
    assert "Points +199 −199 (refund) = 0" in bills and "100 points returned" in bills
    assert "¥199.00 refunded" in bills and "¥200.00 refunded" not in bills  # the money paid back, not the goods' value
    sale_id = Sale.objects.get(pos_sale_id="P2").pk
    bill = text(app.get(reverse("app:bill", args=[sale_id])))
    assert 'data-testid="bill-refunded">¥199.00<' in bill and "100 points returned" in bill


def test_the_bills_page_costs_the_same_with_more_refunds(app, world, member, django_assert_max_num_queries):
    for n in range(2):
        sale_services.sale_commit(data=sale_in(world, member_id=member.pk, pos_id=f"A{n}"), actor=ACTOR)
        sale_services.sale_refund(
            merchant_id=world.merchant.pk, pos_sale_id=f"A{n}", pos_refund_id=f"RA{n}", lines=None
        )
    with CaptureQueriesContext(connection) as two:
        app.get(reverse("app:bills"))
    for n in range(6):
        sale_services.sale_commit(data=sale_in(world, member_id=member.pk, pos_id=f"B{n}"), actor=ACTOR)
        sale_services.sale_refund(
            merchant_id=world.merchant.pk, pos_sale_id=f"B{n}", pos_refund_id=f"RB{n}", lines=None
        )
    with django_assert_max_num_queries(len(two.captured_queries)):
        assert text(app.get(reverse("app:bills"))).count("(refund) = 0") == 8


# ---------------------------------------------------------------------------------------------- member code


def test_the_member_code_has_a_code_128_barcode_of_the_same_code(app):
    for resp in (app.get(reverse("app:code")), app.get(reverse("app:code"), HTTP_HX_REQUEST="true"), app.get("/app/")):
        html = resp.content.decode()
        code = re.search(r'data-code="(\d{18})"', html).group(1)
        svg = re.search(r'<div class="barcode-wrap" data-testid="code-barcode">(<svg .*?</svg>)</div>', html).group(1)
        drawn = re.findall(r"M(\d+) 0h(\d+)v1h-\2z", svg)
        width = int(re.search(r'viewBox="0 0 (\d+) 1"', svg).group(1))
        bars = ["0"] * width
        for x, w in drawn:
            bars[int(x) : int(x) + int(w)] = ["1"] * int(w)
        assert "".join(bars).strip("0") == code128_modules(code).strip("0")
        assert 'aria-label="Member barcode"' in svg


# ---------------------------------------------------------------------------------------------- merchant verify


def test_verify_names_the_shops_of_a_mall_coupon(world, member):
    t = make_template(world, name="指定商户券", scope_kind="merchants", scope_merchant_ids=[world.merchant.pk])
    issued = coupon_services.coupon_grant(
        mall_group_id=world.group.pk, template_id=t.pk, member_id=member.pk, idempotency_key="g", actor=ACTOR
    )
    clerk = client_for(world, "merchant_clerk")
    html = text(clerk.post(reverse("merchant:coupon_verify"), {"code": issued.code, "action": "check"}))
    assert "At 喜茶" in html and f"At #{world.merchant.pk}" not in html
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = text(clerk.post(reverse("merchant:coupon_verify"), {"code": issued.code, "action": "check"}))
    assert f"限#{world.merchant.pk}" not in html and "限喜茶使用" in html


def test_a_shops_own_coupon_scoped_to_itself_names_the_shop(world, member):
    """The demo's drink voucher: a merchant's own template whose "where" lists that merchant (it read 限#1使用)."""
    t = make_template(
        world,
        name="喜茶 饮品兑换券",
        kind="exchange",
        exchange_item="招牌饮品一杯",
        value_fen=1900,
        threshold_fen=0,
        merchant_id=world.merchant.pk,
        funder="merchant",
        scope_kind="merchants",
        scope_merchant_ids=[world.merchant.pk],
    )
    issued = coupon_services.coupon_grant(
        mall_group_id=world.group.pk, template_id=t.pk, member_id=member.pk, idempotency_key="s", actor=ACTOR
    )
    clerk, owner = client_for(world, "merchant_clerk"), client_for(world, "merchant_owner")
    for c in (clerk, owner):
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    verify = text(clerk.post(reverse("merchant:coupon_verify"), {"code": issued.code, "action": "check"}))
    listing = text(owner.get(reverse("merchant:coupons")))
    for html in (verify, listing):
        assert f"限#{world.merchant.pk}" not in html and f"At #{world.merchant.pk}" not in html
    assert "喜茶" in re.search(r'data-testid="verify-result".*', verify).group(0)


def test_verify_names_the_owner_of_another_shops_coupon(world, member):
    t = make_template(world, name="优衣库券", merchant_id=world.other_merchant.pk, funder="merchant")
    issued = coupon_services.coupon_grant(
        mall_group_id=world.group.pk, template_id=t.pk, member_id=member.pk, idempotency_key="o", actor=ACTOR
    )
    html = text(
        client_for(world, "merchant_clerk").post(
            reverse("merchant:coupon_verify"), {"code": issued.code, "action": "check"}
        )
    )
    assert "At 优衣库 only" in html and "At 喜茶 only" not in html


# ---------------------------------------------------------------------------------------------- every page


def test_every_base_template_links_the_favicon(world, app):
    icon = '<link rel="icon" href="/static/galleria/img/favicon.svg" type="image/svg+xml">'
    pages = [
        app.get("/app/"),
        Client().get(reverse("app:login")),
        Client().get(reverse("console:login")),
        client_for(world, "group_admin").get("/console/"),
        client_for(world, "merchant_owner").get(reverse("merchant:home")),
    ]
    for resp in pages:
        assert icon in text(resp)
    path = finders.find("galleria/img/favicon.svg")
    assert path is not None
    root = ElementTree.fromstring(Path(path).read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox") == "0 0 64 64"


@pytest.mark.parametrize(("cookie", "lang"), [("zh-hans", "zh-hans"), ("en", "en")])
def test_the_app_page_language_follows_the_active_language(app, cookie, lang):
    app.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    for url in ("/app/", "/app/profile/"):
        assert f'<html lang="{lang}">' in text(app.get(url))
    assert 'type="date"' in text(app.get("/app/profile/"))  # the birthday: the browser's own date picker
