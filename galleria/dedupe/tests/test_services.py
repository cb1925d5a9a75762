from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from galleria.core.errors import ApplicationError
from galleria.coupons.models import Coupon, CouponHolding, CouponStatus
from galleria.coupons.services import coupon_void
from galleria.dedupe import exceptions, selectors, services
from galleria.dedupe.models import MergeRecord, MergeStatus
from galleria.ledger import services as ledger
from galleria.ledger.exceptions import AccountClosedError
from galleria.ledger.models import Account, AccountKind, Transaction, TransactionKind
from galleria.members import selectors as member_selectors
from galleria.members.models import Consent, Member, MemberIdentifier, MemberStatus
from galleria.points.models import AdjustmentStatus, PointsAdjustment, PointsLot
from galleria.sales.models import Sale
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import sale_in
from galleria.tiers.models import MemberTier, TierChange, TierChangeReason, TierSpend
from galleria.wallet.models import TopUp, WalletPayment
from galleria.wallet.services import wallet_topup_start
from galleria.wallet.tests.helpers import pay

from .helpers import ACTOR, assert_ledger_clean, balances, loaded_pair, new_member, open_lots, refreshed

pytestmark = pytest.mark.django_db

ROW_MODELS = (MemberIdentifier, Consent, Sale, Coupon, TopUp, WalletPayment, TierSpend, TierChange)


def rows_of(member) -> dict[str, set[int]]:
    return {m.__name__: set(m.objects.filter(member_id=member.pk).values_list("pk", flat=True)) for m in ROW_MODELS}


def merge(world, survivor, absorbed):
    record, created = services.member_merge(
        mall_group_id=world.group.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk, actor=ACTOR
    )
    assert created
    return record


def test_merge_moves_every_balance_exactly(world):
    survivor, absorbed = loaded_pair(world)
    s0, a0 = balances(survivor), balances(absorbed)
    assert a0[AccountKind.MEMBER_POINTS] > 0 and a0[AccountKind.MEMBER_WALLET] == 7500
    assert a0[AccountKind.MEMBER_WALLET_BONUS] == 1000
    a_lots, s_lots = open_lots(absorbed), open_lots(survivor)
    assert len({lot[1] for lot in a_lots}) == 2  # two different expiry dates
    assert_ledger_clean()

    record = merge(world, survivor, absorbed)

    assert_ledger_clean()
    s1, a1 = balances(survivor), balances(absorbed)
    assert a1 == {k: 0 for k in a1}
    assert s1 == {k: s0[k] + a0[k] for k in s0}  # principal and bonus each keep their side of the split
    assert sorted(open_lots(survivor)) == sorted(a_lots + s_lots)  # same points, expiry and earning time
    assert open_lots(absorbed) == []
    tx = Transaction.objects.get(pk=record.transaction_id)
    assert tx.kind == TransactionKind.MERGE
    assert {(e.account.member_id, e.account.kind, e.amount) for e in tx.entries.select_related("account")} == {
        (absorbed.pk, AccountKind.MEMBER_POINTS, -a0[AccountKind.MEMBER_POINTS]),
        (survivor.pk, AccountKind.MEMBER_POINTS, a0[AccountKind.MEMBER_POINTS]),
        (absorbed.pk, AccountKind.MEMBER_WALLET, -7500),
        (survivor.pk, AccountKind.MEMBER_WALLET, 7500),
        (absorbed.pk, AccountKind.MEMBER_WALLET_BONUS, -1000),
        (survivor.pk, AccountKind.MEMBER_WALLET_BONUS, 1000),
    }
    absorbed = refreshed(absorbed)
    assert absorbed.status == MemberStatus.MERGED and absorbed.merged_into_id == survivor.pk
    assert record.amounts[AccountKind.MEMBER_POINTS] == a0[AccountKind.MEMBER_POINTS]


