"""Coupon templates and promotions: create, update, activate, pause, end (staff actions, audited)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record, audited_save
from galleria.audit.types import Actor
from galleria.core.locking import lock_one
from galleria.malls.models import Mall
from galleria.merchants.models import Merchant

from .. import exceptions, rules
from ..models import CouponTemplate, Promotion, TemplateStatus
from ._common import stock_add, stock_create

TEMPLATE_FIELDS = (
    "mall_id",
    "merchant_id",
    "name",
    "description",
    "kind",
    "value_fen",
    "percent_off_bp",
    "max_discount_fen",
    "threshold_fen",
    "min_items",
    "unit_price_fen",
    "max_units",
    "exchange_item",
    "parking_hours",
    "scope_kind",
    "scope_categories",
    "scope_merchant_ids",
    "scope_skus",
    "excluded_merchant_ids",
    "excluded_skus",
    "excluded_line_categories",
    "channel",
    "validity_kind",
    "valid_from",
    "valid_until",
    "valid_days",
    "claim_starts_at",
    "claim_ends_at",
    "days_of_week",
    "hours_from",
    "hours_until",
    "total_quantity",
    "per_member_limit",
    "per_member_daily_limit",
    "min_tier_rank",
    "new_members_only",
    "new_member_days",
    "funder",
    "merchant_share_bp",
    "stacking_group",
    "is_exclusive",
    "max_per_sale",
    "is_claimable",
    "claim_method",
    "claim_points",
    "claim_price_fen",
    "trigger",
    "trigger_tier_rank",
    "trigger_spend_fen",
    "on_threshold_loss",
    "restore_on_refund",
)
# Once a template has been activated its coupons are in members' hands: what they are worth, where and when
# they apply stays as issued. These may still change (total_quantity only upwards).
MUTABLE_AFTER_ACTIVATION = frozenset(
    {
        "name",
        "description",
        "total_quantity",
        "per_member_limit",
        "per_member_daily_limit",
        "claim_ends_at",
        "is_claimable",
        "restore_on_refund",
        "new_members_only",
        "min_tier_rank",
    }
)

PROMOTION_FIELDS = (
    "merchant_id",
    "name",
    "kind",
    "value_fen",
    "is_per_step",
    "percent_off_bp",
    "max_discount_fen",
    "threshold_fen",
    "min_items",
    "unit_price_fen",
    "max_units",
    "members_only",
    "min_tier_rank",
    "scope_kind",
    "scope_categories",
    "scope_merchant_ids",
    "scope_skus",
    "excluded_merchant_ids",
    "excluded_skus",
    "excluded_line_categories",
    "channel",
    "starts_at",
    "ends_at",
    "days_of_week",
    "days_of_month",
    "hours_from",
    "hours_until",
    "funder",
    "merchant_share_bp",
    "stacking_group",
    "is_exclusive",
    "on_threshold_loss",
)


def _raise_problems(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise exceptions.TemplateInvalidError(
            code=problems[0][1],
            fields={f: _("Check this setting.") for f, _c in problems},
            extra={"problems": [{"field": f, "code": c} for f, c in problems]},
        )


def _from_django(exc: DjangoValidationError) -> exceptions.TemplateInvalidError:
    fields = {
        k: "; ".join(str(m) for m in v) for k, v in getattr(exc, "message_dict", {"__all__": exc.messages}).items()
    }
    return exceptions.TemplateInvalidError(
        fields=fields, extra={"problems": [{"field": f, "code": "invalid"} for f in fields]}
    )


def _check_owners(mall_group_id: int, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    merchant_id = values.get("merchant_id")
    if merchant_id is not None and not Merchant.objects.filter(pk=merchant_id, mall__group_id=mall_group_id).exists():
        problems.append(("merchant_id", "coupon_template.merchant_unknown"))
    mall_id = values.get("mall_id")
    if mall_id is not None and not Mall.objects.filter(pk=mall_id, group_id=mall_group_id).exists():
        problems.append(("mall_id", "coupon_template.mall_unknown"))
    ids = [i for i in values.get("scope_merchant_ids") or [] if isinstance(i, int)]
    if len(ids) != len(values.get("scope_merchant_ids") or []) or (
        ids and Merchant.objects.filter(pk__in=ids, mall__group_id=mall_group_id).count() != len(set(ids))
    ):
        problems.append(("scope_merchant_ids", "coupon_template.merchant_unknown"))
    return problems


def _template_values(template: CouponTemplate) -> dict[str, Any]:
    return {name: getattr(template, name) for name in TEMPLATE_FIELDS}


def _save_template(
    *, template: CouponTemplate, values: Mapping[str, Any], actor: Actor, action: str, is_new: bool
) -> CouponTemplate:
    merged = {**_template_values(template), **{k: v for k, v in values.items() if k in TEMPLATE_FIELDS}}
    _raise_problems(_check_owners(template.mall_group_id, merged) + rules.template_problems(merged))
    try:
        return audited_save(
            obj=template,
            values=values,
            fields=TEMPLATE_FIELDS,
            actor=actor,
            action=action,
            label=str(merged.get("name") or ""),
            mall_group_id=template.mall_group_id,
            is_new=is_new,
        )
    except DjangoValidationError as exc:
        raise _from_django(exc) from exc


def coupon_template_create(*, mall_group_id: int, values: Mapping[str, Any], actor: Actor) -> CouponTemplate:
    """A new template in status draft. Raises TemplateInvalidError (code = the first problem's code)."""
    unknown = sorted(set(values) - set(TEMPLATE_FIELDS))
    if unknown:
        _raise_problems([(name, "coupon_template.unknown_field") for name in unknown])
    with transaction.atomic(durable=True):
        template = CouponTemplate(mall_group_id=mall_group_id, status=TemplateStatus.DRAFT)
        return _save_template(
            template=template, values=values, actor=actor, action="coupon_template.create", is_new=True
        )


def _locked_template(template_id: int, mall_group_id: int) -> CouponTemplate:
    try:
        return lock_one(CouponTemplate.objects.filter(pk=template_id, mall_group_id=mall_group_id))
    except CouponTemplate.DoesNotExist as exc:
        raise exceptions.TemplateNotFoundError() from exc


def coupon_template_update(
    *, template_id: int, mall_group_id: int, values: Mapping[str, Any], actor: Actor
) -> CouponTemplate:
    """Change a template. After activation only MUTABLE_AFTER_ACTIVATION may change, total_quantity only up
    (the increase becomes a new stock shard)."""
    unknown = sorted(set(values) - set(TEMPLATE_FIELDS))
    if unknown:
        _raise_problems([(name, "coupon_template.unknown_field") for name in unknown])
    with transaction.atomic(durable=True):
        template = _locked_template(template_id, mall_group_id)
        if template.status == TemplateStatus.ENDED:
            raise exceptions.TemplateStatusError()
        added = 0
        if template.status != TemplateStatus.DRAFT:
            changed = [k for k, v in values.items() if getattr(template, k) != v]
            locked = [k for k in changed if k not in MUTABLE_AFTER_ACTIVATION]
            if locked:
                raise exceptions.TemplateLockedFieldError(fields={k: str(_("locked")) for k in locked})
            if "total_quantity" in changed:
                new, old = values["total_quantity"], template.total_quantity
                if old is None or new is None or new < old:
                    raise exceptions.TemplateLockedFieldError(
                        code="coupon_template.stock_decrease", fields={"total_quantity": str(_("only more"))}
                    )
                added = new - old
        template = _save_template(
            template=template, values=values, actor=actor, action="coupon_template.update", is_new=False
        )
        if added:
            stock_add(template, added)
        return template


def _transition(*, template_id: int, mall_group_id: int, to: str, actor: Actor) -> CouponTemplate:
    with transaction.atomic(durable=True):
        template = _locked_template(template_id, mall_group_id)
        if template.status == to:
            return template
        if to not in rules.TEMPLATE_STATUS_FLOW[template.status]:
            raise exceptions.TemplateStatusError(extra={"from": template.status, "to": to})
        if to == TemplateStatus.ACTIVE:
            _raise_problems(rules.template_problems(_template_values(template)))
            stock_create(template)
        before = template.status
        template.status = to
        template.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action=f"coupon_template.{to}",
            target_type="coupontemplate",
            target_id=template.pk,
            target_label=template.name,
            mall_group_id=mall_group_id,
            changes={"status": [before, to]},
        )
        return template


