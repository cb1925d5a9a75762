import datetime as dt

import pytest
import time_machine

from galleria.core.errors import ConflictError, ValidationError
from galleria.ledger.selectors import ledger_check, system_balance
from galleria.members.models import Member
from galleria.points.models import EarnRule, PointsCampaign, PointsLot, PointsPolicy
from galleria.points.selectors import points_balance
from galleria.sales import services
from galleria.sales.models import Sale
from galleria.sales.selectors import sale_quote
from galleria.sales.types import RefundLineIn
from galleria.tiers.models import MemberTier, TierLevel

from .helpers import ACTOR, member, sale_in

pytestmark = pytest.mark.django_db


def commit(data):
    return services.sale_commit(data=data, actor=ACTOR)


def assert_ledger_clean():
    report = ledger_check()
    assert report.ok, report


class TestEarn:
    def test_one_point_per_yuan_paid_floored(self, world):
        m = member(world)
        result = commit(sale_in(world, member_id=m.pk, amounts=(19950,)))
        assert result.points_earned == 199  # ¥199.50 → 199 points (floor)
        assert points_balance(member_id=m.pk) == 199
        exp = result.explanation
        assert exp["base_fen"] == 19950 and exp["rate"]["source"] == "policy" and exp["points"] == 199
        assert_ledger_clean()

    def test_most_specific_rule_wins_and_is_explained(self, world):
        m = member(world)
        EarnRule.objects.create(
            mall_group=world.group, name="dining", scope="category", category="dining", earn_points=2, earn_unit_fen=100
        )
        rule = EarnRule.objects.create(
            mall_group=world.group,
            name="heytea",
            scope="merchant",
            merchant=world.merchant,
            earn_points=3,
            earn_unit_fen=100,
            funder="merchant",
        )
        result = commit(sale_in(world, member_id=m.pk, amounts=(1000,)))
        assert result.points_earned == 30
        assert result.explanation["rate"]["source"] == f"rule:{rule.pk}"
        assert system_balance(mall_group_id=world.group.pk, kind="points_issued", merchant_id=world.merchant.pk) == -30

    def test_tier_and_campaign_multipliers_and_exclusions(self, world):
        m = member(world)
        gold = TierLevel.objects.create(
            mall_group=world.group, code="gold", name="金卡", rank=2, points_multiplier_bp=15000
        )
        MemberTier.objects.create(member=m, level=gold, since=dt.datetime.now(dt.UTC))
        PointsPolicy.objects.create(mall_group=world.group, excluded_categories=["gift_card"])
        today = dt.date.today()
        PointsCampaign.objects.create(
            mall_group=world.group,
            name="会员日",
            multiplier_bp=20000,
            starts_on=today - dt.timedelta(days=3),
            ends_on=today + dt.timedelta(days=3),
        )
        data = sale_in(world, member_id=m.pk, amounts=(10000,))
        gift = sale_in(world, member_id=m.pk, amounts=(50000,), category="gift_card")
        assert commit(data).points_earned == 300  # 100 × 1.5 × 2
        assert commit(gift).points_earned == 0

    def test_caps_per_sale_and_per_mall_local_day(self, world):
        m = member(world)
        PointsPolicy.objects.create(mall_group=world.group, per_sale_cap=500, daily_cap=800)
        # 23:30 Shanghai on Nov 22 = 15:30 UTC
        with time_machine.travel(dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC), tick=False):
            assert commit(sale_in(world, member_id=m.pk, amounts=(100000,))).points_earned == 500
            r = commit(sale_in(world, member_id=m.pk, amounts=(100000,)))
            assert r.points_earned == 300 and r.explanation["capped_by"] == "daily_cap"
        # 00:10 Shanghai on Nov 23: a new mall-local day
        with time_machine.travel(dt.datetime(2026, 11, 22, 16, 10, tzinfo=dt.UTC), tick=False):
            assert commit(sale_in(world, member_id=m.pk, amounts=(100000,))).points_earned == 500

    def test_minimum_spend(self, world):
        m = member(world)
        PointsPolicy.objects.create(mall_group=world.group, min_spend_fen=2000)
        assert commit(sale_in(world, member_id=m.pk, amounts=(1999,))).points_earned == 0
        assert commit(sale_in(world, member_id=m.pk, amounts=(2000,))).points_earned == 20


