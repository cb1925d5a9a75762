"""Using coupons: at the till inside the sale's transaction (and rolling back on refund), or on their own
(exchange, parking, shipping coupons validated by merchant staff).

The till locks only the chosen coupon rows (core.locking, primary-key order) — never the template, whose
counters are not touched by a redemption — then re-validates them, applies them with the promotions in force in
the fixed order (rules.ORDER_OF_APPLICATION) and records one CouponRedemption per applied coupon or promotion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ValidationError
from galleria.core.locking import lock_rows
from galleria.merchants.models import Merchant

from .. import exceptions, rules, selectors
from ..exceptions import error_for
from ..models import (
    Coupon,
    CouponRedemption,
    CouponStatus,
    CouponTemplate,
    Promotion,
    RedemptionRefund,
    RedemptionStatus,
)
from ..types import (
    Applied,
    AppliedDiscount,
    BasketLine,
    Evaluation,
    LineDiscount,
    OfferSpec,
    RedemptionState,
    RefundLineQty,
    RefundOutcome,
    SaleDiscounts,
    SaleRefundDiscounts,
)


def _check_basket(lines: Sequence[BasketLine]) -> None:
    numbers = [ln.line_no for ln in lines]
    if len(numbers) != len(set(numbers)) or any(ln.quantity <= 0 or ln.amount_fen < 0 for ln in lines):
        raise ValidationError(
            _("The basket is not valid for coupons: line numbers must be unique and quantities positive."),
            code="coupon.basket_invalid",
        )


def _line_tuple(lines: Sequence[Mapping[str, Any]]) -> tuple[LineDiscount, ...]:
    return tuple(LineDiscount(line_no=int(ln["line_no"]), discount_fen=int(ln["discount_fen"])) for ln in lines)


def _applied(r: CouponRedemption, name: str) -> AppliedDiscount:
    return AppliedDiscount(
        redemption_id=r.pk,
        coupon_id=r.coupon_id,
        promotion_id=r.promotion_id,
        kind=r.kind,
        name=name,
        discount_fen=r.discount_fen,
        mall_fen=r.mall_fen,
        merchant_fen=r.merchant_fen,
        lines=_line_tuple(r.lines),
        explanation=dict(r.explanation),
    )


def _chosen_specs(
    *,
    ids: Sequence[int],
    merchant: Merchant,
    member_id: int | None,
    occurred_at: dt.datetime,
    channel: str,
    token: str | None,
    hold_key: str = "",
) -> tuple[list[OfferSpec], dict[str, Coupon]]:
    """Lock the chosen coupons in primary-key order and re-validate them; their offers and key → coupon."""
    specs: list[OfferSpec] = []
    coupons: dict[str, Coupon] = {}
    if not ids:
        return specs, coupons
    locked = lock_rows(Coupon.objects.filter(pk__in=ids, mall_group_id=merchant.mall.group_id))
    if len(locked) != len(ids):
        raise exceptions.CouponNotFoundError(extra={"coupon_ids": sorted(set(ids) - {c.pk for c in locked})})
    templates = selectors.templates_by_id(
        mall_group_id=merchant.mall.group_id, ids=[c.template_id for c in locked], token=token
    )
    for c in locked:
        t = templates[c.template_id]
        reason = selectors.coupon_problem(
            coupon=c,
            template=t,
            merchant=merchant,
            at=occurred_at,
            tz_name=merchant.mall.timezone,
            channel=channel,
            member_id=member_id,
            hold_key=hold_key,
        )
        if not reason and t.kind in rules.STANDALONE_KINDS:
            reason = rules.STANDALONE
        if reason:
            raise error_for(reason, coupon_id=c.pk)
        spec = selectors.template_spec(t, c)
        specs.append(spec)
        coupons[spec.key] = c
    return specs, coupons


def _promotions(
    *,
    merchant: Merchant,
    member_id: int | None,
    at: dt.datetime,
    channel: str,
    token: str | None,
    tier: tuple[int, int] | None,
) -> list[OfferSpec]:
    """The promotions in force for this member here and now, one offer per key."""
    found = selectors.promotions_for(
        merchant=merchant,
        member_id=member_id,
        at=at,
        channel=channel,
        tz_name=merchant.mall.timezone,
        token=token,
        tier=tier,
    )
    return list({p.key: p for p in found}.values())


def _redemption_row(
    a: Applied,
    coupon: Coupon | None,
    *,
    merchant: Merchant,
    member_id: int | None,
    sale_id: int | None,
    occurred_at: dt.datetime,
) -> CouponRedemption:
    return CouponRedemption(
        mall_group_id=merchant.mall.group_id,
        coupon=coupon,
        promotion_id=int(a.key.split(":")[1]) if a.key.startswith("promotion:") else None,
        template_id=coupon.template_id if coupon else None,
        member_id=member_id,
        merchant=merchant,
        sale_id=sale_id,
        kind=a.kind,
        redeemed_at=occurred_at,
        discount_fen=a.discount_fen,
        mall_fen=a.mall_fen,
        merchant_fen=a.merchant_fen,
        lines=[
            {
                "line_no": ln.line_no,
                "quantity": ln.quantity,
                "basis_fen": ln.basis_fen,
                "discount_fen": ln.discount_fen,
                "refunded_qty": 0,
                "rolled_back_fen": 0,
            }
            for ln in a.lines
        ],
        explanation=a.explanation,
    )


def _record(
    best: Evaluation,
    coupons: Mapping[str, Coupon],
    *,
    merchant: Merchant,
    member_id: int | None,
    sale_id: int | None,
    occurred_at: dt.datetime,
) -> tuple[AppliedDiscount, ...]:
    """One redemption per applied coupon or promotion (one INSERT); the coupons used are marked so, any online
    checkout's hold on them cleared (one UPDATE)."""
    rows = [
        _redemption_row(
            a, coupons.get(a.key), merchant=merchant, member_id=member_id, sale_id=sale_id, occurred_at=occurred_at
        )
        for a in best.applied
    ]
    created = CouponRedemption.objects.bulk_create(rows)
    if coupons:
        Coupon.objects.filter(pk__in=[c.pk for c in coupons.values()]).update(
            status=CouponStatus.USED, used_at=occurred_at, hold_key="", hold_until=None
        )
    names = [str(a.explanation.get("name", "")) for a in best.applied]
    return tuple(_applied(r, n) for r, n in zip(created, names, strict=True))


