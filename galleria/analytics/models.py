"""Daily rollups the dashboards read (docs/analytics.md). Derived data: rebuilt from the sales at any time with
`galleria analytics_rebuild`, kept current by the minute job `analytics_refresh`."""

from __future__ import annotations

from django.db import models

from galleria.malls.models import Mall, MallGroup
from galleria.merchants.models import Merchant


class SalesDay(models.Model):
    """One mall-local day of one mall's sales, per merchant, channel and member / non-member.

    `sales`…`points_used` are the sales sold that day (a sale counts on its own day with its full total, whatever
    happened to it later); `refunds`/`refunded_fen` are the refunds made that day of this slice's sales (whenever
    they were sold). Net sales = gross − refunded. `buyers` is the distinct members of the slice's sales that day
    (0 for non-member rows): it adds up over merchants only as "visits", never as distinct people."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+", db_index=False)
    mall = models.ForeignKey(Mall, on_delete=models.CASCADE, related_name="+", db_index=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    channel = models.CharField(max_length=16)
    member = models.BooleanField()
    sales = models.IntegerField(default=0)
    gross_fen = models.BigIntegerField(default=0)
    discount_fen = models.BigIntegerField(default=0)
    points_value_fen = models.BigIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0)
    points_earned = models.BigIntegerField(default=0)
    points_used = models.BigIntegerField(default=0)
    buyers = models.IntegerField(default=0)
    refunds = models.IntegerField(default=0)
    refunded_fen = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mall", "day", "merchant", "channel", "member"], name="salesday_slice"),
            models.CheckConstraint(
                condition=models.Q(sales__gte=0, refunds__gte=0, gross_fen__gte=0, refunded_fen__gte=0),
                name="salesday_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["mall_group", "day"], name="salesday_group_day")]


class RollupMark(models.Model):
    """How far the minute job has read the sales and refunds (ids; a row is read once it is settled)."""

    name = models.CharField(max_length=40, unique=True)
    last_sale_id = models.BigIntegerField(default=0)
    last_refund_id = models.BigIntegerField(default=0)
    last_transaction_id = models.BigIntegerField(default=0)  # ledger transactions (the points rollup)
    last_member_id = models.BigIntegerField(default=0)  # members (the joins rollup)
    updated_at = models.DateTimeField(auto_now=True)


class PointsDay(models.Model):
    """One local day of a group's points flows (the group's first mall's time zone): issued by earning and
    behaviour (less what refunds clawed back), adjusted (net), redeemed as payment, expired."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    issued = models.BigIntegerField(default=0)
    adjusted = models.BigIntegerField(default=0)
    redeemed = models.BigIntegerField(default=0)
    expired = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mall_group", "day"], name="pointsday_group_day")]


class MembersDay(models.Model):
    """One mall-local day of joins at one mall, per join channel (joins as they happened: a member erased or merged
    later still joined that day)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+", db_index=False)
    mall = models.ForeignKey(Mall, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    channel = models.CharField(max_length=10)
    joined = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mall", "day", "channel"], name="membersday_slice"),
            models.CheckConstraint(condition=models.Q(joined__gte=0), name="membersday_non_negative"),
        ]
        indexes = [models.Index(fields=["mall_group", "day"], name="membersday_group_day")]