class TestPointsAsPayment:
    def fund(self, world, m, yuan=1000):
        commit(sale_in(world, member_id=m.pk, amounts=(yuan * 100,)))

    def test_points_pay_and_only_money_earns(self, world):
        m = member(world)
        self.fund(world, m)  # 1000 points
        result = commit(sale_in(world, member_id=m.pk, amounts=(10000,), points=500))  # ¥5 of ¥100 by points
        assert result.points_used == 500 and result.points_earned == 95
        assert result.points_balance == 1000 - 500 + 95
        assert_ledger_clean()

    @pytest.mark.parametrize(
        ("points", "code"),
        [
            (50, "points.below_minimum"),
            (150, "points.not_multiple"),
            (6000, "points.over_max_share"),
            (2000, "points.insufficient"),
        ],
    )
    def test_over_limit_requests_are_rejected_not_capped(self, world, points, code):
        m = member(world)
        self.fund(world, m, yuan=10)  # 10 points? no: 1000 fen → 10 points; give more
        self.fund(world, m, yuan=990)  # 1000 points in all
        with pytest.raises(ValidationError) as exc:
            commit(sale_in(world, member_id=m.pk, amounts=(10000,) if points != 2000 else (100000,), points=points))
        assert exc.value.code == code
        assert points_balance(member_id=m.pk) == 1000
        assert Sale.objects.count() == 2

    def test_payments_must_add_up(self, world):
        m = member(world)
        with pytest.raises(ValidationError) as exc:
            commit(sale_in(world, member_id=m.pk, amounts=(10000,), pay=9000))
        assert exc.value.code == "sale.payments_mismatch"

    def test_quote_writes_nothing(self, world):
        m = member(world)
        self.fund(world, m)
        data = sale_in(world, member_id=m.pk, amounts=(20000,))
        quote = sale_quote(merchant_id=world.merchant.pk, member_id=m.pk, lines=data.lines, payments=data.payments)
        assert quote.points_to_earn == 200 and quote.max_points_usable == 1000 and quote.points_balance == 1000
        assert Sale.objects.count() == 1


class TestRefund:
    def test_partial_then_full_refund_reverses_exactly(self, world):
        m = member(world)
        commit(sale_in(world, member_id=m.pk, amounts=(100000,)))  # 1000 points to spend
        data = sale_in(world, member_id=m.pk, amounts=(30000, 20000, 10001), points=1000)
        res = commit(data)
        earned = res.points_earned
        assert earned == 590  # 60001 fen - 1000 fen of points = 59001 fen paid → 590 points
        balance_after_sale = points_balance(member_id=m.pk)
        r1 = services.sale_refund(
            merchant_id=world.merchant.pk,
            pos_sale_id=data.pos_sale_id,
            pos_refund_id="F1",
            lines=[RefundLineIn(line_no=1, quantity=1)],
        )
        assert r1.amount_fen == 30000 and r1.points_returned > 0 and r1.points_clawed_back > 0
        r2 = services.sale_refund(
            merchant_id=world.merchant.pk, pos_sale_id=data.pos_sale_id, pos_refund_id="F2", lines=None
        )
        assert r1.points_clawed_back + r2.points_clawed_back == earned
        assert r1.points_returned + r2.points_returned == 1000
        assert r1.money_fen + r2.money_fen == 59001
        assert points_balance(member_id=m.pk) == balance_after_sale - earned + 1000
        assert Sale.objects.get(pos_sale_id=data.pos_sale_id).status == "refunded"
        with pytest.raises(ValidationError):
            services.sale_refund(
                merchant_id=world.merchant.pk, pos_sale_id=data.pos_sale_id, pos_refund_id="F3", lines=None
            )
        with pytest.raises(ConflictError):
            services.sale_refund(
                merchant_id=world.merchant.pk, pos_sale_id=data.pos_sale_id, pos_refund_id="F2", lines=None
            )
        assert_ledger_clean()

    def test_refund_after_points_were_spent_records_a_shortfall(self, world):
        m = member(world)
        first = sale_in(world, member_id=m.pk, amounts=(50000,))
        commit(first)  # +500
        commit(sale_in(world, member_id=m.pk, amounts=(100000,), points=500))  # spends them, earns 995
        spender = sale_in(world, member_id=m.pk, amounts=(100000,), points=900)  # leaves 95 + 991 earned
        commit(spender)
        bal = points_balance(member_id=m.pk)
        r = services.sale_refund(
            merchant_id=world.merchant.pk, pos_sale_id=first.pos_sale_id, pos_refund_id="X", lines=None
        )
        assert r.points_clawed_back + r.points_shortfall == 500
        assert points_balance(member_id=m.pk) == bal - r.points_clawed_back >= 0
        assert_ledger_clean()


class TestPayJoin:
    def test_a_phone_at_the_till_joins_in_the_same_transaction(self, world):
        r = commit(sale_in(world, amounts=(8800,), join_phone="13600000001"))
        assert r.member_joined and r.points_earned == 88
        joined = Member.objects.get(pk=r.member_id)
        assert joined.join_channel == "pos" and joined.join_merchant_id == world.merchant.pk
        again = commit(sale_in(world, amounts=(100,), join_phone="13600000001"))
        assert again.member_id == r.member_id and not again.member_joined

    def test_failed_sale_does_not_leave_a_member_behind(self, world):
        with pytest.raises(ValidationError):
            commit(sale_in(world, amounts=(8800,), pay=100, join_phone="13600000002"))
        assert not Member.objects.filter(phone="+8613600000002").exists()

    def test_duplicate_receipt_is_a_conflict(self, world):
        data = sale_in(world, amounts=(100,))
        commit(data)
        with pytest.raises(ConflictError):
            commit(data)