def test_every_row_moves_and_old_references_resolve_to_the_survivor(world):
    survivor, absorbed = loaded_pair(world)
    before_a, before_s = rows_of(absorbed), rows_of(survivor)
    old_phone = absorbed.phone
    merge(world, survivor, absorbed)
    after = rows_of(survivor)
    for name in before_a:
        assert after[name] >= before_a[name] | before_s[name], name
    assert all(not ids for name, ids in rows_of(absorbed).items() if name != "TierChange"), rows_of(absorbed)
    hit = member_selectors.member_resolve(mall_group_id=world.group.pk, raw=old_phone)
    assert hit is not None and hit.member.pk == survivor.pk
    card = member_selectors.member_resolve(mall_group_id=world.group.pk, raw=absorbed.card_no)
    assert card is not None and card.member.pk == survivor.pk
    assert member_selectors.member_get(mall_group_id=world.group.pk, member_id=absorbed.pk).pk == survivor.pk
    survivor_now = refreshed(survivor)
    assert (survivor_now.phone, survivor_now.card_no) == (survivor.phone, survivor.card_no)  # display copies kept
    # both held the coupon template: one holding row stands for both
    assert CouponHolding.objects.filter(member_id=survivor.pk).count() == 1
    assert not CouponHolding.objects.filter(member_id=absorbed.pk).exists()


def test_tier_is_the_higher_with_history(world):
    survivor, absorbed = loaded_pair(world)
    a_history = set(TierChange.objects.filter(member_id=absorbed.pk).values_list("pk", flat=True))
    assert MemberTier.objects.get(member_id=survivor.pk).level.code == "classic"
    merge(world, survivor, absorbed)
    assert MemberTier.objects.get(member_id=survivor.pk).level.code == "gold"
    change = TierChange.objects.filter(member_id=survivor.pk).order_by("-pk").first()
    assert change.reason == TierChangeReason.MERGE
    assert (change.from_level.code, change.to_level.code) == ("classic", "gold")
    assert a_history <= set(TierChange.objects.filter(member_id=survivor.pk).values_list("pk", flat=True))


def test_lower_tier_absorbed_keeps_survivor_tier_without_change(world):
    absorbed, survivor = loaded_pair(world)  # here the survivor is the gold one
    changes = TierChange.objects.filter(member_id=survivor.pk).count()
    merge(world, survivor, absorbed)
    assert MemberTier.objects.get(member_id=survivor.pk).level.code == "gold"
    assert not TierChange.objects.filter(member_id=survivor.pk, reason=TierChangeReason.MERGE).exists()
    assert TierChange.objects.filter(member_id=survivor.pk).count() > changes  # the absorbed's history joined


def test_unmerge_restores_exactly(world):
    survivor, absorbed = loaded_pair(world)
    snapshot = (balances(survivor), balances(absorbed), open_lots(survivor), open_lots(absorbed))
    rows = (rows_of(survivor), rows_of(absorbed))
    tier = MemberTier.objects.get(member_id=survivor.pk)
    holdings = (
        set(CouponHolding.objects.filter(member_id=survivor.pk).values_list("template_id", flat=True)),
        set(CouponHolding.objects.filter(member_id=absorbed.pk).values_list("template_id", flat=True)),
    )
    record = merge(world, survivor, absorbed)
    merge_tier_change = record.moved["tier"]["change_id"]

    undone = services.member_unmerge(mall_group_id=world.group.pk, merge_id=record.pk, actor=ACTOR)

    assert_ledger_clean()
    assert undone.status == MergeStatus.UNDONE
    assert (balances(survivor), balances(absorbed), open_lots(survivor), open_lots(absorbed)) == snapshot
    after_rows = (rows_of(survivor), rows_of(absorbed))
    # the survivor's tier history gained the two MERGE changes (there and back); everything else is as it was
    assert after_rows[1] == rows[1]
    assert {k: v for k, v in after_rows[0].items() if k != "TierChange"} == {
        k: v for k, v in rows[0].items() if k != "TierChange"
    }
    extra = after_rows[0]["TierChange"] - rows[0]["TierChange"]
    assert merge_tier_change in extra and len(extra) == 2
    tier_now = MemberTier.objects.get(member_id=survivor.pk)
    assert (tier_now.level_id, tier_now.since, tier_now.grace_until, tier_now.override_until) == (
        tier.level_id,
        tier.since,
        tier.grace_until,
        tier.override_until,
    )
    assert (
        set(CouponHolding.objects.filter(member_id=survivor.pk).values_list("template_id", flat=True)),
        set(CouponHolding.objects.filter(member_id=absorbed.pk).values_list("template_id", flat=True)),
    ) == holdings
    absorbed = refreshed(absorbed)
    assert absorbed.status == MemberStatus.ACTIVE and absorbed.merged_into_id is None
    reversal = Transaction.objects.get(pk=undone.reversal_ids[0])
    assert reversal.reverses_id == record.transaction_id
    hit = member_selectors.member_resolve(mall_group_id=world.group.pk, raw=absorbed.phone)
    assert hit is not None and hit.member.pk == absorbed.pk
    # the absorbed member's original lot rows carry their points again (same rows, same expiry)
    for old_id, _new_id, points in record.moved["lots"]:
        assert PointsLot.objects.get(pk=old_id).remaining == points
    with pytest.raises(exceptions.UndoNotLiveError):
        services.member_unmerge(mall_group_id=world.group.pk, merge_id=record.pk, actor=ACTOR)
    # the absorbed member's accounts are open again: it earns like any member
    assert not Account.objects.filter(member_id=absorbed.pk, closed_at__isnull=False).exists()
    result = sale_commit(data=sale_in(world, member_id=absorbed.pk, amounts=(10000,)), actor=ACTOR)
    assert result.member_id == absorbed.pk and result.points_earned > 0


