"""Commerce reads (docs/points-mall.md): the shop's settings, items for the app and the console, what a member
may exchange now and why not, orders (the member's, the console's list and search, by pickup code), statistics.

Other layers read commerce through this module and `types`; the tables are private (import-linter)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from galleria.core import timeutil
from galleria.tiers.selectors import group_tz as tiers_group_tz

from . import rules
from .models import Category, Order, OrderLine, Product, ShopSettings, Sku
from .types import Availability, Fulfilment, OrderState, ProductStatus, ShopChannel, Stats

POINTS_MALL = ShopChannel.POINTS_MALL


# ------------------------------------------------------------------------------------------------- the shop


def settings_get(*, mall_group_id: int) -> ShopSettings:
    """The group's points-mall settings (an unsaved default when never saved: no store, so closed)."""
    found = ShopSettings.objects.select_related("store__merchant__mall").filter(mall_group_id=mall_group_id).first()
    return found if found is not None else ShopSettings(mall_group_id=mall_group_id)


def shop_tz(*, mall_group_id: int, settings: ShopSettings | None = None) -> str | None:
    """The time zone of the shop's days (daily limits, statistics): its store's mall, else the group's first mall."""
    settings = settings if settings is not None else settings_get(mall_group_id=mall_group_id)
    if settings.store_id is not None and settings.store is not None:
        return str(settings.store.merchant.mall.timezone)
    return tiers_group_tz(mall_group_id=mall_group_id)


def is_open(settings: ShopSettings) -> bool:
    return bool(settings.is_open and settings.store_id is not None)


def categories(*, mall_group_id: int, active_only: bool = True) -> QuerySet[Category]:
    qs = Category.objects.filter(mall_group_id=mall_group_id, shop=POINTS_MALL)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("sort_order", "name", "pk")


def category_get(*, mall_group_id: int, category_id: int) -> Category | None:
    return Category.objects.filter(mall_group_id=mall_group_id, shop=POINTS_MALL, pk=category_id).first()


# ------------------------------------------------------------------------------------------------- items


def _products(mall_group_id: int | None) -> QuerySet[Product]:
    qs = Product.objects.filter(shop=POINTS_MALL).select_related("category", "coupon_template", "min_tier")
    qs = qs.prefetch_related(Prefetch("skus", queryset=Sku.objects.order_by("pk")))
    return qs if mall_group_id is None else qs.filter(mall_group_id=mall_group_id)


def product_list(
    *, mall_group_id: int, query: str = "", category_id: int | None = None, status: str = "", kind: str = ""
) -> QuerySet[Product]:
    """The console's items, by sort order (search in the title and subtitle)."""
    qs = _products(mall_group_id)
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(subtitle__icontains=query))
    if category_id:
        qs = qs.filter(category_id=category_id)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("sort_order", "-pk")


def product_get(*, mall_group_id: int | None, product_id: int) -> Product | None:
    return _products(mall_group_id).filter(pk=product_id).first()


def sku_of(product: Product) -> Sku | None:
    """The points mall's one SKU of an item (the first)."""
    skus = list(product.skus.all())
    return skus[0] if skus else None


def products_on_sale(*, mall_group_id: int, at: dt.datetime, category_id: int | None = None) -> list[Product]:
    """What the app lists: on sale at `at` (status and window), by sort order."""
    qs = _products(mall_group_id).filter(status=ProductStatus.ON_SALE)
    qs = qs.filter(Q(on_sale_from__isnull=True) | Q(on_sale_from__lte=at))
    qs = qs.filter(Q(on_sale_until__isnull=True) | Q(on_sale_until__gt=at))
    if category_id:
        qs = qs.filter(category_id=category_id)
    return list(qs.order_by("sort_order", "-pk"))


def image_bytes(*, product: Product) -> bytes | None:
    if not product.image_name:
        return None
    try:
        with default_storage.open(product.image_name, "rb") as handle:
            data: bytes = handle.read()
            return data
    except (FileNotFoundError, OSError):
        return None


def product_by_image(*, product_id: int, sha: str) -> Product | None:
    """An item whose picture has this digest (the image URL names both, so ids cannot be walked)."""
    if not sha:
        return None
    return Product.objects.filter(pk=product_id, image_sha=sha).first()


# ------------------------------------------------------------------------------------------------- limits


def bought(*, member_id: int, product_id: int, local_day: dt.date) -> tuple[int, int]:
    """Units of the product the member exchanged and did not cancel: (in total, on `local_day`)."""
    rows = OrderLine.objects.filter(order__member_id=member_id, product_id=product_id).exclude(
        order__state=OrderState.CANCELLED
    )
    sums = rows.aggregate(total=Sum("quantity"), today=Sum("quantity", filter=Q(order__local_day=local_day)))
    return int(sums["total"] or 0), int(sums["today"] or 0)


def availability(
    *, product: Product, sku: Sku | None, member_id: int, member_rank: int, at: dt.datetime, tz_name: str | None
) -> Availability:
    """Whether the member may exchange the item now (the first reason why not) and the numbers behind it."""
    total, today = bought(member_id=member_id, product_id=product.pk, local_day=timeutil.local_date(at, tz_name))
    stock = sku.stock if sku is not None else 0
    most = rules.max_quantity(
        stock=stock,
        bought_total=total,
        bought_today=today,
        per_member=product.per_member_limit,
        per_day=product.per_day_limit,
    )
    problem = ""
    if sku is None or not rules.on_sale(
        status=product.status, on_sale_from=product.on_sale_from, on_sale_until=product.on_sale_until, at=at
    ):
        problem = "commerce.not_on_sale"
    elif not rules.tier_ok(member_rank=member_rank, min_rank=product.min_tier.rank if product.min_tier else None):
        problem = "commerce.tier_required"
    elif stock <= 0:
        problem = "commerce.out_of_stock"
    else:
        problem = rules.limit_problem(
            quantity=1,
            bought_total=total,
            bought_today=today,
            per_member=product.per_member_limit,
            per_day=product.per_day_limit,
        )
    return Availability(
        problem=problem, stock=stock, bought_total=total, bought_today=today, max_quantity=0 if problem else most
    )