def coupons_redeem_for_sale_in_tx(
    *,
    sale_id: int | None,
    merchant: Merchant,
    member_id: int | None,
    lines: Sequence[BasketLine],
    coupon_ids: Sequence[int] = (),
    occurred_at: dt.datetime,
    channel: str = "offline",
    apply_promotions: bool = True,
    max_coupons: int = rules.MAX_COUPONS_PER_SALE,
    token: str | None = None,
    tier: tuple[int, int] | None = None,
    hold_key: str = "",
) -> SaleDiscounts:
    """Inside the sale's transaction (after it locked the member's accounts and tier row): lock the chosen
    coupons in primary-key order, re-validate them (holder, status, validity, day/hour in the mall's time zone,
    channel, merchant scope, stacking), apply them together with the best compatible promotions, mark them used
    and record the redemptions. Raises the coupon's error (`coupon.expired`, `coupon.used`,
    `coupon.threshold_not_met`, `coupon.not_combinable`, …) — the sale then rolls back as a whole.

    `hold_key`: the online checkout paying now may redeem the coupons it holds (others' are `coupon.held`).
    `merchant` must come with its mall (select_related); `token` (the group's config token) and `tier` (the
    member's tier rank and discount) let a sale without coupons and promotions cost no query. Returns per line
    the discount (Σ = total) and per applied item its funding split; nothing is written when nothing applies.

    The sale needs the discount before it can write its own row: pass `sale_id=None` then, and link the
    redemptions with `coupons_attach_sale_in_tx` once the sale row exists (same transaction).
    """
    _check_basket(lines)
    ids = sorted(set(coupon_ids))
    if ids and member_id is None:
        raise exceptions.CouponWrongMemberError()
    specs, coupons = _chosen_specs(
        ids=ids,
        merchant=merchant,
        member_id=member_id,
        occurred_at=occurred_at,
        channel=channel,
        token=token,
        hold_key=hold_key,
    )
    promos: list[OfferSpec] = []
    if apply_promotions:
        promos = _promotions(
            merchant=merchant, member_id=member_id, at=occurred_at, channel=channel, token=token, tier=tier
        )
    if not specs and not promos:
        return SaleDiscounts(0, tuple(LineDiscount(ln.line_no, 0) for ln in lines), (), rules.ORDER_OF_APPLICATION)
    best = rules.best_combination(lines, [*specs, *promos], required_keys=list(coupons), max_coupons=max_coupons)
    for key, reason in best.unmet:
        if key in coupons:
            raise error_for(reason, coupon_id=coupons[key].pk)
    applied = _record(best, coupons, merchant=merchant, member_id=member_id, sale_id=sale_id, occurred_at=occurred_at)
    return SaleDiscounts(
        total_discount_fen=best.total_discount_fen,
        line_discounts=best.line_discounts,
        applied=applied,
        order=best.order,
    )


