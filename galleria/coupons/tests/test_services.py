"""Coupon use cases against the database: templates, claims, grants, triggers, the sale pair, expiry."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.core.errors import ApplicationError
from galleria.coupons import selectors, services
from galleria.coupons.models import (
    Coupon,
    CouponRedemption,
    CouponStockShard,
    GrantBatch,
    Promotion,
    RedemptionStatus,
)
from galleria.coupons.types import RefundLineQty
from galleria.ledger import services as ledger
from galleria.ledger.models import AccountKind
from galleria.ledger.selectors import ledger_check
from galleria.points import selectors as points_selectors
from galleria.points import services as points_services
from galleria.points.selectors import points_balance
from galleria.tiers.services import tier_ladder_ensure_default, tier_record_spend_in_tx
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet.tests.helpers import top_up

from .helpers import ACTOR, basket, claim, new_member, redeem, refund, template

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def give_points(world, member, points):
    with transaction.atomic():
        accounts = ledger.lock_member_accounts(
            mall_group_id=world.group.pk, member_id=member.pk, kinds=[AccountKind.MEMBER_POINTS]
        )
        points_services.points_credit_in_tx(
            policy=points_selectors.policy_get(mall_group_id=world.group.pk),
            member_id=member.pk,
            points_account=accounts[AccountKind.MEMBER_POINTS],
            points=points,
            kind="earn",
            funder="mall",
            merchant_share_bp=0,
            merchant_id=None,
            occurred_at=timezone.now(),
            tz_name="Asia/Shanghai",
            source="test",
            explanation={},
        )


def code_of(fn):
    with pytest.raises(ApplicationError) as info:
        fn()
    return info.value.code


# ------------------------------------------------------------------------------------------------- templates


def test_template_validation_has_stable_codes(world):
    assert code_of(lambda: template(world, threshold_fen=0)) == "coupon_template.threshold_required"
    assert code_of(lambda: template(world, kind="percent", percent_off_bp=0)) == "coupon_template.percent_out_of_range"
    assert code_of(lambda: template(world, funder="merchant")) == "coupon_template.merchant_funder_needs_merchant"
    assert code_of(lambda: template(world, merchant_id=world.foreign_merchant.pk)) == "coupon_template.merchant_unknown"
    assert code_of(lambda: template(world, bogus=1)) == "coupon_template.unknown_field"


def test_activation_creates_stock_and_locks_the_value(world):
    t = template(world, total_quantity=100)
    assert t.status == "active"
    assert selectors.stock_remaining(template_id=t.pk) == 100
    assert CouponStockShard.objects.filter(template=t).count() == 8
    assert (
        code_of(
            lambda: services.coupon_template_update(
                template_id=t.pk, mall_group_id=world.group.pk, values={"value_fen": 1}, actor=ACTOR
            )
        )
        == "coupon_template.locked_field"
    )
    assert (
        code_of(
            lambda: services.coupon_template_update(
                template_id=t.pk, mall_group_id=world.group.pk, values={"total_quantity": 50}, actor=ACTOR
            )
        )
        == "coupon_template.stock_decrease"
    )
    services.coupon_template_update(
        template_id=t.pk, mall_group_id=world.group.pk, values={"total_quantity": 130, "name": "new"}, actor=ACTOR
    )
    assert selectors.stock_remaining(template_id=t.pk) == 130
    services.coupon_template_pause(template_id=t.pk, mall_group_id=world.group.pk, actor=ACTOR)
    services.coupon_template_end(template_id=t.pk, mall_group_id=world.group.pk, actor=ACTOR)
    assert (
        code_of(lambda: services.coupon_template_activate(template_id=t.pk, mall_group_id=world.group.pk, actor=ACTOR))
        == "coupon_template.status"
    )
    actions = set(AuditEvent.objects.filter(target_id=str(t.pk)).values_list("action", flat=True))
    assert {"coupon_template.create", "coupon_template.active", "coupon_template.update"} <= actions


# ------------------------------------------------------------------------------------------------- claims


def test_free_claim_is_idempotent_on_the_client_key(world):
    m = new_member(world)
    t = template(world)
    first = claim(m, t, key="abc")
    again = claim(m, t, key="abc")
    assert first.coupon_id == again.coupon_id and again.created is False
    assert len(first.code) >= 16
    other = template(world, name="other")
    assert code_of(lambda: claim(m, other, key="abc")) == "coupon.idempotency_conflict"
    assert Coupon.objects.filter(member=m).count() == 1


def test_inventory_and_per_member_limits(world):
    t = template(world, total_quantity=2, per_member_limit=1)
    a, b, c = new_member(world), new_member(world), new_member(world)
    claim(a, t)
    assert code_of(lambda: claim(a, t)) == "coupon.limit_reached"
    claim(b, t)
    assert code_of(lambda: claim(c, t)) == "coupon.sold_out"
    assert selectors.stock_remaining(template_id=t.pk) == 0


def test_daily_limit_resets_at_mall_local_midnight(world):
    t = template(world, per_member_daily_limit=1)
    m = new_member(world)
    with time_machine.travel(dt.datetime(2026, 3, 2, 23, 59, tzinfo=SH), tick=False):
        claim(m, t, at=timezone.now())
        assert code_of(lambda: claim(m, t, at=timezone.now())) == "coupon.daily_limit_reached"
    # 00:01 in Shanghai is still 16:01 UTC of the same UTC day: the mall's day decides
    with time_machine.travel(dt.datetime(2026, 3, 3, 0, 1, tzinfo=SH), tick=False):
        claim(m, t, at=timezone.now())
    assert Coupon.objects.filter(member=m).count() == 2


def test_relative_validity_ends_at_mall_local_midnight(world):
    with time_machine.travel(dt.datetime(2026, 3, 2, 23, 30, tzinfo=SH), tick=False):
        t = template(world, validity_kind="relative", valid_days=1, valid_from=None, valid_until=None)
        m = new_member(world)
        issued = claim(m, t, at=timezone.now())
    assert issued.valid_until == dt.datetime(2026, 3, 3, 0, 0, tzinfo=SH)
    lines = basket(25000)
    with time_machine.travel(dt.datetime(2026, 3, 2, 23, 59, tzinfo=SH), tick=False):
        quote = selectors.coupon_quote(member_id=m.pk, merchant=world.merchant, lines=lines)
        assert quote.best_coupon_ids == (issued.coupon_id,)
    with time_machine.travel(dt.datetime(2026, 3, 3, 0, 0, 1, tzinfo=SH), tick=False):
        assert code_of(lambda: redeem(world, m, [issued.coupon_id], lines)) == "coupon.expired"


def test_tier_and_new_member_requirements(world):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    m = new_member(world)
    gold_only = template(world, min_tier_rank=2)
    assert code_of(lambda: claim(m, gold_only)) == "coupon.tier_required"
    newbies = template(world, new_members_only=True, new_member_days=7)
    claim(m, newbies)
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert code_of(lambda: claim(m, newbies)) == "coupon.new_members_only"


def test_claim_for_points_spends_points_in_the_same_transaction(world):
    m = new_member(world)
    give_points(world, m, 1000)
    assert points_balance(member_id=m.pk) == 1000
    t = template(world, claim_method="points", claim_points=600)
    claim(m, t)
    assert points_balance(member_id=m.pk) == 400
    assert code_of(lambda: claim(m, t)) == "coupon.points_insufficient"
    assert Coupon.objects.filter(member=m).count() == 1
    assert ledger_check().ok


def test_claim_for_a_price_pays_from_the_wallet(world):
    m = new_member(world)
    top_up(world, m, 1000)
    t = template(world, claim_method="price", claim_price_fen=990, total_quantity=5)
    issued = claim(m, t)
    assert Coupon.objects.get(pk=issued.coupon_id).paid_fen == 990
    assert wallet_selectors.wallet_balance(member_id=m.pk).principal_fen == 10
    assert code_of(lambda: claim(m, t)) == "wallet.insufficient"
    assert selectors.stock_remaining(template_id=t.pk) == 4  # the failed claim took nothing
    assert ledger_check().ok


def test_claim_centre_lists_what_the_member_may_claim(world):
    m = new_member(world)
    t1 = template(world, name="open")
    t2 = template(world, name="gone", total_quantity=1)
    template(world, name="hidden", is_claimable=False)
    claim(new_member(world), t2)
    offers = {o.template_id: o for o in selectors.claim_centre(member_id=m.pk)}
    assert offers[t1.pk].can_claim
    assert offers[t2.pk].reason_code == "coupon.sold_out"
    assert len(offers) == 2


# ------------------------------------------------------------------------------------------------- the sale pair


def test_redeem_at_the_till_applies_locks_and_records(world, django_assert_max_num_queries):
    m = new_member(world)
    t = template(world)
    c = claim(m, t)
    lines = basket(15000, 10000)
    with django_assert_max_num_queries(8) as queries:
        result = redeem(world, m, [c.coupon_id], lines, sale_id=77)
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert locks and all("coupontemplate" not in sql.split("FOR UPDATE")[0].split("FROM")[1] for sql in locks)
    assert result.total_discount_fen == 3000
    assert [(d.line_no, d.discount_fen) for d in result.line_discounts] == [(1, 1800), (2, 1200)]
    assert result.applied[0].mall_fen == 3000
    assert Coupon.objects.get(pk=c.coupon_id).status == "used"
    r = CouponRedemption.objects.get(sale_id=77)
    assert r.discount_fen == 3000 and r.template_id == t.pk
    assert code_of(lambda: redeem(world, m, [c.coupon_id], lines)) == "coupon.used"


def test_redeem_before_the_sale_row_exists_then_attach(world):
    m = new_member(world)
    c = claim(m, template(world))
    with transaction.atomic():
        result = services.coupons_redeem_for_sale_in_tx(
            sale_id=None,
            merchant=world.merchant,
            member_id=m.pk,
            lines=basket(20000),
            coupon_ids=[c.coupon_id],
            occurred_at=timezone.now(),
        )
        ids = [a.redemption_id for a in result.applied]
        assert services.coupons_attach_sale_in_tx(redemption_ids=ids, sale_id=4242) == 1
    assert refund(4242, None).restored_coupon_ids == (c.coupon_id,)


def test_threshold_is_exact_at_the_till(world):
    m = new_member(world)
    c = claim(m, template(world))
    assert code_of(lambda: redeem(world, m, [c.coupon_id], basket(19950))) == "coupon.threshold_not_met"
    assert Coupon.objects.get(pk=c.coupon_id).status == "available"
    assert redeem(world, m, [c.coupon_id], basket(20000)).total_discount_fen == 3000


def test_the_till_rechecks_holder_scope_kind_and_hours(world):
    m, other = new_member(world), new_member(world)
    c = claim(m, template(world))
    assert code_of(lambda: redeem(world, other, [c.coupon_id], basket(30000))) == "coupon.wrong_member"
    fashion = claim(m, template(world, scope_kind="categories", scope_categories=["fashion"]))
    assert code_of(lambda: redeem(world, m, [fashion.coupon_id], basket(30000))) == "coupon.not_applicable"
    assert redeem(world, m, [fashion.coupon_id], basket(30000), merchant=world.other_merchant).total_discount_fen
    gift = claim(m, template(world, kind="exchange", exchange_item="Bubble tea", value_fen=0, threshold_fen=0))
    assert code_of(lambda: redeem(world, m, [gift.coupon_id], basket(30000))) == "coupon.standalone_only"
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH), tick=False):
        lunch = claim(m, template(world, hours_from=dt.time(11), hours_until=dt.time(14)))
    with time_machine.travel(dt.datetime(2026, 3, 2, 15, 0, tzinfo=SH), tick=False):
        assert code_of(lambda: redeem(world, m, [lunch.coupon_id], basket(30000))) == "coupon.time_restricted"
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, 0, tzinfo=SH), tick=False):
        assert redeem(world, m, [lunch.coupon_id], basket(30000)).total_discount_fen == 3000


def test_two_coupons_in_one_stacking_group_are_refused(world):
    m = new_member(world)
    a = claim(m, template(world, stacking_group="mall"))
    b = claim(m, template(world, stacking_group="mall", name="b"))
    assert code_of(lambda: redeem(world, m, [a.coupon_id, b.coupon_id], basket(50000))) == "coupon.not_combinable"
    assert Coupon.objects.filter(status="used").count() == 0


def test_partial_refund_breaking_the_threshold_deducts_then_full_refund_restores(world):
    m = new_member(world)
    c = claim(m, template(world))
    redeem(world, m, [c.coupon_id], basket(15000, 10000), sale_id=501)
    first = refund(501, [RefundLineQty(2, 1)], key="r1")
    assert (first.rolled_back_fen, first.clawback_fen, first.deduct_fen) == (1200, 1800, 3000)
    assert refund(501, [RefundLineQty(2, 1)], key="r1") == first  # replayed, nothing changes
    assert Coupon.objects.get(pk=c.coupon_id).status == "used"
    second = refund(501, None, key="r2")
    assert (second.rolled_back_fen, second.clawback_fen) == (0, 0)
    assert second.restored_coupon_ids == (c.coupon_id,)
    assert Coupon.objects.get(pk=c.coupon_id).status == "available"
    r = CouponRedemption.objects.get(sale_id=501)
    assert r.status == RedemptionStatus.REVERSED and r.refunded_fen == 3000 == r.refunded_mall_fen
    # the restored coupon can be used again
    assert redeem(world, m, [c.coupon_id], basket(20000)).total_discount_fen == 3000


def test_keep_policy_and_expired_coupons_are_not_restored(world):
    m = new_member(world)
    t = template(world, on_threshold_loss="keep", funder="split", merchant_share_bp=4000, merchant_id=world.merchant.pk)
    c = claim(m, t)
    redeem(world, m, [c.coupon_id], basket(15000, 10000), sale_id=601)
    first = refund(601, [RefundLineQty(2, 1)], key="a")
    assert (first.rolled_back_fen, first.clawback_fen) == (1200, 0)
    assert first.mall_fen + first.merchant_fen == 1200 and first.merchant_fen == 480
    with time_machine.travel(timezone.now() + dt.timedelta(days=60)):
        last = refund(601, None, key="b", at=timezone.now())
    assert last.rolled_back_fen == 1800 and last.restored_coupon_ids == ()
    assert Coupon.objects.get(pk=c.coupon_id).status == "used"


def test_promotions_apply_automatically_and_quote_finds_the_best(world):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    m = new_member(world)
    now = timezone.now()
    promo = Promotion.objects.create(
        mall_group=world.group,
        name="满300减50",
        kind="spend_threshold",
        value_fen=5000,
        threshold_fen=30000,
        status="active",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=1),
        stacking_group="mall",
    )
    small = claim(m, template(world, name="¥10", kind="cash_off", value_fen=1000, threshold_fen=0))
    grouped = claim(m, template(world, name="¥80 off ¥300", value_fen=8000, threshold_fen=30000, stacking_group="mall"))
    quote = selectors.coupon_quote(member_id=m.pk, merchant=world.merchant, lines=basket(30000))
    # ¥80 coupon (same group as the ¥50 promotion) + ¥10 coupon = 9000 beats ¥50 + ¥10 = 6000
    assert quote.best.total_discount_fen == 9000
    assert set(quote.best_coupon_ids) == {small.coupon_id, grouped.coupon_id}
    assert quote.best_promotion_ids == ()
    assert {o.coupon_id: o.discount_fen for o in quote.coupons} == {small.coupon_id: 1000, grouped.coupon_id: 8000}
    # at the till with only the ¥10 coupon, the promotion is added
    result = redeem(world, m, [small.coupon_id], basket(30000), sale_id=901)
    assert result.total_discount_fen == 6000
    assert {a.promotion_id for a in result.applied} == {promo.pk, None}
    # anonymous shoppers get no members-only promotion
    assert redeem(world, None, [], basket(30000)).total_discount_fen == 0


# ------------------------------------------------------------------------------------------------- standalone


def test_exchange_coupon_is_redeemed_once_by_merchant_staff(world):
    m = new_member(world)
    t = template(world, kind="exchange", exchange_item="Bubble tea", value_fen=1500, threshold_fen=0)
    c = claim(m, t)
    check = selectors.coupon_check(code=c.code.lower(), mall_group_id=world.group.pk, merchant=world.merchant)
    assert check is not None and check.is_usable and check.exchange_item == "Bubble tea"

    def use(key):
        return services.coupon_redeem_standalone(
            code=c.code, mall_group_id=world.group.pk, merchant_id=world.merchant.pk, actor=ACTOR, idempotency_key=key
        )

    first = use("scan-1")
    assert use("scan-1") == first
    assert code_of(lambda: use("scan-2")) == "coupon.used"
    assert AuditEvent.objects.filter(action="coupon.redeem").count() == 1
    stats = selectors.template_stats(template_id=t.pk)
    assert (stats.issued, stats.used, stats.redemption_rate_bp, stats.discount_fen) == (1, 1, 10000, 1500)


def test_a_basket_coupon_cannot_be_redeemed_standalone(world):
    c = claim(new_member(world), template(world))
    assert (
        code_of(
            lambda: services.coupon_redeem_standalone(
                code=c.code, mall_group_id=world.group.pk, merchant_id=None, actor=ACTOR, idempotency_key="x"
            )
        )
        == "coupon.basket_only"
    )


# ------------------------------------------------------------------------------------------------- grants, triggers


def test_grant_batch_runs_in_chunks_and_stops_when_sold_out(world):
    t = template(world, total_quantity=3)
    members = [new_member(world) for _ in range(5)]
    batch = services.coupon_grant_batch_create(
        mall_group_id=world.group.pk,
        template_id=t.pk,
        member_ids=[x.pk for x in members],
        idempotency_key="g1",
        actor=ACTOR,
    )
    batch = GrantBatch.objects.get(pk=batch.pk)  # the immediate task backend ran it
    assert (batch.status, batch.total, batch.processed, batch.issued, batch.skipped) == ("sold_out", 5, 5, 3, 2)
    again = services.coupon_grant_batch_create(
        mall_group_id=world.group.pk,
        template_id=t.pk,
        member_ids=[x.pk for x in members],
        idempotency_key="g1",
        actor=ACTOR,
    )
    assert again.pk == batch.pk
    assert Coupon.objects.filter(template=t).count() == 3
    assert (
        code_of(
            lambda: services.coupon_grant_batch_create(
                mall_group_id=world.group.pk,
                template_id=t.pk,
                member_ids=[members[0].pk],
                idempotency_key="g1",
                actor=ACTOR,
            )
        )
        == "coupon.idempotency_conflict"
    )


def test_grant_batch_to_a_segment_is_resumable(world):
    t = template(world)
    members = [new_member(world) for _ in range(5)]
    with transaction.atomic():  # create without running: the task is replaced by a manual run in small chunks
        batch = GrantBatch.objects.create(
            mall_group=world.group, template=t, idempotency_key="seg", member_ids=[x.pk for x in members], total=5
        )
    services.coupon_grant_batch_run(batch_id=batch.pk, chunk=2)
    services.coupon_grant_batch_run(batch_id=batch.pk, chunk=2)
    batch.refresh_from_db()
    assert (batch.status, batch.issued, batch.processed) == ("done", 5, 5)
    assert services.segment_member_ids(mall_group_id=world.group.pk, segment={}) == sorted(x.pk for x in members)


def test_staff_grant_to_one_member_is_idempotent_and_audited(world):
    m = new_member(world)
    t = template(world, per_member_limit=1)
    claim(m, t)
    one = services.coupon_grant(
        mall_group_id=world.group.pk, template_id=t.pk, member_id=m.pk, idempotency_key="cs-1", actor=ACTOR
    )
    two = services.coupon_grant(
        mall_group_id=world.group.pk, template_id=t.pk, member_id=m.pk, idempotency_key="cs-1", actor=ACTOR
    )
    assert one.coupon_id == two.coupon_id and not two.created
    assert Coupon.objects.filter(member=m).count() == 2  # grants are not bound by the claim limit
    assert AuditEvent.objects.filter(action="coupon.grant").count() == 1


def test_welcome_coupon_on_join_through_the_event(world):
    t = template(world, trigger="join", is_claimable=False)
    m = new_member(world)
    assert Coupon.objects.filter(member=m, template=t, source="join").count() == 1
    services.coupon_issue_on_join(member_id=m.pk)
    assert Coupon.objects.filter(member=m, template=t).count() == 1


def test_tier_upgrade_coupon_through_the_event(world):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    t = template(world, trigger="tier_upgrade", trigger_tier_rank=1, is_claimable=False)
    m = new_member(world)
    assert not Coupon.objects.filter(member=m).exists()
    with transaction.atomic():  # what a ¥5000 sale records: an instant upgrade to silver, and the event
        change = tier_record_spend_in_tx(
            member_id=m.pk, mall_group_id=world.group.pk, amount_fen=500000, occurred_at=timezone.now(), source="t:1"
        )
    assert change is not None and change.to_level.rank == 1
    assert Coupon.objects.filter(member=m, template=t, source="tier").count() == 1


def test_birthday_job_issues_once_per_year(world):
    t = template(
        world,
        trigger="birthday",
        is_claimable=False,
        validity_kind="relative",
        valid_days=30,
        valid_from=None,
        valid_until=None,
    )
    today = dt.date(2026, 2, 28)
    born = new_member(world, profile={"birthday": dt.date(1990, 2, 28)})
    leap = new_member(world, profile={"birthday": dt.date(1992, 2, 29)})
    new_member(world, profile={"birthday": dt.date(1990, 3, 1)})
    assert services.coupon_issue_birthdays(mall_group_id=world.group.pk, today=today) == 2
    assert services.coupon_issue_birthdays(mall_group_id=world.group.pk, today=today) == 0
    assert set(Coupon.objects.filter(template=t).values_list("member_id", flat=True)) == {born.pk, leap.pk}


def test_spend_reward_once_per_sale_with_exact_threshold(world):
    t = template(
        world,
        trigger="spend",
        trigger_spend_fen=10000,
        is_claimable=False,
        scope_kind="merchants",
        scope_merchant_ids=[world.merchant.pk],
    )
    m = new_member(world)

    def give(paid, sale_id, merchant=None):
        with transaction.atomic():
            return services.coupons_issue_for_sale_in_tx(
                mall_group_id=world.group.pk,
                member_id=m.pk,
                merchant=merchant or world.merchant,
                sale_id=sale_id,
                eligible_paid_fen=paid,
                occurred_at=timezone.now(),
            )

    assert give(9999, 1) == []
    assert len(give(10000, 2)) == 1
    assert give(10000, 2) == []
    assert give(50000, 3, merchant=world.other_merchant) == []
    assert Coupon.objects.filter(template=t).count() == 1


# ------------------------------------------------------------------------------------------------- expiry, void


def test_expiry_job_is_idempotent_and_lists_follow_the_clock(world):
    m = new_member(world)
    t = template(world, validity_kind="relative", valid_days=1, valid_from=None, valid_until=None)
    c = claim(m, t)
    assert [x.pk for x in selectors.coupon_list(member_id=m.pk, status="available")] == [c.coupon_id]
    later = timezone.now() + dt.timedelta(days=2)
    with time_machine.travel(later):
        assert not selectors.coupon_list(member_id=m.pk, status="available").exists()
        assert selectors.coupon_list(member_id=m.pk, status="expired").count() == 1
        assert services.coupon_expire() == 1
        assert services.coupon_expire() == 0
    assert Coupon.objects.get(pk=c.coupon_id).status == "expired"
    assert selectors.template_stats(template_id=t.pk).expired == 1


def test_void_by_staff(world):
    m = new_member(world)
    c = claim(m, template(world))
    services.coupon_void(coupon_id=c.coupon_id, mall_group_id=world.group.pk, actor=ACTOR, reason="fraud")
    assert code_of(lambda: redeem(world, m, [c.coupon_id], basket(30000))) == "coupon.void"
    assert AuditEvent.objects.filter(action="coupon.void").count() == 1


def test_a_segment_grant_retried_with_another_segment_is_a_conflict(world):
    t = template(world)
    new_member(world)

    def grant(segment):
        return services.coupon_grant_batch_create(
            mall_group_id=world.group.pk, template_id=t.pk, idempotency_key="seg-1", actor=ACTOR, segment=segment
        )

    first = grant({"min_tier_rank": 0, "joined_from": dt.date(2020, 1, 1)})
    assert grant({"min_tier_rank": 0, "joined_from": "2020-01-01"}).pk == first.pk  # the same request again
    with pytest.raises(ApplicationError) as exc:
        grant({"min_tier_rank": 2})
    assert exc.value.code == "coupon.idempotency_conflict"
