"""The member app's bill page: a sale whose one line is the bill itself — pay at store (quantity 1) and a WeChat Pay
商圈 payment (quantity = the amount in fen, docs/payments.md) — shows that line's name and amount, never "× 1" or
"× 12800", nor the line's "（按 ¥0.01 计）" note; a refund of it shows as the amount refunded. A basket from a till
keeps its quantities."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.conf import settings

from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.sales import services as sale_services
from galleria.sales.tests.helpers import sale_in
from galleria.sales.types import LineIn, PaymentIn, RefundLineIn

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, label="test")


@pytest.fixture
def member(world):
    return member_register(mall=world.mall, phone="13812345678", channel="desk", actor=ACTOR)


@pytest.fixture
def app(client, member):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    session = client.session
    session["member_id"] = member.pk
    session.save()
    return client


def one_line_sale(world, member, *, channel: str, line: LineIn, pos_id: str):
    data = dataclasses.replace(
        sale_in(world, member_id=member.pk, pos_id=pos_id),
        channel=channel,
        lines=(line,),
        payments=(PaymentIn("wechat", line.amount_fen),),
    )
    return data, sale_services.sale_commit(data=data, actor=ACTOR)


def bill_lines(app, sale_id: int) -> list[str]:
    html = app.get(f"/app/bills/{sale_id}/").content.decode()
    items = re.findall(r'<li data-testid="bill-line"><span>(.*?)</span><span>(.*?)</span></li>', html, re.S)
    return [re.sub(r"<[^>]+>", "", name + " | " + amount).strip() for name, amount in items]


def test_a_wechat_business_circle_payment_shows_its_amount_not_its_fen(app, world, member):
    name = "微信支付 ¥128.00 · 喜茶（按 ¥0.01 计）"  # as the 商圈 channel names it (payments.services.mall_points)
    data, sale = one_line_sale(
        world,
        member,
        channel="payment_link",
        line=LineIn(sku="WXMALL", name=name, quantity=12800, unit_price_fen=1, amount_fen=12800),
        pos_id="wxmall:4200001",
    )
    assert bill_lines(app, sale.sale_id) == ["微信支付 ¥128.00 · 喜茶 | ¥128.00"]
    # WeChat refunds ¥12.00: 1,200 units of the line
    sale_services.sale_refund(
        merchant_id=data.merchant_id,
        pos_sale_id=data.pos_sale_id,
        pos_refund_id="wxmall:R1",
        lines=[RefundLineIn(line_no=1, quantity=1200)],
    )
    (line,) = bill_lines(app, sale.sale_id)
    assert line == "微信支付 ¥128.00 · 喜茶 已退款 ¥12.00 | ¥128.00"
    assert "1200" not in line and "×" not in line


def test_a_pay_at_store_bill_shows_no_quantity(app, world, member):
    _data, sale = one_line_sale(
        world,
        member,
        channel="pay_at_store",
        line=LineIn(sku="STORE", name="喜茶", quantity=1, unit_price_fen=30000, amount_fen=30000),
        pos_id="app:1",
    )
    assert bill_lines(app, sale.sale_id) == ["喜茶 | ¥300.00"]


def test_a_till_basket_keeps_its_quantities(app, world, member):
    sale = sale_services.sale_commit(data=sale_in(world, member_id=member.pk, amounts=(12800, 2000)), actor=ACTOR)
    assert bill_lines(app, sale.sale_id) == ["item 0 × 1 | ¥128.00", "item 1 × 1 | ¥20.00"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_bill_page_on_a_phone(browser, live_server, world, member):
    """Screenshot: var/screenshots/app-bill-payment-link.png (a 商圈 payment partly refunded)."""
    from importlib import import_module
    from pathlib import Path

    from playwright.sync_api import expect

    data, sale = one_line_sale(
        world,
        member,
        channel="payment_link",
        line=LineIn(
            sku="WXMALL",
            name="微信支付 ¥128.00 · 喜茶（按 ¥0.01 计）",
            quantity=12800,
            unit_price_fen=1,
            amount_fen=12800,
        ),
        pos_id="wxmall:4200002",
    )
    sale_services.sale_refund(
        merchant_id=data.merchant_id,
        pos_sale_id=data.pos_sale_id,
        pos_refund_id="wxmall:R2",
        lines=[RefundLineIn(line_no=1, quantity=1200)],
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = member.pk
    store.create()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/app/bills/{sale.sale_id}/")
    line = page.get_by_test_id("bill-line")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("微信支付 ¥128.00 · 喜茶")
    expect(line).not_to_contain_text("×")
    expect(line).not_to_contain_text("按 ¥0.01 计")
    shots = Path(settings.BASE_DIR) / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "app-bill-payment-link.png"), full_page=True)
    context.close()