def test_unmerge_refused_after_survivor_spent(world):
    survivor, absorbed = loaded_pair(world)
    record = merge(world, survivor, absorbed)
    pay(world, survivor, 100)
    with pytest.raises(exceptions.UndoSurvivorActivityError) as err:
        services.member_unmerge(mall_group_id=world.group.pk, merge_id=record.pk, actor=ACTOR)
    assert err.value.code == "dedupe.undo_survivor_activity"
    assert refreshed(absorbed).status == MemberStatus.MERGED
    assert_ledger_clean()


def test_unmerge_refused_when_a_moved_coupon_changed(world):
    survivor, absorbed = loaded_pair(world)
    moved_coupon = Coupon.objects.filter(member_id=absorbed.pk).first()
    record = merge(world, survivor, absorbed)
    coupon_void(coupon_id=moved_coupon.pk, mall_group_id=world.group.pk, actor=ACTOR)
    assert Coupon.objects.get(pk=moved_coupon.pk).status == CouponStatus.VOID
    with pytest.raises(exceptions.UndoCouponChangedError):
        services.member_unmerge(mall_group_id=world.group.pk, merge_id=record.pk, actor=ACTOR)


def test_unmerge_refused_after_the_window(world, settings):
    settings.GALLERIA_MERGE_UNDO_DAYS = 7
    survivor, absorbed = loaded_pair(world)
    record = merge(world, survivor, absorbed)
    MergeRecord.objects.filter(pk=record.pk).update(merged_at=timezone.now() - dt.timedelta(days=8))
    with pytest.raises(exceptions.UndoWindowPassedError):
        services.member_unmerge(mall_group_id=world.group.pk, merge_id=record.pk, actor=ACTOR)
    MergeRecord.objects.filter(pk=record.pk).update(merged_at=timezone.now() - dt.timedelta(days=6))
    services.member_unmerge(mall_group_id=world.group.pk, merge_id=record.pk, actor=ACTOR)


def _code(fn) -> str:
    with pytest.raises(ApplicationError) as err:
        fn()
    return err.value.code