# ------------------------------------------------------------------------------------------------- orders


def _orders() -> QuerySet[Order]:
    lines = OrderLine.objects.select_related("product").order_by("line_no")
    return (
        Order.objects.filter(shop=POINTS_MALL)
        .select_related("member", "store")
        .prefetch_related(Prefetch("lines", queryset=lines))
    )


def member_orders(*, member_id: int) -> QuerySet[Order]:
    return _orders().filter(member_id=member_id).order_by("-paid_at", "-pk")


def member_order(*, member_id: int, order_id: int) -> Order | None:
    return _orders().filter(member_id=member_id, pk=order_id).first()


def order_by_key(*, member_id: int, key: str) -> Order | None:
    return Order.objects.filter(member_id=member_id, idempotency_key=key[:80]).first()


def order_by_gateway(*, out_trade_no: str) -> Order | None:
    """The order a gateway payment became (services_gateway: key gw:<out_trade_no>)."""
    return Order.objects.filter(gateway_reference=out_trade_no, idempotency_key=f"gw:{out_trade_no}"[:80]).first()


@dataclass(frozen=True)
class OrderFilters:
    query: str = ""  # order number, pickup code, member card or phone (exact), item title (part)
    state: str = ""
    fulfilment: str = ""
    product_id: int | None = None
    since: dt.date | None = None  # mall-local days, inclusive
    until: dt.date | None = None


def order_list(*, mall_group_id: int | None, filters: OrderFilters = OrderFilters()) -> QuerySet[Order]:
    qs = _orders()
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    q = filters.query.strip()
    if q:
        match = Q(number=q.upper()) | Q(lines__title__icontains=q) | Q(member__card_no=q) | Q(member__phone__endswith=q)
        code = rules.normalise_code(q)
        if code:
            match |= Q(pickup_code=code)
        qs = qs.filter(match).distinct()
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.fulfilment:
        qs = qs.filter(fulfilment=filters.fulfilment)
    if filters.product_id:
        qs = qs.filter(lines__product_id=filters.product_id).distinct()
    if filters.since:
        qs = qs.filter(local_day__gte=filters.since)
    if filters.until:
        qs = qs.filter(local_day__lte=filters.until)
    return qs.order_by("-paid_at", "-pk")


def order_get(*, mall_group_id: int | None, order_id: int) -> Order | None:
    qs = _orders().filter(pk=order_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def order_by_pickup_code(*, mall_group_id: int, code: str) -> Order | None:
    code = rules.normalise_code(code)
    if not code:
        return None
    return _orders().filter(mall_group_id=mall_group_id, pickup_code=code).first()


def waiting_counts(*, mall_group_id: int) -> dict[str, int]:
    """Orders waiting for the desk: to pick up, to ship."""
    rows = Order.objects.filter(mall_group_id=mall_group_id, shop=POINTS_MALL, state=OrderState.PAID)
    counts = dict(rows.values_list("fulfilment").annotate(n=Count("pk")).order_by())
    return {"pickup": int(counts.get(Fulfilment.PICKUP, 0)), "delivery": int(counts.get(Fulfilment.DELIVERY, 0))}


# ------------------------------------------------------------------------------------------------- statistics


def stats(*, mall_group_id: int, first: dt.date, last: dt.date, top: int = 10) -> Stats:
    """Exchanges made on mall-local days first..last (cancelled ones counted apart, not in the sums)."""
    period = Order.objects.filter(
        mall_group_id=mall_group_id, shop=POINTS_MALL, local_day__gte=first, local_day__lte=last
    )
    kept = period.exclude(state=OrderState.CANCELLED)
    sums = kept.aggregate(
        n=Count("pk"), points=Sum("total_points"), cash=Sum("cash_fen"), members=Count("member", distinct=True)
    )
    items = OrderLine.objects.filter(order__in=kept).aggregate(q=Sum("quantity"))["q"] or 0
    per_day = {
        row["local_day"]: (row["n"], int(row["points"] or 0), int(row["cash"] or 0))
        for row in kept.values("local_day")
        .annotate(n=Count("pk"), points=Sum("total_points"), cash=Sum("cash_fen"))
        .order_by()
    }
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    top_rows = (
        OrderLine.objects.filter(order__in=kept)
        .values("product_id", "product__title")
        .annotate(q=Sum("quantity"), points=Sum(F("quantity") * F("unit_points")))
        .order_by("-q", "product_id")[:top]
    )
    return Stats(
        orders=int(sums["n"] or 0),
        cancelled=period.filter(state=OrderState.CANCELLED).count(),
        points_spent=int(sums["points"] or 0),
        cash_fen=int(sums["cash"] or 0),
        items=int(items),
        members=int(sums["members"] or 0),
        by_day=tuple((d, *per_day.get(d, (0, 0, 0))) for d in days),
        top_items=tuple(
            (r["product_id"], r["product__title"], int(r["q"] or 0), int(r["points"] or 0)) for r in top_rows
        ),
    )


def lines_of(orders: Iterable[Order]) -> dict[int, list[OrderLine]]:
    return {o.pk: list(o.lines.all()) for o in orders}