def coupons_attach_sale_in_tx(*, redemption_ids: Sequence[int], sale_id: int) -> int:
    """Give redemptions recorded with `sale_id=None` their sale (one UPDATE, same transaction as the redeem)."""
    if not redemption_ids:
        return 0
    return CouponRedemption.objects.filter(pk__in=list(redemption_ids), sale_id__isnull=True).update(sale_id=sale_id)


def _state(r: CouponRedemption, spec: OfferSpec) -> RedemptionState:
    return RedemptionState(
        key=f"redemption:{r.pk}",
        spec=spec,
        discount_fen=r.discount_fen,
        rolled_back_fen=r.refunded_fen,
        lines=tuple({k: int(v) for k, v in ln.items()} for ln in r.lines),
    )


def _recorded_lines(done: Sequence[RedemptionRefund], field: str) -> tuple[LineDiscount, ...]:
    return rules.sum_by_line(
        LineDiscount(int(ln["line_no"]), int(ln[field])) for d in done for ln in d.lines if field in ln
    )


def _replayed(done: Sequence[RedemptionRefund]) -> SaleRefundDiscounts:
    """The result a refund key already recorded (the same key again returns it)."""
    rb = sum(d.rolled_back_fen for d in done)
    cb = sum(d.clawback_fen for d in done)
    return SaleRefundDiscounts(
        rolled_back_fen=rb,
        clawback_fen=cb,
        deduct_fen=rb + cb,
        line_rollbacks=_recorded_lines(done, "discount_fen"),
        restored_coupon_ids=tuple(
            d.redemption.coupon_id for d in done if d.coupon_restored and d.redemption.coupon_id is not None
        ),
        mall_fen=sum(d.mall_fen for d in done),
        merchant_fen=sum(d.merchant_fen for d in done),
        line_clawbacks=tuple(ld for ld in _recorded_lines(done, "clawback_fen") if ld.discount_fen),
    )


def _offers(
    redemptions: Sequence[CouponRedemption],
) -> tuple[dict[int, CouponTemplate], dict[int, Promotion]]:
    """The templates of the coupons redeemed and the promotions applied (two queries at most)."""
    templates = {
        t.pk: t for t in CouponTemplate.objects.filter(pk__in={r.template_id for r in redemptions if r.template_id})
    }
    promotions = {
        p.pk: p for p in Promotion.objects.filter(pk__in={r.promotion_id for r in redemptions if r.promotion_id})
    }
    return templates, promotions


def _spec(
    r: CouponRedemption, templates: Mapping[int, CouponTemplate], promotions: Mapping[int, Promotion]
) -> OfferSpec:
    """A redemption's offer; only the kind and the condition matter for a rollback (a tier discount's rate is
    irrelevant, never None)."""
    if r.coupon_id is not None:
        return selectors.template_spec(templates[r.template_id or 0])
    spec = selectors.promotion_spec(promotions[r.promotion_id or 0], tier_discount_bp=1)
    assert spec is not None
    return spec


def _restore_coupon(r: CouponRedemption, template: CouponTemplate | None, *, at: dt.datetime) -> bool:
    """A coupon whose every discounted line came back returns to its member, if its template says so and it is
    still valid; a cross-shop coupon only once every sub-order's part is reversed."""
    if r.coupon_id is None or template is None or not template.restore_on_refund:
        return False
    if r.cart_key and (
        CouponRedemption.objects.filter(coupon_id=r.coupon_id, cart_key=r.cart_key, status=RedemptionStatus.ACTIVE)
        .exclude(pk=r.pk)
        .exists()
    ):
        return False
    coupon = lock_rows(Coupon.objects.filter(pk=r.coupon_id))[0]
    if coupon.status != CouponStatus.USED or coupon.valid_until <= at:
        return False
    coupon.status = CouponStatus.AVAILABLE
    coupon.used_at = None
    coupon.save(update_fields=["status", "used_at"])
    return True