def test_merge_refused_on_conflicts(world):
    a, b, c = new_member(world), new_member(world), new_member(world)
    group = world.group.pk

    def go(s, x, g=group):
        return lambda: services.member_merge(mall_group_id=g, survivor_id=s.pk, absorbed_id=x.pk, actor=ACTOR)

    assert _code(go(a, a)) == "dedupe.same_member"
    Member.objects.filter(pk=c.pk).update(status=MemberStatus.ERASED)
    assert _code(go(a, c)) == "dedupe.member_not_active"
    assert _code(go(c, a)) == "dedupe.member_not_active"
    from galleria.members.services import member_register

    foreign = member_register(mall=world.foreign_mall, phone="13900009999", channel="desk", actor=ACTOR)
    assert _code(go(a, foreign)) == "dedupe.member_not_found"  # out of scope: 404
    assert _code(go(a, foreign, None)) == "dedupe.different_groups"  # platform scope sees both groups
    wallet_topup_start(mall_id=world.mall.pk, member_id=b.pk, amount_fen=5000)
    assert _code(go(a, b)) == "dedupe.pending_topup"
    TopUp.objects.filter(member_id=b.pk).delete()
    PointsAdjustment.objects.create(
        mall_group=world.group, member=a, points=10, reason="x", status=AdjustmentStatus.PENDING
    )
    assert _code(go(a, b)) == "dedupe.pending_adjustment"
    PointsAdjustment.objects.all().delete()
    services.member_merge(mall_group_id=group, survivor_id=a.pk, absorbed_id=b.pk, actor=ACTOR)
    assert _code(go(c, b)) in ("dedupe.member_not_active",)
    d = new_member(world)
    assert _code(go(b, d)) == "dedupe.member_not_active"  # a merged member cannot be a survivor
    assert not MergeRecord.objects.filter(absorbed=d).exists()


def test_merge_is_naturally_idempotent(world):
    survivor, absorbed = loaded_pair(world)
    first = merge(world, survivor, absorbed)
    again, created = services.member_merge(
        mall_group_id=world.group.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk, actor=ACTOR
    )
    assert not created and again.pk == first.pk
    assert MergeRecord.objects.count() == 1
    assert_ledger_clean()


def test_every_foreign_key_to_member_is_handled():
    """Fails when a model gains a foreign key to Member that the merge does not handle (add it to HANDLED)."""
    found = selectors.member_foreign_keys()
    handled = selectors.handled_keys()
    assert found - handled == set(), f"foreign keys to Member that merge does not handle: {found - handled}"
    assert handled - found == set(), f"HANDLED lists foreign keys that no longer exist: {handled - found}"
    for h in selectors.HANDLED:
        if h.how == selectors.MOVE_UNLESS_TAKEN:
            assert h.unique_with, h


def test_pair_dismiss_and_report(world):
    a, b = new_member(world), new_member(world)
    mark, created = services.pair_report(
        mall_group_id=world.group.pk, a_id=b.pk, b_id=a.pk, note="same face", actor=ACTOR
    )
    assert created and (mark.member_low_id, mark.member_high_id) == (a.pk, b.pk)
    _again, created = services.pair_report(mall_group_id=world.group.pk, a_id=a.pk, b_id=b.pk, note="", actor=ACTOR)
    assert not created
    pairs = selectors.duplicate_candidates(mall_group_id=world.group.pk)
    assert [(p.low_id, p.high_id, p.kinds) for p in pairs] == [(a.pk, b.pk, ("reported",))]
    services.pair_dismiss(mall_group_id=world.group.pk, a_id=a.pk, b_id=b.pk, note="twins", actor=ACTOR)
    assert selectors.duplicate_candidates(mall_group_id=world.group.pk) == []
    assert (
        _code(lambda: services.pair_dismiss(mall_group_id=world.group.pk, a_id=a.pk, b_id=a.pk, note="", actor=ACTOR))
        == "dedupe.pair_invalid"
    )


def test_refund_of_a_moved_sale_after_merge(world):
    import dataclasses

    from galleria.sales.services import sale_commit, sale_refund
    from galleria.sales.tests.helpers import sale_in
    from galleria.sales.types import PaymentIn

    survivor, absorbed = loaded_pair(world)
    data = sale_in(world, member_id=absorbed.pk, amounts=(20000,), points=100, pay=19900)
    data = dataclasses.replace(data, payments=(PaymentIn("wechat", 19100), PaymentIn("wallet", 800)))
    sale_commit(data=data, actor=ACTOR)
    merge(world, survivor, absorbed)
    sale = Sale.objects.filter(member_id=survivor.pk).order_by("-pk").first()
    sale_refund(merchant_id=sale.merchant_id, pos_sale_id=sale.pos_sale_id, pos_refund_id="RF1", lines=None)
    assert balances(absorbed) == {k: 0 for k in balances(absorbed)}
    assert_ledger_clean()


