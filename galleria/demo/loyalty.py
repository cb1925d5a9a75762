"""A year of loyalty life for the demo: rules, tiers, top-ups and sales through the real services.

Sales go through `sales.services.sale_commit` (not bulk inserts), so every point, lot, tier change and wallet
movement in the demo is exactly what production would have written, and `galleria ledger check` is clean.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from galleria.analytics.services import rollup_rebuild
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.demo.app_content import AppContentResult, seed_app_content
from galleria.malls.models import MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Category, Merchant, PosKey, PosTerminal, Store
from galleria.merchants.services import pos_key_create
from galleria.points.models import BehaviourRule, EarnRule, PointsCampaign, PointsPolicy
from galleria.points.services import points_adjust_request
from galleria.sales import services as sale_services
from galleria.sales.types import LineIn, PaymentIn, RefundLineIn, SaleIn
from galleria.tiers.services import tier_ladder_ensure_default
from galleria.wallet import services as wallet_services
from galleria.wallet.models import TopUpBonusRule

from . import catalog
from . import coupons as demo_coupons
from .amenities import AmenitiesResult, seed_amenities
from .audience import AudienceResult, seed_audience
from .counter import seed_counter_sales
from .events import EventsResult, seed_events
from .games import GamesResult, seed_games
from .online_mall import OnlineMallResult, seed_online_mall
from .parking import ParkingResult, seed_parking
from .points_mall import PointsMallResult, seed_points_mall
from .receipts import seed_receipts
from .recommendations import seed_recommendations

ACTOR = Actor(user_id=None, label="demo")
TZ = "Asia/Shanghai"
DEMO_KEY_LABEL = "demo"
# typical ticket by merchant category, in fen (low, high)
TICKETS: dict[str, tuple[int, int]] = {
    Category.DINING: (3500, 45000),
    Category.FASHION: (19900, 159900),
    Category.KIDS: (9900, 89900),
    Category.SUPERMARKET: (2000, 60000),
    Category.CINEMA: (4500, 19800),
    Category.BEAUTY: (9900, 129900),
    Category.SPORTS: (19900, 129900),
    Category.SERVICES: (3000, 39900),
    Category.ELECTRONICS: (29900, 899900),
    Category.JEWELRY: (99900, 2999900),
    Category.HOME: (9900, 299900),
    Category.ENTERTAINMENT: (5000, 30000),
    Category.EDUCATION: (19900, 599900),
}


@dataclass
class LoyaltyResult:
    sales: int = 0
    refunds: int = 0
    topups: int = 0
    points_issued: int = 0
    coupons: demo_coupons.CouponResult | None = None
    app: AppContentResult | None = None
    parking: ParkingResult | None = None
    points_mall: PointsMallResult | None = None
    online_mall: OnlineMallResult | None = None
    events: EventsResult | None = None
    games: GamesResult | None = None
    amenities: AmenitiesResult | None = None
    audience: AudienceResult | None = None


def seed_rules(group: MallGroup, today: dt.date) -> None:
    tier_ladder_ensure_default(mall_group_id=group.pk)
    PointsPolicy.objects.update_or_create(
        mall_group=group,
        defaults={"excluded_categories": ["gift_card", "tobacco"], "daily_cap": 20000, "per_sale_cap": 10000},
    )
    EarnRule.objects.get_or_create(
        mall_group=group,
        name="超市 每¥2积1分",
        scope="category",
        category=Category.SUPERMARKET,
        defaults={"earn_points": 1, "earn_unit_fen": 200},
    )
    EarnRule.objects.get_or_create(
        mall_group=group,
        name="珠宝 每¥5积1分",
        scope="category",
        category=Category.JEWELRY,
        defaults={"earn_points": 1, "earn_unit_fen": 500},
    )
    EarnRule.objects.get_or_create(
        mall_group=group,
        name="影院 双倍积分（商户出资）",
        scope="category",
        category=Category.CINEMA,
        defaults={"earn_points": 2, "earn_unit_fen": 100, "funder": "merchant"},
    )
    PointsCampaign.objects.get_or_create(
        mall_group=group,
        name="会员日 双倍积分",
        defaults={
            "multiplier_bp": 20000,
            "starts_on": today - dt.timedelta(days=400),
            "ends_on": today + dt.timedelta(days=365),
            "month_days": [8, 18, 28],
        },
    )
    for event, points in (
        ("signup", 100),
        ("profile_complete", 200),
        ("checkin", 5),
        ("first_purchase_at_merchant", 20),
    ):
        BehaviourRule.objects.get_or_create(mall_group=group, event=event, defaults={"points": points})
    for minimum, bonus in ((100000, 5000), (300000, 20000), (500000, 40000)):
        TopUpBonusRule.objects.get_or_create(
            mall_group=group,
            min_amount_fen=minimum,
            defaults={"bonus_fen": bonus, "name": f"充 ¥{minimum // 100:,} 送 ¥{bonus // 100:,}"},
        )


def demo_pos_key() -> PosKey:
    """The demo's POS test terminal key (created once, on 喜茶's first terminal)."""
    key = PosKey.objects.filter(label=DEMO_KEY_LABEL, revoked_at__isnull=True).first()
    if key is None:
        mall_code, name = catalog.HEYTEA
        terminal = (
            PosTerminal.objects.filter(store__merchant__name=name, store__merchant__mall__code=mall_code)
            .order_by("pk")
            .first()
        )
        assert terminal is not None
        key, _secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk, label=DEMO_KEY_LABEL)
    return key


def seed_activity(
    group: MallGroup, *, sales: int, seed: int, today: dt.date, promotion_from: dt.datetime | None = None
) -> LoyaltyResult:
    """`sales` sales over the last 365 days by a core of regular shoppers, a few top-ups and refunds."""
    rng = random.Random(seed * 7919 + 1)
    result = LoyaltyResult()
    members = list(Member.objects.filter(mall_group=group).order_by("pk").values_list("pk", "created_at"))
    stores = list(
        Store.objects.filter(merchant__mall__group=group, is_active=True).select_related("merchant").order_by("pk")
    )
    if not members or not stores:
        return result
    shoppers = rng.sample(members, k=max(1, len(members) * 2 // 5))
    heavy = shoppers[: max(1, len(shoppers) // 10)]  # a tenth of shoppers buy much more (they reach gold/black)
    now = timezone.now()
    # top-ups for some of the heavy shoppers, a year ago
    wallet_members: set[int] = set()
    for member_id, joined in heavy[: max(1, len(heavy) // 3)]:
        amount = rng.choice((100000, 300000, 500000))
        at = max(joined, now - dt.timedelta(days=365)) + dt.timedelta(hours=1)
        intent = wallet_services.wallet_topup_start(
            mall_id=stores[0].merchant.mall_id, member_id=member_id, amount_fen=amount, at=at
        )
        wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=amount, paid_at=at)
        wallet_members.add(member_id)
        result.topups += 1
    receipts: list[tuple[int, str, int]] = []
    for batch_start in range(0, sales, 250):  # one commit per 250 sales: the demo is seeded, not served
        with transaction.atomic():
            _sales_batch(
                rng,
                range(batch_start, min(sales, batch_start + 250)),
                heavy,
                shoppers,
                stores,
                wallet_members,
                now,
                seed,
                result,
                receipts,
                promotion_from,
            )
    for merchant_id, pos_sale_id, n_lines in rng.sample(receipts, k=len(receipts) // 50):
        lines = None if rng.random() < 0.5 else [RefundLineIn(line_no=rng.randint(1, n_lines), quantity=1)]
        sale_services.sale_refund(merchant_id=merchant_id, pos_sale_id=pos_sale_id, pos_refund_id="R1", lines=lines)
        result.refunds += 1
    return result


def _sales_batch(
    rng: random.Random,
    indexes: range,
    heavy: list[tuple[int, dt.datetime]],
    shoppers: list[tuple[int, dt.datetime]],
    stores: list[Store],
    wallet_members: set[int],
    now: dt.datetime,
    seed: int,
    result: LoyaltyResult,
    receipts: list[tuple[int, str, int]],
    promotion_from: dt.datetime | None = None,
) -> None:
    for i in indexes:
        member_id, joined = rng.choice(heavy) if rng.random() < 0.45 else rng.choice(shoppers)
        start = max(joined, now - dt.timedelta(days=365))
        days = (timeutil.local_date(now, TZ) - timeutil.local_date(start, TZ)).days
        day = timeutil.local_date(start, TZ) + dt.timedelta(days=rng.randint(0, max(days, 0)))
        opening, _closing = timeutil.local_day_bounds(day, TZ)
        at = opening + dt.timedelta(hours=10, seconds=rng.randint(0, 12 * 3600 - 1))  # 10:00–21:59 mall time
        if not start < at < now - dt.timedelta(minutes=5):
            continue
        store = rng.choice(stores)
        low, high = TICKETS.get(store.merchant.category, (3000, 50000))
        lines = []
        for n in range(rng.choice((1, 1, 1, 2, 2, 3))):
            price = rng.randint(low // 100, high // 100) * 100 - rng.choice((0, 0, 10, 100))
            qty = rng.choice((1, 1, 1, 2))
            lines.append(
                LineIn(
                    sku=f"SKU-{store.merchant_id}-{rng.randint(1, 40)}",
                    name=f"商品{n + 1}",
                    quantity=qty,
                    unit_price_fen=price,
                    amount_fen=price * qty,
                )
            )
        total = sum(line.amount_fen for line in lines)
        if promotion_from is not None and at >= promotion_from:  # the mall-wide promotion takes its share
            total = demo_coupons.amount_due(
                merchant_id=store.merchant_id, member_id=member_id, lines=lines, at=at, coupon_ids=()
            )
        payments = [PaymentIn(rng.choice(("wechat", "wechat", "alipay", "card", "cash")), total)]
        if member_id in wallet_members and rng.random() < 0.3:
            payments = [PaymentIn("wallet", total)]
        data = SaleIn(
            merchant_id=store.merchant_id,
            store_id=store.pk,
            terminal_id=None,
            pos_sale_id=f"D{seed}-{i:06d}",
            occurred_at=at,
            lines=tuple(lines),
            payments=tuple(payments),
            member_id=member_id,
        )
        try:
            with transaction.atomic():  # a savepoint inside the batch's transaction
                sale = sale_services.sale_commit_in_tx(data=data, actor=ACTOR)
        except ApplicationError:
            if payments[0].method != "wallet":
                raise
            continue  # the wallet ran dry: the shopper paid otherwise in real life; skip
        result.sales += 1
        result.points_issued += sale.points_earned
        receipts.append((store.merchant_id, data.pos_sale_id, len(lines)))


def seed_pending_adjustments(group: MallGroup) -> None:
    """Two requests waiting in the console's approval queue."""
    members = list(Member.objects.filter(mall_group=group).order_by("pk")[:2])
    for member, points, reason in zip(
        members, (8000, -6000), ("补录 2 月 14 日小票（POS 离线）", "重复积分冲正"), strict=False
    ):
        try:
            points_adjust_request(
                mall_group_id=group.pk,
                member_id=member.pk,
                points=points,
                reason=reason,
                actor=ACTOR,
                tz_name="Asia/Shanghai",
            )
        except ApplicationError:
            continue


