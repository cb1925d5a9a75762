"""Reads of sales: the quote (the checkout pipeline's read-only run, sales/checkout/quote.py; an online cart's,
cart_quote.py), lists, and the
figures reports read (active members, sales by channel)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Count, Q, QuerySet, Sum

from galleria.members.selectors import members_active

from . import sql as sales_sql
from .checkout.cart_quote import cart_quote
from .checkout.pricing import basket_lines
from .checkout.quote import sale_quote
from .models import Refund, Sale
from .types import Channel, ChannelTotal, SaleRefundable

__all__ = [
    "active_member_count",
    "basket_lines",
    "cart_quote",
    "member_spend_between",
    "members_who_bought",
    "sale_list",
    "sale_quote",
    "sale_refundable",
    "sales_by_channel",
    "segment_facts",
    "segment_favourite",
    "segment_last_sale_id",
    "segment_members_by_window",
    "segment_members_with_sales_after",
    "segment_previous_purchase",
    "segment_sales_by_hour",
    "segment_sales_by_weekday",
    "segment_spend_by",
    "segment_spend_of_members",
    "spend_by_member",
]


def member_spend_between(
    *, member_id: int, mall_id: int, since: dt.datetime, until: dt.datetime, exclude_channels: Sequence[str] = ()
) -> int:
    """What a member bought in a mall in [since, until): the bills of every channel (money, points and coupons),
    less what was refunded — the "spend today" parking and other same-day benefits read."""
    got = (
        Sale.objects.filter(member_id=member_id, mall_id=mall_id, occurred_at__gte=since, occurred_at__lt=until)
        .exclude(channel__in=list(exclude_channels))
        .aggregate(total=Sum("total_fen"), refunded=Sum("refunded_fen"))
    )
    return (got["total"] or 0) - (got["refunded"] or 0)


def spend_by_member(
    *,
    member_ids: Sequence[int],
    mall_id: int,
    since: dt.datetime,
    until: dt.datetime,
    exclude_channels: Sequence[str] = (),
) -> dict[int, int]:
    """{member: what they bought in a mall in [since, until), less refunds} for the members with a sale there (as
    `member_spend_between`, for many members: one query per 5,000) — an event's conversion report."""
    found: dict[int, int] = {}
    ids = list(member_ids)
    for i in range(0, len(ids), 5000):
        rows = (
            Sale.objects.filter(
                member_id__in=ids[i : i + 5000], mall_id=mall_id, occurred_at__gte=since, occurred_at__lt=until
            )
            .exclude(channel__in=list(exclude_channels))
            .values("member_id")
            .annotate(total=Sum("total_fen"), refunded=Sum("refunded_fen"))
            .order_by()
        )
        for row in rows:
            found[int(row["member_id"])] = int(row["total"] or 0) - int(row["refunded"] or 0)
    return found


def members_who_bought(*, windows: Sequence[tuple[int, dt.datetime, dt.datetime]]) -> set[int]:
    """Of (member, since, until) windows, the members with a sale (any channel, any mall) in theirs [since, until):
    a journey's "bought since entering", "left the car park without buying". One query per 500 windows."""
    found: set[int] = set()
    for i in range(0, len(windows), 500):
        q = Q()
        for member_id, since, until in windows[i : i + 500]:
            q |= Q(member_id=member_id, occurred_at__gte=since, occurred_at__lt=until)
        found |= set(Sale.objects.filter(q).values_list("member_id", flat=True).distinct())
    return found


def sale_refundable(*, sale_id: int) -> SaleRefundable | None:
    sale = Sale.objects.filter(pk=sale_id).annotate(n_refunds=Count("refunds")).first()
    if sale is None:
        return None
    return SaleRefundable(
        sale_id=sale.pk,
        total_fen=sale.total_fen,
        paid_fen=sale.paid_fen,
        points_used=sale.points_used,
        points_value_fen=sale.points_value_fen,
        discount_fen=sale.discount_fen,
        points_earned=sale.points_earned,
        refunded_fen=sale.refunded_fen,
        refunds=sale.n_refunds,
    )


def sale_list(
    *, member_id: int | None = None, merchant_id: int | None = None, mall_group_id: int | None = None
) -> QuerySet[Sale]:
    qs = Sale.objects.select_related("merchant").order_by("-occurred_at", "-id")
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs


def active_member_count(*, mall_group_id: int | None, since: dt.datetime) -> int:
    """Members active since `since`: they used the app or were identified (last_active_at) or bought something.
    One query; a sale does not touch the member row (it stays off the checkout path)."""
    members = members_active()
    buyers = Sale.objects.filter(occurred_at__gte=since, member__isnull=False)
    if mall_group_id is not None:
        members = members.filter(mall_group_id=mall_group_id)
        buyers = buyers.filter(mall_group_id=mall_group_id)
    return members.filter(Q(last_active_at__gte=since) | Q(pk__in=buyers.values("member_id"))).count()


