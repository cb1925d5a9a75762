"""Reads of campaigns: lists, one campaign, the group's marketing settings, a member's marketing messages, and the
report — reach, coupon use and cost, and what the treated group bought against the hold-out over the measured
days, with the confidence of the difference (docs/marketing.md, "How ROI is computed")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from galleria.core import timeutil
from galleria.coupons import selectors as coupon_selectors
from galleria.messaging.selectors import inbox_messages_read
from galleria.sales import selectors as sales_selectors

from . import rules
from . import sql as campaigns_sql
from .exceptions import CampaignNotFoundError
from .models import Campaign, CampaignMember, MarketingSend, MarketingSettings
from .types import Arm, Channel, Delivery


def settings_for(*, mall_group_id: int) -> MarketingSettings:
    found = MarketingSettings.objects.filter(mall_group_id=mall_group_id).first()
    return found or MarketingSettings(mall_group_id=mall_group_id)


def campaign_list(*, mall_group_id: int) -> QuerySet[Campaign]:
    return (
        Campaign.objects.filter(mall_group_id=mall_group_id).select_related("segment").order_by("-scheduled_at", "-pk")
    )


def campaign_get(*, mall_group_id: int, campaign_id: int) -> Campaign:
    found = Campaign.objects.filter(mall_group_id=mall_group_id, pk=campaign_id).select_related("segment").first()
    if found is None:
        raise CampaignNotFoundError()
    return found


def member_marketing(*, member_id: int, limit: int = 20) -> QuerySet[MarketingSend]:
    """The member's latest marketing messages (the member page)."""
    return MarketingSend.objects.filter(member_id=member_id).select_related("campaign").order_by("-sent_at")[:limit]


@dataclass(frozen=True)
class Report:
    window: tuple[dt.datetime, dt.datetime]
    complete: bool  # the measured days are over
    treated: rules.ArmStats
    holdout: rules.ArmStats
    conversion: rules.Comparison
    spend: rules.Comparison
    incremental_fen: int
    coupon: dict[str, int]
    sms_cost_fen: int
    cost_fen: int
    roi_bp: int | None
    skips: dict[str, int]
    engagement: list[dict[str, Any]]  # per channel: sent, opened, clicked (None where the channel cannot tell)


def _arm(campaign: Campaign, arm: str, since: dt.datetime, until: dt.datetime, size: int) -> rules.ArmStats:
    rows = sales_selectors.segment_spend_of_members(
        members=campaigns_sql.arm_members(campaign_id=campaign.pk, arm=arm), since=since, until=until
    )
    return rules.arm_stats([fen for _m, _n, fen in rows], size)


def report(*, campaign: Campaign, now: dt.datetime | None = None) -> Report | None:
    """The campaign's report (None before it started). Purchases count from the start to the end of the measured
    days (or now, while they run): every channel but the mall's own services, net of refunds."""
    if campaign.started_at is None:
        return None
    now = now or timeutil.now()
    end = campaign.started_at + dt.timedelta(days=campaign.measure_days)
    until = min(end, now)
    treated = _arm(campaign, Arm.TREATED, campaign.started_at, until, campaign.treated)
    holdout = _arm(campaign, Arm.HOLDOUT, campaign.started_at, until, campaign.held_out)
    coupon = (
        coupon_selectors.grant_batch_outcome(batch_id=campaign.grant_batch_id)
        if campaign.grant_batch_id
        else {"issued": 0, "used": 0, "discount_fen": 0, "mall_fen": 0}
    )
    settings = settings_for(mall_group_id=campaign.mall_group_id)
    sms_cost = campaign.sms_sent * settings.sms_cost_fen
    cost = sms_cost + coupon["mall_fen"]
    incremental = rules.incremental_fen(treated, holdout)
    skips: dict[str, int] = dict(
        CampaignMember.objects.filter(campaign_id=campaign.pk)
        .exclude(sms_skip="")
        .values("sms_skip")
        .annotate(n=Count("pk"))
        .values_list("sms_skip", "n")
    )
    skips["not_sent"] = CampaignMember.objects.filter(campaign_id=campaign.pk, delivery=Delivery.SKIPPED).count()
    return Report(
        window=(campaign.started_at, until),
        complete=now >= end,
        treated=treated,
        holdout=holdout,
        conversion=rules.compare_conversion(treated, holdout),
        spend=rules.compare_spend(treated, holdout),
        incremental_fen=incremental,
        coupon=coupon,
        sms_cost_fen=sms_cost,
        cost_fen=cost,
        roi_bp=rules.roi_bp(incremental, cost),
        skips=skips,
        engagement=engagement(campaign_id=campaign.pk),
    )


def engagement(*, campaign_id: int) -> list[dict[str, Any]]:
    """Per channel, what reached members and what they did with it: app inbox messages opened (the inbox knows),
    e-mails opened (the pixel, or a click when images are blocked) and clicked (the tracked link), browser
    notifications clicked (they open the tracked link); SMS and WeChat report delivery only."""
    out = []
    for channel, sent, opened, clicked in (
        MarketingSend.objects.filter(campaign_id=campaign_id)
        .values("channel")
        .annotate(sent=Count("pk"), opened=Count("opened_at"), clicked=Count("clicked_at"))
        .order_by("channel")
        .values_list("channel", "sent", "opened", "clicked")
    ):
        row: dict[str, Any] = {"channel": channel, "label": str(Channel(channel).label), "sent": sent}
        if channel == Channel.INBOX:
            refs = MarketingSend.objects.filter(campaign_id=campaign_id, channel=channel).values_list(
                "reference", flat=True
            )
            row |= {"opened": inbox_messages_read(message_ids=[int(r) for r in refs if r.isdigit()]), "clicked": None}
        elif channel == Channel.EMAIL:
            row |= {"opened": opened, "clicked": clicked}
        elif channel == Channel.PUSH:  # the notification's click opens the tracked link
            row |= {"opened": None, "clicked": clicked}
        else:
            row |= {"opened": None, "clicked": None}
        out.append(row)
    return out


def progress(*, campaign: Campaign) -> dict[str, Any]:
    return {"pending": CampaignMember.objects.filter(campaign_id=campaign.pk, delivery=Delivery.PENDING).count()}
