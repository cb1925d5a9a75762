"""Property test: any sequence of earn / spend / refund / expire / adjust keeps every ledger invariant."""

import datetime as dt

from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.ledger.selectors import ledger_check
from galleria.ledger.services import clear_caches
from galleria.points import services as points_services
from galleria.points.models import PointsLot, PointsPolicy
from galleria.points.selectors import points_balance
from galleria.sales import services
from galleria.sales.models import Sale, SaleLine
from galleria.sales.types import RefundLineIn
from galleria.testing import build_world

from .helpers import ACTOR, member, sale_in

op = st.one_of(
    st.tuples(st.just("sale"), st.lists(st.integers(1, 50000), min_size=1, max_size=4), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 3)),
    st.tuples(st.just("refund_all"), st.integers(0, 20)),
    st.tuples(st.just("expire"), st.integers(0, 800)),
    st.tuples(st.just("adjust"), st.integers(-2000, 2000)),
)


class LedgerInvariants(TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ops=st.lists(op, min_size=1, max_size=12))
    def test_any_sequence_keeps_the_books(self, ops):
        clear_caches()  # each example rolls the database back: forget system account ids
        world = build_world()
        PointsPolicy.objects.create(
            mall_group=world.group,
            expiry_policy="days_after_earn",
            expiry_days=90,
            redeem_min_points=100,
            redeem_multiple=100,
            redeem_max_share_bp=10000,
            adjustment_approval_threshold=10**6,
        )
        m = member(world)
        start = dt.date.today()
        receipts: list[str] = []
        for step, item in enumerate(ops):
            kind = item[0]
            try:
                if kind == "sale":
                    amounts, use = item[1], item[2] * 100
                    balance = points_balance(member_id=m.pk)
                    use = min(use, balance - balance % 100, sum(amounts) - sum(amounts) % 100)
                    data = sale_in(
                        world,
                        member_id=m.pk,
                        amounts=tuple(amounts),
                        points=use if use >= 100 else 0,
                        pos_id=f"P{step}",
                    )
                    services.sale_commit(data=data, actor=ACTOR)
                    receipts.append(data.pos_sale_id)
                elif kind in ("refund", "refund_all") and receipts:
                    pos_id = receipts[item[1] % len(receipts)]
                    lines = None
                    if kind == "refund":
                        line = SaleLine.objects.filter(sale__pos_sale_id=pos_id).order_by("line_no").first()
                        lines = [RefundLineIn(line_no=line.line_no, quantity=1)]
                    services.sale_refund(
                        merchant_id=world.merchant.pk, pos_sale_id=pos_id, pos_refund_id=f"F{step}", lines=lines
                    )
                elif kind == "expire":
                    points_services.points_expire(
                        mall_group_id=world.group.pk, today=start + dt.timedelta(days=item[1])
                    )
                elif kind == "adjust" and item[1]:
                    points_services.points_adjust_request(
                        mall_group_id=world.group.pk,
                        member_id=m.pk,
                        points=item[1],
                        reason="test",
                        actor=Actor.system(),
                        tz_name="Asia/Shanghai",
                    )
            except ApplicationError:
                pass  # refused operations (nothing left to refund, not enough points) must leave no trace
            report = ledger_check()
            assert report.ok, report
            balance = points_balance(member_id=m.pk)
            lots = PointsLot.objects.filter(member=m).aggregate(total=Sum("remaining"))["total"] or 0
            assert balance >= 0 and balance == lots
            for sale in Sale.objects.all():
                assert 0 <= sale.refunded_fen <= sale.total_fen