def coupon_template_activate(*, template_id: int, mall_group_id: int, actor: Actor) -> CouponTemplate:
    """draft/paused → active; the first activation creates the stock shards."""
    return _transition(template_id=template_id, mall_group_id=mall_group_id, to=TemplateStatus.ACTIVE, actor=actor)


def coupon_template_pause(*, template_id: int, mall_group_id: int, actor: Actor) -> CouponTemplate:
    """active → paused: no claims, grants or triggered issues; coupons held stay usable."""
    return _transition(template_id=template_id, mall_group_id=mall_group_id, to=TemplateStatus.PAUSED, actor=actor)


def coupon_template_end(*, template_id: int, mall_group_id: int, actor: Actor) -> CouponTemplate:
    return _transition(template_id=template_id, mall_group_id=mall_group_id, to=TemplateStatus.ENDED, actor=actor)


# ------------------------------------------------------------------------------------------------- promotions


def _promotion_problems(v: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    kind = v.get("kind")
    if kind == Promotion.Kind.SPEND_THRESHOLD:
        if not v.get("value_fen"):
            problems.append(("value_fen", "promotion.value_required"))
        if not v.get("threshold_fen"):
            problems.append(("threshold_fen", "promotion.threshold_required"))
    if (
        kind in (Promotion.Kind.MEMBER_DAY, Promotion.Kind.N_ITEMS)
        and not 0 < int(v.get("percent_off_bp") or 0) < 10000
    ):
        problems.append(("percent_off_bp", "promotion.percent_out_of_range"))
    if kind == Promotion.Kind.N_ITEMS and int(v.get("min_items") or 0) < 2:
        problems.append(("min_items", "promotion.min_items_required"))
    if kind == Promotion.Kind.PER_ITEM and int(v.get("value_fen") or 0) <= 0:
        problems.append(("value_fen", "promotion.value_required"))
    if kind == Promotion.Kind.UNIT_PRICE and int(v.get("unit_price_fen") or 0) <= 0:
        problems.append(("unit_price_fen", "promotion.unit_price_required"))
    max_units = v.get("max_units")
    if max_units is not None and (not isinstance(max_units, int) or max_units < 1):
        problems.append(("max_units", "promotion.max_units_invalid"))
    if kind == Promotion.Kind.TIER_DISCOUNT and int(v.get("min_tier_rank") or 0) < 1 and not v.get("percent_off_bp"):
        problems.append(("min_tier_rank", "promotion.tier_required"))
    start, end = v.get("starts_at"), v.get("ends_at")
    if start is None or end is None or end <= start:
        problems.append(("ends_at", "promotion.window_invalid"))
    if v.get("funder") == "split" and not 0 < int(v.get("merchant_share_bp") or 0) < 10000:
        problems.append(("merchant_share_bp", "promotion.share_out_of_range"))
    return problems


def promotion_create(*, mall_group_id: int, values: Mapping[str, Any], actor: Actor) -> Promotion:
    """A new promotion in status draft (activate it with promotion_set_status)."""
    unknown = sorted(set(values) - set(PROMOTION_FIELDS))
    if unknown:
        _raise_problems([(name, "promotion.unknown_field") for name in unknown])
    _raise_problems(_check_owners(mall_group_id, values) + _promotion_problems(values))
    with transaction.atomic(durable=True):
        try:
            return audited_save(
                obj=Promotion(mall_group_id=mall_group_id),
                values=values,
                fields=PROMOTION_FIELDS,
                actor=actor,
                action="promotion.create",
                label=str(values.get("name") or ""),
                mall_group_id=mall_group_id,
                is_new=True,
            )
        except DjangoValidationError as exc:
            raise _from_django(exc) from exc


def promotion_set_status(*, promotion_id: int, mall_group_id: int, status: str, actor: Actor) -> Promotion:
    with transaction.atomic(durable=True):
        try:
            promo = lock_one(Promotion.objects.filter(pk=promotion_id, mall_group_id=mall_group_id))
        except Promotion.DoesNotExist as exc:
            raise exceptions.PromotionNotFoundError() from exc
        if promo.status == status:
            return promo
        if status not in rules.TEMPLATE_STATUS_FLOW[promo.status]:
            raise exceptions.TemplateStatusError(extra={"from": promo.status, "to": status})
        before = promo.status
        promo.status = status
        promo.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=f"promotion.{status}",
            target_type="promotion",
            target_id=promo.pk,
            target_label=promo.name,
            mall_group_id=mall_group_id,
            changes={"status": [before, status]},
        )
        return promo