def seed_loyalty(*, sales: int, seed: int, today: dt.date) -> LoyaltyResult:
    group = MallGroup.objects.get(code=catalog.GROUP_CODE)
    with transaction.atomic():
        seed_rules(group, today)
    demo_pos_key()
    now = timezone.now()
    templates, promotion_from = demo_coupons.seed_coupon_templates(group, now)
    result = seed_activity(group, sales=sales, seed=seed, today=today, promotion_from=promotion_from)
    result.coupons = demo_coupons.seed_coupon_life(group, templates, seed=seed, now=now)
    seed_counter_sales(mall_group_id=group.pk, seed=seed)  # counter sales at 喜茶, 优衣库, 迪卡侬 (demo/counter.py)
    seed_receipts(mall_group_id=group.pk, seed=seed)  # receipt photos in every state (demo/receipts.py)
    seed_pending_adjustments(group)
    result.app = seed_app_content(group)
    result.parking = seed_parking(mall_group_id=group.pk, seed=seed)  # car parks and a week of stays (demo/parking.py)
    result.points_mall = seed_points_mall(mall_group_id=group.pk, seed=seed)  # demo/points_mall.py
    result.online_mall = seed_online_mall(mall_group_id=group.pk, seed=seed)  # demo/online_mall.py
    result.events = seed_events(mall_group_id=group.pk, seed=seed)  # demo/events.py
    result.games = seed_games(mall_group_id=group.pk, seed=seed)  # demo/games.py
    result.amenities = seed_amenities(mall_group_id=group.pk, seed=seed)  # demo/amenities.py
    result.audience = seed_audience(mall_group_id=group.pk, seed=seed)  # demo/audience.py (last: reads everything)
    rollup_rebuild(mall_group_id=group.pk)  # the dashboards' daily rollups of every sale seeded above (analytics)
    seed_recommendations(mall_group_id=group.pk)  # train the recommender on the sales above, with its offline scores
    return result


def merchants_count(group: MallGroup) -> int:
    return Merchant.objects.filter(mall__group=group).count()