def test_merged_members_accounts_are_closed_and_a_late_sale_goes_to_the_survivor(world):
    """A till that resolved the card a moment before the merge committed still names the absorbed member: its sale
    lands on the survivor (sale and points), and every other posting to the absorbed member is refused."""
    from django.db import transaction

    from galleria.points.services import points_adjust_request

    survivor, absorbed = loaded_pair(world)
    record = merge(world, survivor, absorbed)
    closed = Account.objects.filter(member_id=absorbed.pk)
    assert closed.count() == 3 and all(a.closed_at == record.merged_at for a in closed)
    assert not Account.objects.filter(member_id=survivor.pk, closed_at__isnull=False).exists()
    before = balances(survivor)[AccountKind.MEMBER_POINTS]

    result = sale_commit(data=sale_in(world, member_id=absorbed.pk, amounts=(10000,)), actor=ACTOR)

    assert result.member_id == survivor.pk and result.points_earned > 0
    assert Sale.objects.get(pk=result.sale_id).member_id == survivor.pk
    assert balances(survivor)[AccountKind.MEMBER_POINTS] == before + result.points_earned
    assert balances(absorbed) == {k: 0 for k in balances(absorbed)}
    with pytest.raises(AccountClosedError) as err:
        points_adjust_request(
            mall_group_id=world.group.pk,
            member_id=absorbed.pk,
            points=50,
            reason="goodwill",
            actor=ACTOR,
            tz_name="UTC",
        )
    assert err.value.code == "member.account_closed" and err.value.status == 409
    with transaction.atomic():
        assert ledger.lock_member_accounts(
            mall_group_id=world.group.pk, member_id=absorbed.pk, kinds=[AccountKind.MEMBER_POINTS], allow_closed=True
        )
    assert balances(absorbed) == {k: 0 for k in balances(absorbed)}
    assert_ledger_clean()


def test_messaging_rows_follow_the_person_and_come_back_on_unmerge(world):
    """Push subscriptions, WeChat accepts, inbox messages and read marks have plain member id columns (messaging sits
    below members): a merge moves them to the survivor and an un-merge moves them back."""
    from galleria.messaging.models import InboxMessage, InboxRead, PushSubscription, WechatSubscription

    survivor, absorbed = loaded_pair(world)
    now = timezone.now()
    push = PushSubscription.objects.create(member_id=absorbed.pk, endpoint="https://push.test/a", p256dh="k", auth="a")
    accept = WechatSubscription.objects.create(
        member_id=absorbed.pk, openid="o-abs", template_id="T1", remaining=2, accepted_at=now
    )
    note = InboxMessage.objects.create(
        mall_group=world.group, audience="member", member_id=absorbed.pk, title="t", body="b", sent_at=now
    )
    broadcast = InboxMessage.objects.create(mall_group=world.group, audience="all", title="t", body="b", sent_at=now)
    read_own = InboxRead.objects.create(message=note, member_id=absorbed.pk, read_at=now)
    read_both = InboxRead.objects.create(message=broadcast, member_id=absorbed.pk, read_at=now)
    InboxRead.objects.create(message=broadcast, member_id=survivor.pk, read_at=now)
    preview = dict(selectors.merge_preview(survivor=survivor, absorbed=absorbed).rows)
    assert {k: preview.get(k) for k in ("messaging.PushSubscription", "messaging.InboxRead")} == {
        "messaging.PushSubscription": 1,
        "messaging.InboxRead": 1,
    }

    record = merge(world, survivor, absorbed)

    for row in (push, accept, note, read_own):
        row.refresh_from_db()
        assert row.member_id == survivor.pk, row
    read_both.refresh_from_db()
    assert read_both.member_id == absorbed.pk  # the survivor had read it too: one read mark per member

    services.member_unmerge(mall_group_id=world.group.pk, merge_id=record.pk, actor=ACTOR)
    for row in (push, accept, note, read_own):
        row.refresh_from_db()
        assert row.member_id == absorbed.pk, row
