"""Test data for settlement: sales of every kind at a chosen mall-local time, through the real checkout."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.db.models import Sum

from galleria.audit.types import Actor
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.models import Entry
from galleria.members import services as member_services
from galleria.merchants.models import Store
from galleria.sales import services as sales_services
from galleria.sales.types import LineIn, PaymentIn, RefundLineIn, SaleIn
from galleria.settlement import rules, selectors, services
from galleria.settlement.types import FIGURE_ACCOUNTS, Period
from galleria.wallet import services as wallet_services

SH = ZoneInfo("Asia/Shanghai")
ACTOR = Actor(user_id=None, label="settlement-test")
_phones = itertools.count(30000000)
_receipts = itertools.count(1)


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> dt.datetime:
    """A mall-local (Shanghai) wall time as an aware UTC instant."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH).astimezone(dt.UTC)


def period(text: str) -> Period:
    return rules.parse_period(text)


def new_member(world, *, topup_fen: int = 0):
    m = member_services.member_register(mall=world.mall, phone=f"135{next(_phones):08d}", channel="desk", actor=ACTOR)
    if topup_fen:
        intent = wallet_services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=topup_fen)
        wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=topup_fen)
    return m


def store_of(merchant) -> Store:
    return Store.objects.filter(merchant=merchant).order_by("pk")[0]


def sell(
    world,
    *,
    at: dt.datetime,
    amounts=(10000,),
    member=None,
    merchant=None,
    channel: str = "pos",
    payments=None,
    points: int = 0,
    coupon_ids=(),
    discount_fen: int = 0,
):
    """A sale through the checkout; `payments` default: the rest by WeChat Pay (1 point = 1 fen by default)."""
    merchant = merchant or world.merchant
    lines = tuple(
        LineIn(sku=f"S{i}", name=f"item {i}", quantity=1, unit_price_fen=a, amount_fen=a) for i, a in enumerate(amounts)
    )
    due = sum(amounts) - points - discount_fen
    data = SaleIn(
        merchant_id=merchant.pk,
        store_id=store_of(merchant).pk,
        terminal_id=None,
        pos_sale_id=f"T{next(_receipts):07d}",
        occurred_at=at,
        lines=lines,
        payments=tuple(payments) if payments is not None else ((PaymentIn("wechat", due),) if due else ()),
        member_id=member.pk if member else None,
        points_to_use=points,
        coupon_ids=tuple(coupon_ids),
        channel=channel,
    )
    result = sales_services.sale_commit(data=data, actor=ACTOR)
    return data, result


def refund(data, *, at: dt.datetime, key: str, lines=None):
    return sales_services.sale_refund(
        merchant_id=data.merchant_id,
        pos_sale_id=data.pos_sale_id,
        pos_refund_id=key,
        lines=[RefundLineIn(line_no=n, quantity=q) for n, q in lines] if lines else None,
        occurred_at=at,
    )


def coupon_for(world, member, *, at: dt.datetime, **values):
    """A coupon held by `member`, valid around `at` (values: the template's, e.g. funder)."""
    base = {
        "valid_from": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "valid_until": dt.datetime(2027, 6, 1, tzinfo=dt.UTC),
        "kind": "cash_off",
        "value_fen": 1000,
        "threshold_fen": 0,
        "name": f"券{next(_receipts)}",
    }
    base.update(values)
    return claim(member, template(world, **base), at=at - dt.timedelta(hours=1)).coupon_id


def generate(world, text: str, *, merchant_ids=None):
    return services.statements_generate(
        mall_group_id=world.group.pk, period=period(text), actor=ACTOR, merchant_ids=merchant_ids
    )


def ledger_sums(world, text: str) -> dict[int, dict[str, int]]:
    """{merchant id: {account kind: sum}} of the settlement legs in a period, read straight from the ledger's tables
    (independently of the settlement selectors), in the malls' own time zones."""
    p = period(text)
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for mall_tz in {world.merchant.mall.timezone, world.other_merchant.mall.timezone}:
        since, until = rules.period_bounds(p, mall_tz)
        rows = (
            Entry.objects.filter(
                account__mall_group=world.group,
                account__merchant__isnull=False,
                account__merchant__mall__timezone=mall_tz,
                account__kind__in=list(FIGURE_ACCOUNTS.values()),
                occurred_at__gte=since,
                occurred_at__lt=until,
            )
            .values("account__merchant_id", "account__kind")
            .annotate(total=Sum("amount"))
        )
        for row in rows:
            if row["total"]:
                out[row["account__merchant_id"]][row["account__kind"]] = row["total"]
    return dict(out)


def statement_sums(world, text: str) -> dict[int, dict[str, int]]:
    """The same sums as the period's statements (the statement and its supplements) state them, in ledger signs."""
    p = period(text)
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in selectors.statement_list(mall_group_id=world.group.pk, period_start=p.start):
        row = out[s.merchant_id]
        row["merchant_collected"] += s.collected_fen
        row["wallet_spent"] += s.wallet_fen
        row["points_value_redeemed"] += s.points_value_fen
        row["coupon_mall_funded"] += s.coupon_mall_fen
        row["merchant_points_cost"] -= s.merchant_points_fen
        row["coupon_merchant_funded"] -= s.coupon_merchant_fen
        row["parking_grant_cost"] -= s.parking_grants_fen
    return {m: {k: v for k, v in row.items() if v} for m, row in out.items() if any(row.values())}