def sales_by_channel(*, mall_group_id: int, since: dt.datetime, until: dt.datetime) -> list[ChannelTotal]:
    """Sales of the group with `since` <= occurred_at < `until`, per channel (one query; channels without a sale
    are left out), in the order of the Channel choices."""
    rows = (
        Sale.objects.filter(mall_group_id=mall_group_id, occurred_at__gte=since, occurred_at__lt=until)
        .values("channel")
        .annotate(
            n=Count("id"),
            total=Sum("total_fen"),
            discount=Sum("discount_fen"),
            paid=Sum("paid_fen"),
            refunded=Sum("refunded_fen"),
        )
    )
    order = {value: i for i, value in enumerate(Channel.values)}
    totals = [
        ChannelTotal(
            channel=row["channel"],
            sales=row["n"],
            total_fen=row["total"] or 0,
            discount_fen=row["discount"] or 0,
            paid_fen=row["paid"] or 0,
            refunded_fen=row["refunded"] or 0,
        )
        for row in rows.order_by()
    ]
    return sorted(totals, key=lambda t: (order.get(t.channel, len(order)), t.channel))


def merchant_sales_summary(*, merchant_id: int, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """One merchant's sales with `since` <= occurred_at < `until`, in one query (the merchant portal's overview):
    `member_sales` and `member_paid_fen` (sales to members and the money they paid), `points_issued` (points those
    sales earned), `counter_sales` (sales recorded at the portal's counter) and `sales` (all)."""
    row = Sale.objects.filter(merchant_id=merchant_id, occurred_at__gte=since, occurred_at__lt=until).aggregate(
        sales=Count("id"),
        member_sales=Count("id", filter=Q(member__isnull=False)),
        member_paid=Sum("paid_fen", filter=Q(member__isnull=False)),
        points=Sum("points_earned"),
        counter=Count("id", filter=Q(channel=Channel.COUNTER)),
    )
    return {
        "sales": int(row["sales"] or 0),
        "member_sales": int(row["member_sales"] or 0),
        "member_paid_fen": int(row["member_paid"] or 0),
        "points_issued": int(row["points"] or 0),
        "counter_sales": int(row["counter"] or 0),
    }


# ---------------------------------------------------------------- settlement with merchants (docs/settlement.md)

Window = tuple[Sequence[int], dt.datetime, dt.datetime]  # (mall ids, since, until): one per time zone of the group


def _in_windows(windows: Sequence[Window], *, prefix: str = "") -> Q:
    when = Q(pk__in=[])
    for mall_ids, since, until in windows:
        when |= Q(**{f"{prefix}mall_id__in": list(mall_ids)}, occurred_at__gte=since, occurred_at__lt=until)
    return when


def merchant_sales_totals(
    *, mall_group_id: int, windows: Sequence[Window], merchant_ids: Sequence[int] | None = None
) -> dict[int, dict[str, int]]:
    """Per merchant, the sales recorded in the period and the refunds made in it (each by its own time, in the window
    of the sale's mall): {merchant id: {"sales", "sales_fen" (line amounts, before coupons), "refunds",
    "refunds_fen" (line value refunded)}} — two grouped queries for every merchant of the group."""
    sales = Sale.objects.filter(Q(mall_group_id=mall_group_id) & _in_windows(windows))
    refunds = Refund.objects.filter(Q(sale__mall_group_id=mall_group_id) & _in_windows(windows, prefix="sale__"))
    if merchant_ids is not None:
        sales = sales.filter(merchant_id__in=list(merchant_ids))
        refunds = refunds.filter(sale__merchant_id__in=list(merchant_ids))
    out: dict[int, dict[str, int]] = {}
    zero = {"sales": 0, "sales_fen": 0, "refunds": 0, "refunds_fen": 0}
    for row in sales.values("merchant_id").annotate(n=Count("id"), fen=Sum("total_fen")).order_by():
        out.setdefault(int(row["merchant_id"]), dict(zero)).update(sales=int(row["n"]), sales_fen=int(row["fen"] or 0))
    for row in refunds.values("sale__merchant_id").annotate(n=Count("id"), fen=Sum("amount_fen")).order_by():
        entry = out.setdefault(int(row["sale__merchant_id"]), dict(zero))
        entry.update(refunds=int(row["n"]), refunds_fen=int(row["fen"] or 0))
    return out


def merchant_sales_in(*, merchant_id: int, since: dt.datetime, until: dt.datetime) -> QuerySet[Sale]:
    """A merchant's sales with since <= occurred_at < until, by time (a commission base's drill-down)."""
    return Sale.objects.filter(merchant_id=merchant_id, occurred_at__gte=since, occurred_at__lt=until).order_by(
        "occurred_at", "id"
    )


def merchant_refunds_in(*, merchant_id: int, since: dt.datetime, until: dt.datetime) -> QuerySet[Refund]:
    """A merchant's refunds with since <= occurred_at < until, with their sale, by time."""
    return (
        Refund.objects.select_related("sale")
        .filter(sale__merchant_id=merchant_id, occurred_at__gte=since, occurred_at__lt=until)
        .order_by("occurred_at", "id")
    )


# ----------------------------------------------------------------------------- for the audience app (segments)
# SQL fragments of the sales tables (core.sql.Fragment) and the persona figures: galleria/sales/sql.py has them.
segment_facts = sales_sql.member_facts
segment_previous_purchase = sales_sql.member_previous_purchase
segment_favourite = sales_sql.member_favourite
segment_members_by_window = sales_sql.members_by_window
segment_sales_by_hour = sales_sql.sales_by_hour
segment_sales_by_weekday = sales_sql.sales_by_weekday
segment_spend_by = sales_sql.spend_by
segment_spend_of_members = sales_sql.spend_of_members
segment_last_sale_id = sales_sql.last_sale_id
segment_members_with_sales_after = sales_sql.members_with_sales_after