def _roll_back(
    r: CouponRedemption,
    spec: OfferSpec,
    template: CouponTemplate | None,
    *,
    wanted: Mapping[int, int],
    parts: Mapping[int, tuple[int, int]],
    refund_key: str,
    at: dt.datetime,
) -> tuple[RefundOutcome, RedemptionRefund]:
    """Roll one redemption back (pure rule), save it, and the record of this refund for it (not yet saved)."""
    outcome = rules.refund_rollback(state=_state(r, spec), refund_qty=wanted, parts=parts)
    delta = outcome.rolled_back_fen + outcome.clawback_fen
    mall_part, merchant_part = rules.refund_funding(
        delta_fen=delta,
        refunded_fen=r.refunded_fen,
        refunded_merchant_fen=r.refunded_merchant_fen,
        discount_fen=r.discount_fen,
        merchant_fen=r.merchant_fen,
    )
    r.lines = [dict(ln) for ln in outcome.lines]
    r.refunded_fen += delta
    r.refunded_merchant_fen += merchant_part
    r.refunded_mall_fen += mall_part
    restored = False
    if outcome.fully_returned:
        r.status = RedemptionStatus.REVERSED
        restored = _restore_coupon(r, template, at=at)
    r.save(update_fields=["lines", "refunded_fen", "refunded_merchant_fen", "refunded_mall_fen", "status"])
    record = RedemptionRefund(
        redemption=r,
        refund_key=refund_key[:100],
        rolled_back_fen=outcome.rolled_back_fen,
        clawback_fen=outcome.clawback_fen,
        mall_fen=mall_part,
        merchant_fen=merchant_part,
        lines=[{"line_no": ld.line_no, "discount_fen": ld.discount_fen} for ld in outcome.line_rollbacks]
        + [{"line_no": ld.line_no, "clawback_fen": ld.discount_fen} for ld in outcome.line_clawbacks],
        coupon_restored=restored,
    )
    return outcome, record


def _refund_total(outcomes: Sequence[RefundOutcome], records: Sequence[RedemptionRefund]) -> SaleRefundDiscounts:
    rb = sum(o.rolled_back_fen for o in outcomes)
    cb = sum(o.clawback_fen for o in outcomes)
    return SaleRefundDiscounts(
        rolled_back_fen=rb,
        clawback_fen=cb,
        deduct_fen=rb + cb,
        line_rollbacks=rules.sum_by_line(ld for o in outcomes for ld in o.line_rollbacks),
        restored_coupon_ids=tuple(rec.redemption.coupon_id or 0 for rec in records if rec.coupon_restored),
        mall_fen=sum(rec.mall_fen for rec in records),
        merchant_fen=sum(rec.merchant_fen for rec in records),
        line_clawbacks=rules.sum_by_line(ld for o in outcomes for ld in o.line_clawbacks),
    )


def coupons_refund_for_sale_in_tx(
    *,
    sale_id: int,
    refund_key: str,
    lines: Sequence[RefundLineQty] | None,
    occurred_at: dt.datetime,
) -> SaleRefundDiscounts:
    """Inside the sale refund's transaction: roll back the sale's coupons and promotions for the refunded
    quantities (`lines=None`: everything still kept). See rules.refund_rollback for the arithmetic.

    Returns what to deduct from the money refunded (`rolled_back_fen` if the sale refunds gross line amounts,
    plus `clawback_fen` always) and the coupons given back: a coupon returns to its member, as available, when
    every line it discounted is refunded in full, the template says so (`restore_on_refund`) and the coupon is
    still within its validity. Idempotent per `refund_key` (the same key again returns the recorded result).
    """
    redemptions = lock_rows(CouponRedemption.objects.filter(sale_id=sale_id, discount_fen__gt=0))
    if not redemptions:
        return SaleRefundDiscounts(0, 0, 0, (), (), 0, 0)
    done = list(RedemptionRefund.objects.filter(redemption__in=redemptions, refund_key=refund_key))
    if done:
        return _replayed(done)
    templates, promotions = _offers(redemptions)
    # quantities: the sale's own line quantities are in every redemption that touched the line
    known = {int(ln["line_no"]): (int(ln["quantity"]), int(ln["refunded_qty"])) for r in redemptions for ln in r.lines}
    wanted = rules.refund_quantities(known=known, lines=lines)
    parts = {item.line_no: (item.part_fen, item.of_fen) for item in lines or () if item.part_fen > 0}
    outcomes: list[RefundOutcome] = []
    records: list[RedemptionRefund] = []
    for r in redemptions:
        nos = [int(ln["line_no"]) for ln in r.lines]
        if r.status != RedemptionStatus.ACTIVE or not any(wanted.get(no) or no in parts for no in nos):
            continue
        template = templates.get(r.template_id) if r.template_id else None
        spec = _spec(r, templates, promotions)
        if r.cart_key:  # a cross-shop part rolls back in proportion only: no threshold re-check across shops
            spec = replace(spec, on_threshold_loss="keep")
        outcome, record = _roll_back(
            r, spec, template, wanted=wanted, parts=parts, refund_key=refund_key, at=occurred_at
        )
        outcomes.append(outcome)
        records.append(record)
    RedemptionRefund.objects.bulk_create(records)
    return _refund_total(outcomes, records)


