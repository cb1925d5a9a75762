"""Issuing coupons: member claims (free, for points, for a price), staff grants (one member; lists and segments
as a background batch), triggered issues (join, tier upgrade, birthday, spend reward), expiry and voiding.

Lock order (the same in every use case, after whatever the caller already holds): the member's ledger accounts
(claims that cost points or money) → the (template, member) holding row → a stock shard. Grant batches lock their
batch row, the birthday job its template row; the till never locks a template.

Idempotency: every issue has a `source_key` unique per template (claim:<member>:<client key>,
grant:<key>:<member>, grant-batch:<batch>:<member>, join:<member>, tier:<member>, birthday:<member>:<year>,
sale:<sale id>), checked under the lock and backed by the unique constraint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import configcache, sql, timeutil
from galleria.core.errors import ValidationError
from galleria.core.locking import lock_one, lock_rows
from galleria.core.tasks import enqueue
from galleria.ledger import services as ledger
from galleria.ledger.models import AccountKind
from galleria.members.models import Member
from galleria.members.selectors import ACTIVE_STATUS, members_active
from galleria.merchants.models import Merchant
from galleria.points import services as points_services
from galleria.tiers.models import MemberTier, TierChange
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services

from .. import exceptions, rules, selectors
from .. import sql as coupons_sql
from ..exceptions import error_for
from ..models import (
    ClaimMethod,
    Coupon,
    CouponSource,
    CouponStatus,
    CouponTemplate,
    GrantBatch,
    GrantStatus,
    TemplateStatus,
    Trigger,
)
from ..types import IssuedCoupon
from ._common import holding_lock, issue, issued, stock_take

GRANT_TASK = "galleria.coupons.tasks.coupon_grant_batch_run_task"
GRANT_CHUNK = 200
MAX_GRANT_MEMBERS = 200_000


def _member(member_id: int, mall_group_id: int | None = None) -> Member:
    # members_active(mall_group_id=…).filter(pk=…).first() as one fixed statement (core.sql builds it from the
    # model): a spend reward reads the member inside the sale, where the ORM's query building was the cost
    keys: dict[str, Any] = {"id": member_id, "status": ACTIVE_STATUS}
    if mall_group_id is not None:
        keys["mall_group_id"] = mall_group_id
    member = sql.row_with_chain(Member, (), **keys)
    if member is None:
        raise ValidationError(
            _("No active member with this id in the mall group."),
            code="coupon.member_invalid",
            extra={"member_id": member_id},
        )
    return member


def _template(template_id: int, mall_group_id: int) -> CouponTemplate:
    template = CouponTemplate.objects.filter(pk=template_id, mall_group_id=mall_group_id).first()
    if template is None:
        raise exceptions.TemplateNotFoundError()
    return template


# ------------------------------------------------------------------------------------------------- claim


def coupon_claim_in_tx(
    *, member_id: int, template_id: int, idempotency_key: str, at: dt.datetime | None = None
) -> IssuedCoupon:
    """A member claims one coupon. Same key again returns the first coupon (created=False); the same key for
    another template is CouponIdempotencyConflictError. Points or money are taken in the same transaction."""
    at = at or timeutil.now()
    member = _member(member_id)
    template = _template(template_id, member.mall_group_id)
    if not template.is_claimable:
        raise exceptions.CouponNotClaimableError()
    source_key = f"claim:{member.pk}:{idempotency_key}"[:120]
    accounts = {}
    if template.claim_method == ClaimMethod.POINTS:
        accounts = ledger.lock_member_accounts(
            mall_group_id=member.mall_group_id, member_id=member.pk, kinds=[AccountKind.MEMBER_POINTS]
        )
    elif template.claim_method == ClaimMethod.PRICE:
        accounts = ledger.lock_member_accounts(
            mall_group_id=member.mall_group_id, member_id=member.pk, kinds=wallet_selectors.WALLET_KINDS
        )
    holding_lock(template_id=template.pk, member_id=member.pk)
    previous = Coupon.objects.filter(member_id=member.pk, source=CouponSource.CLAIM, source_key=source_key).first()
    if previous is not None:
        if previous.template_id != template.pk:
            raise exceptions.CouponIdempotencyConflictError(extra={"coupon_id": previous.pk})
        return issued(previous, created=False)
    tz_name = selectors.template_tz(template)
    counts = selectors.member_issued_counts(template=template, member_id=member.pk, at=at, tz_name=tz_name)
    rank, _bp = selectors.member_tier(member_id=member.pk)
    reason = selectors.claim_problem(
        template=template, member=member, at=at, tz_name=tz_name, tier_rank=rank, counts=counts
    )
    if reason:
        raise error_for(reason, template_id=template.pk)
    if template.claim_method == ClaimMethod.POINTS:
        balance = accounts[AccountKind.MEMBER_POINTS].balance or 0
        if balance < template.claim_points:
            raise exceptions.CouponPointsInsufficientError(
                extra={"balance": balance, "required": template.claim_points}
            )
    if stock_take(template, 1) < 1:
        raise exceptions.CouponSoldOutError(extra={"template_id": template.pk})
    paid_points = template.claim_points if template.claim_method == ClaimMethod.POINTS else 0
    paid_fen = template.claim_price_fen if template.claim_method == ClaimMethod.PRICE else 0
    coupon = issue(
        template=template,
        member_id=member.pk,
        source=CouponSource.CLAIM,
        source_key=source_key,
        at=at,
        tz_name=tz_name,
        paid_points=paid_points,
        paid_fen=paid_fen,
    )
    if paid_points:
        points_services.points_spend_in_tx(
            mall_group_id=member.mall_group_id,
            member_id=member.pk,
            points_account=accounts[AccountKind.MEMBER_POINTS],
            points=paid_points,
            merchant_id=template.merchant_id,
            occurred_at=at,
            source=f"coupon:{coupon.pk}",
            explanation={"coupon": coupon.pk, "template": template.pk},
        )
    if paid_fen:
        wallet_services.wallet_pay_in_tx(
            mall_group_id=member.mall_group_id,
            member_id=member.pk,
            accounts=accounts,
            amount_fen=paid_fen,
            merchant_id=template.merchant_id,
            occurred_at=at,
            source=f"coupon:{coupon.pk}",
        )
    return issued(coupon)


def coupon_claim(
    *, member_id: int, template_id: int, idempotency_key: str, at: dt.datetime | None = None
) -> IssuedCoupon:
    with transaction.atomic(durable=True):
        return coupon_claim_in_tx(member_id=member_id, template_id=template_id, idempotency_key=idempotency_key, at=at)


# ------------------------------------------------------------------------------------------------- grants


def coupon_grant(
    *, mall_group_id: int, template_id: int, member_id: int, idempotency_key: str, actor: Actor, note: str = ""
) -> IssuedCoupon:
    """Staff give one coupon to one member (customer service). Inventory applies; per-member claim limits do
    not. Idempotent on the key (same key → the first coupon)."""
    with transaction.atomic(durable=True):
        member = _member(member_id, mall_group_id)
        template = lock_one(CouponTemplate.objects.filter(pk=template_id, mall_group_id=mall_group_id))
        source_key = f"grant:{idempotency_key}:{member.pk}"[:120]
        previous = Coupon.objects.filter(template=template, source_key=source_key).first()
        if previous is not None:
            return issued(previous, created=False)
        if template.status not in (TemplateStatus.ACTIVE, TemplateStatus.PAUSED):
            raise exceptions.TemplateStatusError(extra={"status": template.status})
        if stock_take(template, 1) < 1:
            raise exceptions.CouponSoldOutError()
        at = timeutil.now()
        coupon = issue(
            template=template,
            member_id=member.pk,
            source=CouponSource.GRANT,
            source_key=source_key,
            at=at,
            tz_name=selectors.template_tz(template),
        )
        audit_record(
            actor=actor,
            action="coupon.grant",
            target_type="coupon",
            target_id=coupon.pk,
            target_label=template.name,
            mall_group_id=mall_group_id,
            changes={"member": [None, str(member.pk)], "note": [None, note[:100]]},
        )
        return issued(coupon)


def segment_member_ids(*, mall_group_id: int, segment: Mapping[str, Any]) -> list[int]:
    """Members of a segment, ascending: {"min_tier_rank", "joined_from", "joined_until" (ISO dates, mall-local
    bounds are the caller's business), "join_mall_id"}. Active members only."""
    qs = members_active(mall_group_id=mall_group_id)
    rank = int(segment.get("min_tier_rank") or 0)
    if rank:
        qs = qs.filter(pk__in=MemberTier.objects.filter(level__rank__gte=rank).values("member_id"))
    if segment.get("joined_from"):
        qs = qs.filter(created_at__date__gte=dt.date.fromisoformat(str(segment["joined_from"])))
    if segment.get("joined_until"):
        qs = qs.filter(created_at__date__lte=dt.date.fromisoformat(str(segment["joined_until"])))
    if segment.get("join_mall_id"):
        qs = qs.filter(join_mall_id=int(segment["join_mall_id"]))
    return list(qs.order_by("pk").values_list("pk", flat=True)[: MAX_GRANT_MEMBERS + 1])


def coupon_grant_batch_create(
    *,
    mall_group_id: int,
    template_id: int,
    idempotency_key: str,
    actor: Actor,
    member_ids: Sequence[int] | None = None,
    segment: Mapping[str, Any] | None = None,
    note: str = "",
) -> GrantBatch:
    """Staff grant to a list of members or a segment: the members are resolved now (a snapshot), the coupons
    are issued by a background task in checkpointed chunks (GrantBatch shows progress). Same key and same
    request → the same batch; same key, other request → CouponIdempotencyConflictError."""
    if (member_ids is None) == (segment is None):
        raise ValidationError(
            _("Choose the members: a list or a segment."),
            code="coupon.grant_target",
            fields={"member_ids": "member_ids or segment"},
        )
    with transaction.atomic(durable=True):
        template = _template(template_id, mall_group_id)
        if segment is not None:
            ids = segment_member_ids(mall_group_id=mall_group_id, segment=segment)
        else:
            wanted = sorted({int(i) for i in member_ids or ()})
            ids = list(
                members_active(mall_group_id=mall_group_id)
                .filter(pk__in=wanted)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        if len(ids) > MAX_GRANT_MEMBERS:
            raise ValidationError(
                _("Too many members for one grant."), code="coupon.grant_too_large", extra={"max": MAX_GRANT_MEMBERS}
            )
        previous = GrantBatch.objects.filter(mall_group_id=mall_group_id, idempotency_key=idempotency_key).first()
        if previous is not None:
            same_target = previous.member_ids == ids if segment is None else previous.segment == _segment(segment)
            if previous.template_id != template.pk or not same_target:
                raise exceptions.CouponIdempotencyConflictError(extra={"batch_id": previous.pk})
            return previous
        if template.status not in (TemplateStatus.ACTIVE, TemplateStatus.PAUSED):
            raise exceptions.TemplateStatusError(extra={"status": template.status})
        batch = GrantBatch.objects.create(
            mall_group_id=mall_group_id,
            template=template,
            idempotency_key=idempotency_key[:100],
            member_ids=ids,
            segment=_segment(segment or {}),
            total=len(ids),
            note=note[:200],
            actor_label=actor.label[:100],
        )
        audit_record(
            actor=actor,
            action="coupon.grant_batch",
            target_type="grantbatch",
            target_id=batch.pk,
            target_label=template.name,
            mall_group_id=mall_group_id,
            changes={"members": [None, str(len(ids))]},
        )
        enqueue(GRANT_TASK, batch_id=batch.pk)
        return batch


def _segment(segment: Mapping[str, Any]) -> dict[str, Any]:
    """A segment as stored (JSON values: dates as ISO text), so a retry compares equal to the first request."""
    return {str(k): v.isoformat() if isinstance(v, dt.date) else v for k, v in segment.items() if v not in (None, "")}


def coupon_grant_batch_run(*, batch_id: int, chunk: int = GRANT_CHUNK) -> GrantBatch:
    """Issue a batch's coupons, one transaction per chunk of members (ascending id, checkpoint
    `last_member_id`). Safe to run twice or concurrently (the batch row is locked per chunk); stops as
    `sold_out` when the inventory runs out. Composes into a caller's transaction (task handler)."""
    while True:
        with transaction.atomic():
            batch = lock_one(GrantBatch.objects.filter(pk=batch_id))
            if batch.status in (GrantStatus.DONE, GrantStatus.SOLD_OUT):
                return batch
            ids = [int(i) for i in batch.member_ids if int(i) > batch.last_member_id][:chunk]
            if not ids:
                batch.status = GrantStatus.DONE
                batch.finished_at = timezone.now()
                batch.save(update_fields=["status", "finished_at"])
                return batch
            template = CouponTemplate.objects.get(pk=batch.template_id)
            keys = {m: f"grant-batch:{batch.pk}:{m}" for m in ids}
            have = set(
                Coupon.objects.filter(template=template, source_key__in=list(keys.values())).values_list(
                    "member_id", flat=True
                )
            )
            todo = [m for m in ids if m not in have]
            taken = stock_take(template, len(todo)) if template.status != TemplateStatus.ENDED else 0
            at = timeutil.now()
            tz_name = selectors.template_tz(template)
            for m in todo[:taken]:
                issue(
                    template=template,
                    member_id=m,
                    source=CouponSource.GRANT,
                    source_key=keys[m],
                    at=at,
                    tz_name=tz_name,
                )
            batch.issued += taken
            batch.processed += len(ids)
            batch.skipped += len(ids) - taken
            batch.last_member_id = ids[-1]
            batch.status = GrantStatus.RUNNING
            if taken < len(todo):  # sold out: the rest of the members get nothing
                batch.skipped += batch.total - batch.processed
                batch.processed = batch.total
                batch.status = GrantStatus.SOLD_OUT
                batch.finished_at = timezone.now()
            batch.save(update_fields=["issued", "processed", "skipped", "last_member_id", "status", "finished_at"])


# ------------------------------------------------------------------------------------------------- triggers


def _issue_triggered(
    *,
    template: CouponTemplate,
    member: Member,
    source: str,
    source_key: str,
    at: dt.datetime,
    check_limits: bool = False,
    token: str | None = None,
) -> Coupon | None:
    """One triggered coupon unless already issued for this source, out of stock or outside the claim window.
    With `check_limits` (a spend reward, inside the sale) the holding row is locked and the source and the
    per-member counts are read in one statement each (coupons/sql.py)."""
    tz_name = selectors.template_tz(template, token=token)
    if check_limits:
        holding_lock(template_id=template.pk, member_id=member.pk)
        day = timeutil.local_day_bounds(timeutil.local_date(at, tz_name), tz_name)
        done, total, today = coupons_sql.issue_facts(
            template_id=template.pk, member_id=member.pk, source_key=source_key, day=day
        )
        if done:
            return None
        counts = (total, today)
    else:
        if Coupon.objects.filter(template=template, source_key=source_key).exists():
            return None
        counts = (0, 0)
    # a tier rank is never below 0: without a minimum the member's tier is not read
    rank = selectors.member_tier(member_id=member.pk)[0] if check_limits and template.min_tier_rank > 0 else 0
    if selectors.claim_problem(
        template=template,
        member=member,
        at=at,
        tz_name=tz_name,
        tier_rank=rank,
        counts=counts,
        check_limits=check_limits,
    ):
        return None
    if stock_take(template, 1) < 1:
        return None
    return issue(template=template, member_id=member.pk, source=source, source_key=source_key, at=at, tz_name=tz_name)


def _triggered_templates(mall_group_id: int, trigger: str, token: str | None = None) -> list[CouponTemplate]:
    """Active templates issued on `trigger`. With the group's config token they come from the per-process cache
    (templates are configuration: a database trigger changes the token on every edit; stock lives in shards)."""
    return list(
        configcache.cached(
            f"coupons.triggered.{trigger}",
            mall_group_id,
            token,
            lambda: tuple(
                CouponTemplate.objects.filter(
                    mall_group_id=mall_group_id, status=TemplateStatus.ACTIVE, trigger=trigger
                ).order_by("pk")
            ),
        )
    )


def coupon_issue_on_join(*, member_id: int) -> list[IssuedCoupon]:
    """Handler of `member.joined`: the welcome coupons (once per member and template)."""
    member = members_active().filter(pk=member_id).first()
    if member is None:
        return []
    templates = _triggered_templates(member.mall_group_id, Trigger.JOIN)
    out = []
    with transaction.atomic():
        for t in templates:
            c = _issue_triggered(
                template=t, member=member, source=CouponSource.JOIN, source_key=f"join:{member.pk}", at=timeutil.now()
            )
            if c is not None:
                out.append(issued(c))
    return out


def coupon_issue_on_tier_change(*, member_id: int, tier_change_id: int, reason: str = "") -> list[IssuedCoupon]:
    """Handler of `member.tier_changed`: on an upgrade, the coupons of templates whose trigger rank the member
    has just reached (from below); once per member and template, however often they go up and down."""
    change = TierChange.objects.select_related("from_level", "to_level").filter(pk=tier_change_id).first()
    if change is None or change.reason != "upgrade":
        return []
    member = members_active().filter(pk=member_id).first()
    if member is None:
        return []
    old_rank = change.from_level.rank if change.from_level is not None else -1
    new_rank = change.to_level.rank
    out = []
    with transaction.atomic():
        for t in _triggered_templates(member.mall_group_id, Trigger.TIER_UPGRADE):
            if not old_rank < t.trigger_tier_rank <= new_rank:
                continue
            c = _issue_triggered(
                template=t, member=member, source=CouponSource.TIER, source_key=f"tier:{member.pk}", at=timeutil.now()
            )
            if c is not None:
                out.append(issued(c))
    return out


def coupon_issue_birthdays(*, mall_group_id: int, today: dt.date, chunk: int = 500) -> int:
    """Daily job: birthday coupons for members whose birthday is `today` (mall-local; 29 February counts on
    28 February in common years), once per member, template and year. Chunks of members, each one transaction
    holding the template row (two runs of the job never issue twice). Returns how many were issued."""
    count = 0
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and rules.is_birthday(birthday=dt.date(2000, 2, 29), today=today):
        days.append((2, 29))
    day_filter = Q()
    for month, day in days:
        day_filter |= Q(birthday__month=month, birthday__day=day)
    for t in _triggered_templates(mall_group_id, Trigger.BIRTHDAY):
        last_id = 0
        while True:
            with transaction.atomic(durable=True):
                template = lock_one(CouponTemplate.objects.filter(pk=t.pk))
                members = list(
                    members_active(mall_group_id=mall_group_id)
                    .filter(day_filter, pk__gt=last_id)
                    .order_by("pk")[:chunk]
                )
                if not members:
                    break
                last_id = members[-1].pk
                at = timeutil.now()
                for m in members:
                    if _issue_triggered(
                        template=template,
                        member=m,
                        source=CouponSource.BIRTHDAY,
                        source_key=f"birthday:{m.pk}:{today.year}",
                        at=at,
                    ):
                        count += 1
    return count


def coupons_issue_for_sale_in_tx(
    *,
    mall_group_id: int,
    member_id: int,
    merchant: Merchant,
    sale_id: int,
    eligible_paid_fen: int,
    occurred_at: dt.datetime,
    token: str | None = None,
) -> list[IssuedCoupon]:
    """消费返券: inside the sale's transaction, the spend-reward coupons this purchase earns — templates with
    trigger "spend" whose merchant scope includes the merchant and whose `trigger_spend_fen` ≤ the eligible
    paid amount (exact fen). Once per sale and template (source sale:<id>); per-member limits and stock apply
    (out of stock: nothing, silently). One query when no template matches."""
    templates = [
        t
        for t in _triggered_templates(mall_group_id, Trigger.SPEND, token)
        if t.trigger_spend_fen <= eligible_paid_fen
        and rules.merchant_in_scope(
            selectors.template_spec(t), merchant_id=merchant.pk, merchant_category=merchant.category
        )
    ]
    if not templates:
        return []
    member = _member(member_id, mall_group_id)
    out = []
    for t in templates:
        c = _issue_triggered(
            template=t,
            member=member,
            source=CouponSource.SPEND,
            source_key=f"sale:{sale_id}",
            at=occurred_at,
            check_limits=True,
            token=token,
        )
        if c is not None:
            out.append(issued(c))
    return out


# ------------------------------------------------------------------------------------------------- expiry, void


def coupon_expire(*, now: dt.datetime | None = None, batch: int = 1000) -> int:
    """Periodic job: available coupons past valid_until become expired, in batches (one transaction each).
    Idempotent and resumable; never touches a coupon a till holds (the UPDATE re-checks the status under the
    row lock), nor one a pending online checkout holds (`hold_until` not yet passed: the checkout's payment may
    still redeem it at its placement time; the checkout's expiry releases it, and a later run expires it). Returns
    how many expired."""
    now = now or timeutil.now()
    total = 0
    due = Q(status=CouponStatus.AVAILABLE, valid_until__lte=now) & (Q(hold_until__isnull=True) | Q(hold_until__lte=now))
    while True:
        with transaction.atomic(durable=True):
            ids = list(Coupon.objects.filter(due).order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                return total
            total += Coupon.objects.filter(due, pk__in=ids).update(status=CouponStatus.EXPIRED, expired_at=now)


def coupon_void(*, coupon_id: int, mall_group_id: int, actor: Actor, reason: str = "") -> Coupon:
    """Staff cancel an unused coupon (audited). Its stock is not returned."""
    with transaction.atomic(durable=True):
        rows = lock_rows(Coupon.objects.filter(pk=coupon_id, mall_group_id=mall_group_id))
        if not rows:
            raise exceptions.CouponNotFoundError()
        coupon = rows[0]
        if coupon.status == CouponStatus.VOID:
            return coupon
        if coupon.status != CouponStatus.AVAILABLE:
            raise error_for(f"coupon.{coupon.status}")
        coupon.status = CouponStatus.VOID
        coupon.voided_at = timeutil.now()
        coupon.save(update_fields=["status", "voided_at"])
        audit_record(
            actor=actor,
            action="coupon.void",
            target_type="coupon",
            target_id=coupon.pk,
            target_label=coupon.code,
            mall_group_id=mall_group_id,
            changes={"status": ["available", "void"], "reason": [None, reason[:100]]},
        )
        return coupon


def coupon_issue_in_tx(
    *,
    mall_group_id: int,
    template_id: int,
    member_id: int,
    source_key: str,
    at: dt.datetime,
    source: str = CouponSource.EXCHANGE,
) -> IssuedCoupon:
    """Inside another use case's transaction (a points-mall exchange, a journey step): issue one coupon of
    `template_id` to the member, source `exchange` (or `journey`). The template's stock applies
    (CouponSoldOutError); its claim limits do not (the caller has its own); a draft or ended template is
    TemplateStatusError. Idempotent on `source_key` (unique per template): the same key returns the first coupon.
    Lock order: a stock shard, after whatever the caller holds."""
    template = _template(template_id, mall_group_id)
    previous = Coupon.objects.filter(template=template, source_key=source_key[:120]).first()
    if previous is not None:
        return issued(previous, created=False)
    if template.status not in (TemplateStatus.ACTIVE, TemplateStatus.PAUSED):
        raise exceptions.TemplateStatusError(extra={"status": template.status})
    if stock_take(template, 1) < 1:
        raise exceptions.CouponSoldOutError(extra={"template_id": template.pk})
    coupon = issue(
        template=template,
        member_id=member_id,
        source=source,
        source_key=source_key,
        at=at,
        tz_name=selectors.template_tz(template),
    )
    return issued(coupon)


def coupon_void_in_tx(*, coupon_id: int, mall_group_id: int, at: dt.datetime) -> bool:
    """Inside another use case's transaction (cancelling a points-mall exchange): void the coupon if it is still
    unused (True; already void is True too). False when it was used or has expired — the caller decides. Its stock
    is not returned (as `coupon_void`)."""
    rows = lock_rows(Coupon.objects.filter(pk=coupon_id, mall_group_id=mall_group_id))
    if not rows:
        return True
    coupon = rows[0]
    if coupon.status == CouponStatus.VOID:
        return True
    if coupon.status != CouponStatus.AVAILABLE:
        return False
    Coupon.objects.filter(pk=coupon.pk).update(status=CouponStatus.VOID, voided_at=at)
    return True


def coupons_void_for_member_in_tx(*, member_id: int, at: dt.datetime) -> tuple[int, int]:
    """Inside an erasure's transaction: every unused coupon of the member is voided (nobody can present it any
    more, and it must stop counting as an open liability). Returns (coupons voided, money paid for them in fen)."""
    rows = lock_rows(Coupon.objects.filter(member_id=member_id, status=CouponStatus.AVAILABLE))
    if not rows:
        return 0, 0
    Coupon.objects.filter(pk__in=[c.pk for c in rows]).update(status=CouponStatus.VOID, voided_at=at)
    return len(rows), sum(c.paid_fen for c in rows)


def coupons_revoke_for_sale_in_tx(*, sale_id: int, kept_paid_fen: int, at: dt.datetime) -> list[int]:
    """Inside a sale refund's transaction: the purchase rewards (消费返券) of this sale that what the shopper
    keeps no longer earns (`kept_paid_fen` below the template's `trigger_spend_fen`) are voided if unused. A
    reward already used stays used (its redemption is on record). Returns the voided coupon ids."""
    rows = lock_rows(
        Coupon.objects.filter(source=CouponSource.SPEND, source_key=f"sale:{sale_id}", status=CouponStatus.AVAILABLE)
    )
    if not rows:
        return []
    spend = dict(
        CouponTemplate.objects.filter(pk__in={c.template_id for c in rows}).values_list("pk", "trigger_spend_fen")
    )
    voided = [c for c in rows if kept_paid_fen < spend.get(c.template_id, 0)]
    if voided:
        Coupon.objects.filter(pk__in=[c.pk for c in voided]).update(status=CouponStatus.VOID, voided_at=at)
    return [c.pk for c in voided]
