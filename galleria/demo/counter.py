"""Counter sales for the demo: shops without a POS integration record members' purchases at the merchant portal's
counter (channel `counter`, docs/merchant-counter.md) — 喜茶 and 优衣库, whose demo logins open the counter, and
迪卡侬 — over the last week and earlier today, with one whole and one partial refund.

Each sale goes through the checkout pipeline exactly as the counter sends it: quoted first (promotions in force
apply by themselves), then committed with the quoted money, a `counter:<hex>` receipt number and no terminal.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.selectors import members_active
from galleria.merchants.selectors import merchant_options, store_list
from galleria.sales import selectors as sale_selectors
from galleria.sales import services as sale_services
from galleria.sales.types import Channel, LineIn, PaymentIn, RefundLineIn, SaleIn

from . import catalog

ACTOR = Actor(user_id=None, label="demo-counter")
TZ = "Asia/Shanghai"
# What each demo shop sells at its counter: (item, unit price in fen, category)
MENUS: dict[str, tuple[tuple[str, int, str], ...]] = {
    "喜茶": (
        ("多肉葡萄", 2900, ""),
        ("芝芝莓莓", 3100, ""),
        ("烤黑糖波波牛乳", 1900, ""),
        ("储值卡", 10000, "gift_card"),
    ),
    "优衣库": (
        ("AIRism 棉质T恤", 9900, ""),
        ("摇粒绒茄克", 19900, ""),
        ("牛仔裤", 29900, ""),
        ("袜子三双装", 7900, ""),
    ),
    "迪卡侬": (("徒步鞋", 39900, ""), ("瑜伽垫", 12900, ""), ("羽毛球拍", 15900, ""), ("运动水壶", 3900, "")),
}
SALES_PER_SHOP = 12


@dataclass
class CounterResult:
    sales: int = 0
    refunds: int = 0


def _store_id(mall_group_id: int, name: str) -> tuple[int, int] | None:
    """(merchant id, store id) of the shop's first open store, or None when the demo has no such shop."""
    for merchant in merchant_options(mall_group_id=mall_group_id).filter(name=name):
        store = store_list(merchant_id=merchant.pk).filter(is_active=True).first()
        if store is not None:
            return merchant.pk, store.pk
    return None


def _when(rng: random.Random, now: dt.datetime, index: int) -> dt.datetime:
    """Over the last 7 days (10:00–21:59 mall time), the first few of each shop earlier today."""
    today = timeutil.local_date(now, TZ)
    day = today - dt.timedelta(days=0 if index < 3 else rng.randint(1, 7))
    opening, _closing = timeutil.local_day_bounds(day, TZ)
    at = opening + dt.timedelta(hours=10, seconds=rng.randint(0, 12 * 3600 - 1))
    return min(at, now - dt.timedelta(minutes=5 + index))


def seed_counter_sales(*, mall_group_id: int, seed: int = catalog.DEFAULT_SEED) -> CounterResult:
    rng = random.Random(seed * 4099 + 14)
    result = CounterResult()
    members = list(members_active(mall_group_id=mall_group_id).order_by("pk").values_list("pk", flat=True)[:500])
    if not members:
        return result
    now = timezone.now()
    refundable: list[tuple[int, str, int]] = []
    for shop, menu in MENUS.items():
        found = _store_id(mall_group_id, shop)
        if found is None:
            continue
        merchant_id, store_id = found
        for i in range(SALES_PER_SHOP):
            picks = rng.sample(menu, k=rng.choice((1, 1, 2, 3)))
            quantities = [rng.choice((1, 1, 2)) for _ in picks]
            lines = tuple(
                LineIn(
                    sku=f"COUNTER-{n}",
                    name=name,
                    quantity=qty,
                    unit_price_fen=price,
                    amount_fen=price * qty,
                    category=category,
                )
                for n, ((name, price, category), qty) in enumerate(zip(picks, quantities, strict=True), start=1)
            )
            member_id = rng.choice(members)
            at = _when(rng, now, i)
            quote = sale_selectors.sale_quote(
                merchant_id=merchant_id, member_id=member_id, lines=lines, payments=(), at=at, coupon_ids=()
            )
            data = SaleIn(
                merchant_id=merchant_id,
                store_id=store_id,
                terminal_id=None,
                pos_sale_id=f"counter:{rng.getrandbits(128):032x}",
                occurred_at=at,
                lines=lines,
                payments=(PaymentIn(rng.choice(("wechat", "wechat", "alipay", "card", "cash")), quote.paid_fen),)
                if quote.paid_fen
                else (),
                member_id=member_id,
                channel=Channel.COUNTER,
            )
            sale_services.sale_commit(data=data, actor=ACTOR)
            result.sales += 1
            if i in (4, 7):
                refundable.append((merchant_id, data.pos_sale_id, len(lines)))
    for n, (merchant_id, pos_sale_id, n_lines) in enumerate(refundable[:2]):
        back = None if n == 0 else [RefundLineIn(line_no=n_lines, quantity=1)]
        sale_services.sale_refund(
            merchant_id=merchant_id, pos_sale_id=pos_sale_id, pos_refund_id=f"counter:refund-{n}", lines=back
        )
        result.refunds += 1
    return result