def _standalone_record(
    coupon: Coupon,
    template: CouponTemplate,
    *,
    merchant: Merchant | None,
    actor: Actor,
    idempotency_key: str,
    at: dt.datetime,
) -> CouponRedemption:
    """Record a standalone redemption at the template's value (split by funder), mark the coupon used, audit."""
    mall_group_id = coupon.mall_group_id
    merchant_id = merchant.pk if merchant is not None else None
    mall_fen, merchant_fen = rules.funding_split(
        discount_fen=template.value_fen, funder=template.funder, merchant_share_bp=template.merchant_share_bp
    )
    redemption = CouponRedemption.objects.create(
        mall_group_id=mall_group_id,
        coupon=coupon,
        template=template,
        member_id=coupon.member_id,
        merchant=merchant,
        kind=template.kind,
        redeemed_at=at,
        discount_fen=template.value_fen,
        mall_fen=mall_fen,
        merchant_fen=merchant_fen,
        explanation={
            "name": template.name,
            "kind": template.kind,
            "exchange_item": template.exchange_item,
            "parking_hours": template.parking_hours,
        },
        actor_label=actor.label[:100],
        idempotency_key=idempotency_key[:100],
    )
    coupon.status = CouponStatus.USED
    coupon.used_at = at
    coupon.save(update_fields=["status", "used_at"])
    audit_record(
        actor=actor,
        action="coupon.redeem",
        target_type="coupon",
        target_id=coupon.pk,
        target_label=coupon.code,
        mall_group_id=mall_group_id,
        changes={"status": ["available", "used"], "merchant": [None, str(merchant_id)]},
    )
    return redemption


def coupon_redeem_standalone_in_tx(
    *,
    code: str,
    mall_group_id: int,
    merchant_id: int | None,
    actor: Actor,
    idempotency_key: str,
    at: dt.datetime | None = None,
    channel: str = "offline",
) -> AppliedDiscount:
    """Merchant staff (or the parking system, merchant None = the mall) redeem an exchange, parking or
    shipping coupon by its code, inside the caller's transaction (the POS API's idempotent one). The redemption
    records the template's value (`value_fen`, the agreed cost of the item, 0 when not set) split by funder. Same
    key again returns the first redemption."""
    at = at or timeutil.now()
    merchant = None
    if merchant_id is not None:
        merchant = Merchant.objects.select_related("mall").filter(pk=merchant_id, mall__group_id=mall_group_id).first()
        if merchant is None:
            raise exceptions.CouponNotApplicableError()
    with transaction.atomic():  # a savepoint inside the caller's transaction
        rows = lock_rows(Coupon.objects.filter(code=rules.normalize_code(code), mall_group_id=mall_group_id))
        if not rows:
            raise exceptions.CouponNotFoundError()
        coupon = rows[0]
        template = CouponTemplate.objects.get(pk=coupon.template_id)
        previous = CouponRedemption.objects.filter(
            coupon=coupon, idempotency_key=idempotency_key, sale_id__isnull=True
        ).first()
        if previous is not None:
            return _applied(previous, template.name)
        if template.kind not in rules.STANDALONE_KINDS:
            raise exceptions.CouponBasketOnlyError()
        tz_name = merchant.mall.timezone if merchant is not None else selectors.template_tz(template)
        reason = selectors.coupon_problem(
            coupon=coupon, template=template, merchant=merchant, at=at, tz_name=tz_name, channel=channel
        )
        if reason:
            raise error_for(reason, coupon_id=coupon.pk)
        redemption = _standalone_record(
            coupon, template, merchant=merchant, actor=actor, idempotency_key=idempotency_key, at=at
        )
        return _applied(redemption, template.name)


def coupon_redeem_standalone(
    *,
    code: str,
    mall_group_id: int,
    merchant_id: int | None,
    actor: Actor,
    idempotency_key: str,
    at: dt.datetime | None = None,
    channel: str = "offline",
) -> AppliedDiscount:
    """`coupon_redeem_standalone_in_tx` as a use case of its own (merchant portal, parking)."""
    with transaction.atomic(durable=True):
        return coupon_redeem_standalone_in_tx(
            code=code,
            mall_group_id=mall_group_id,
            merchant_id=merchant_id,
            actor=actor,
            idempotency_key=idempotency_key,
            at=at,
            channel=channel,
        )