def test_lots_expire_end_of_next_year_by_default(world):
    m = member(world)
    with time_machine.travel(dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.UTC), tick=False):
        commit(sale_in(world, member_id=m.pk, amounts=(1000,)))
    lot = PointsLot.objects.get(member=m)
    assert lot.expires_on == dt.date(2027, 12, 31) and lot.remaining == 10


class TestTiers:
    def test_a_sale_that_qualifies_upgrades_at_once_and_a_refund_counts_back(self, world):
        from galleria.tiers.selectors import member_tier
        from galleria.tiers.services import tier_ladder_ensure_default

        tier_ladder_ensure_default(mall_group_id=world.group.pk)
        m = member(world)
        small = commit(sale_in(world, member_id=m.pk, amounts=(499999,)))
        assert small.tier_upgraded_to is None
        up = commit(sale_in(world, member_id=m.pk, amounts=(1,)))  # ¥5,000.00 in 12 months → silver
        assert up.tier_upgraded_to == "silver"
        assert member_tier(member_id=m.pk, mall_group_id=world.group.pk).code == "silver"
        # the next sale earns with the silver multiplier (1.2×)
        assert commit(sale_in(world, member_id=m.pk, amounts=(10000,))).points_earned == 120


class TestWallet:
    def topup(self, world, m, amount_fen):
        from galleria.wallet import services as wallet_services

        intent = wallet_services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=amount_fen)
        wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=amount_fen)

    def test_wallet_pays_at_the_till_earns_points_and_refunds_back_to_the_wallet(self, world):
        from galleria.sales.types import PaymentIn
        from galleria.wallet.selectors import wallet_balance

        m = member(world)
        self.topup(world, m, 50000)
        data = sale_in(world, member_id=m.pk, amounts=(12000,), pay=0)
        data = data.__class__(**{**data.__dict__, "payments": (PaymentIn("wallet", 8000), PaymentIn("cash", 4000))})
        r = commit(data)
        assert r.points_earned == 120  # wallet money is money the member paid
        assert wallet_balance(member_id=m.pk).principal_fen == 42000
        refund = services.sale_refund(
            merchant_id=world.merchant.pk, pos_sale_id=data.pos_sale_id, pos_refund_id="W1", lines=None
        )
        assert refund.payments == {"wallet": 8000, "cash": 4000}
        assert wallet_balance(member_id=m.pk).principal_fen == 50000
        assert_ledger_clean()

    def test_wallet_shortfall_or_no_member_is_refused(self, world):
        from galleria.sales.types import PaymentIn

        m = member(world)
        self.topup(world, m, 1000)
        data = sale_in(world, member_id=m.pk, amounts=(5000,), pay=0)
        data = data.__class__(**{**data.__dict__, "payments": (PaymentIn("wallet", 5000),)})
        with pytest.raises(ValidationError) as exc:
            commit(data)
        assert exc.value.code == "wallet.insufficient"
        anon = data.__class__(**{**data.__dict__, "member_id": None, "pos_sale_id": "ANON"})
        with pytest.raises(ValidationError) as exc:
            commit(anon)
        assert exc.value.code == "wallet.member_required"
        assert Sale.objects.count() == 0


class TestConfigCache:
    def test_a_rule_change_by_any_path_reaches_the_next_sale(self, world):
        """Configuration is cached per process by the group's token, which database triggers change."""
        from galleria.malls.models import MallGroup

        m = member(world)
        before = MallGroup.objects.get(pk=world.group.pk).config_token
        assert commit(sale_in(world, member_id=m.pk, amounts=(10000,))).points_earned == 100
        rule = EarnRule.objects.create(
            mall_group=world.group,
            name="x3",
            scope="merchant",
            merchant=world.merchant,
            earn_points=3,
            earn_unit_fen=100,
        )
        after = MallGroup.objects.get(pk=world.group.pk).config_token
        assert after != before
        assert commit(sale_in(world, member_id=m.pk, amounts=(10000,))).points_earned == 300
        EarnRule.objects.filter(pk=rule.pk).update(is_active=False)  # a bulk update, no model save involved
        assert commit(sale_in(world, member_id=m.pk, amounts=(10000,))).points_earned == 100
        EarnRule.objects.filter(pk=rule.pk).delete()
        assert MallGroup.objects.get(pk=world.group.pk).config_token != after


def test_a_member_who_buys_counts_as_active(world):
    import datetime as dt

    from django.utils import timezone

    from galleria.sales.selectors import active_member_count

    m = member(world)
    member(world, phone="13912345678")
    since = timezone.now() - dt.timedelta(days=30)
    assert active_member_count(mall_group_id=world.group.pk, since=since) == 0
    commit(sale_in(world, member_id=m.pk, amounts=(100,)))
    assert active_member_count(mall_group_id=world.group.pk, since=since) == 1
    assert active_member_count(mall_group_id=world.other_group.pk, since=since) == 0
