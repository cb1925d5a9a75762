"""Writes of the points configuration: policy, earn rules, campaigns, behaviour rules. Each is one durable
transaction that locks the row it changes, validates it like the database will and records an audit event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audited_save
from galleria.audit.types import Actor
from galleria.core.errors import ValidationError
from galleria.core.locking import lock_one, lock_rows

from ..models import BehaviourRule, EarnRule, PointsCampaign, PointsPolicy

POLICY_FIELDS = (
    "earn_points",
    "earn_unit_fen",
    "min_spend_fen",
    "per_sale_cap",
    "daily_cap",
    "excluded_categories",
    "excluded_skus",
    "funder",
    "merchant_share_bp",
    "redeem_points_per_yuan",
    "redeem_min_points",
    "redeem_multiple",
    "redeem_max_share_bp",
    "expiry_policy",
    "expiry_days",
    "adjustment_approval_threshold",
)
RULE_FIELDS = (
    "name",
    "scope",
    "mall_id",
    "category",
    "merchant_id",
    "earn_points",
    "earn_unit_fen",
    "funder",
    "merchant_share_bp",
    "is_active",
)
CAMPAIGN_FIELDS = (
    "name",
    "multiplier_bp",
    "starts_on",
    "ends_on",
    "weekdays",
    "month_days",
    "categories",
    "merchant_ids",
    "is_active",
)
BEHAVIOUR_FIELDS = ("points", "max_per_month", "is_active")


def points_policy_save(*, mall_group_id: int, values: Mapping[str, Any], actor: Actor) -> PointsPolicy:
    """Create the group's policy on its first save (model defaults for what `values` leaves out), else update it."""
    with transaction.atomic(durable=True):
        rows = lock_rows(PointsPolicy.objects.filter(mall_group_id=mall_group_id))
        policy = rows[0] if rows else PointsPolicy(mall_group_id=mall_group_id)
        rate = int(values.get("redeem_points_per_yuan") or policy.redeem_points_per_yuan)
        multiple = int(values.get("redeem_multiple") or policy.redeem_multiple)
        if (multiple * 100) % rate:  # the console form says the same inline; this holds for every other caller
            raise ValidationError(
                _("A multiple of points used as payment must be worth whole fen."),
                code="points.policy_multiple_not_whole_fen",
                fields={"redeem_multiple": str(multiple)},
            )
        return audited_save(
            obj=policy,
            values=values,
            fields=POLICY_FIELDS,
            actor=actor,
            action="points.policy_save",
            label="points policy",
            mall_group_id=mall_group_id,
            is_new=not rows,
            exclude=["mall_group"],
        )


def earn_rule_save(*, mall_group_id: int, rule_id: int | None, values: Mapping[str, Any], actor: Actor) -> EarnRule:
    with transaction.atomic(durable=True):
        rule = (
            EarnRule(mall_group_id=mall_group_id)
            if rule_id is None
            else lock_one(EarnRule.objects.filter(pk=rule_id, mall_group_id=mall_group_id))
        )
        return audited_save(
            obj=rule,
            values=values,
            fields=RULE_FIELDS,
            actor=actor,
            action="points.rule_save",
            label=str(values.get("name") or rule.name),
            mall_group_id=mall_group_id,
            is_new=rule_id is None,
            exclude=["mall_group"],
        )


def earn_rule_set_active(*, mall_group_id: int, rule_id: int, is_active: bool, actor: Actor) -> EarnRule:
    return earn_rule_save(mall_group_id=mall_group_id, rule_id=rule_id, values={"is_active": is_active}, actor=actor)


def points_campaign_save(
    *, mall_group_id: int, campaign_id: int | None, values: Mapping[str, Any], actor: Actor
) -> PointsCampaign:
    with transaction.atomic(durable=True):
        campaign = (
            PointsCampaign(mall_group_id=mall_group_id)
            if campaign_id is None
            else lock_one(PointsCampaign.objects.filter(pk=campaign_id, mall_group_id=mall_group_id))
        )
        return audited_save(
            obj=campaign,
            values=values,
            fields=CAMPAIGN_FIELDS,
            actor=actor,
            action="points.campaign_save",
            label=str(values.get("name") or campaign.name),
            mall_group_id=mall_group_id,
            is_new=campaign_id is None,
            exclude=["mall_group"],
        )


def points_campaign_set_active(
    *, mall_group_id: int, campaign_id: int, is_active: bool, actor: Actor
) -> PointsCampaign:
    return points_campaign_save(
        mall_group_id=mall_group_id, campaign_id=campaign_id, values={"is_active": is_active}, actor=actor
    )


def behaviour_rule_save(*, mall_group_id: int, event: str, values: Mapping[str, Any], actor: Actor) -> BehaviourRule:
    """One rule per group and event: created on its first save (a concurrent first save loses on the unique
    constraint)."""
    with transaction.atomic(durable=True):
        rows = lock_rows(BehaviourRule.objects.filter(mall_group_id=mall_group_id, event=event))
        rule = rows[0] if rows else BehaviourRule(mall_group_id=mall_group_id, event=event)
        return audited_save(
            obj=rule,
            values=values,
            fields=BEHAVIOUR_FIELDS,
            actor=actor,
            action="points.behaviour_save",
            label=event,
            mall_group_id=mall_group_id,
            is_new=not rows,
            exclude=["mall_group", "event"],
        )
