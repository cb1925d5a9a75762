"""Campaign use cases: draft, schedule, run, cancel; the group's marketing settings.

Running is idempotent and restartable (`campaign_run`, a task, also swept every minute by `galleria campaigns_run`):
the first run fixes the members — the segment's members at that moment, each drawn into the treated group or the
hold-out by `rules.in_holdout` — and every later step works on `CampaignMember` rows still `pending`, a chunk per
transaction: the chunk's rows are locked, its inbox messages, SMS and send records written, its rows marked in the same
transaction. A crash loses at most the chunk in flight, which the next run redoes; nothing is sent twice.

Every message checks, at send time: the member is active; SMS needs the member's current marketing consent for SMS
(`members.selectors.marketing_allowed_ids`) and a phone; nobody gets more than the group's weekly cap of marketing
messages over all channels; nothing is sent in the group's quiet hours (mall-local) — the run waits for their end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from galleria.audience import selectors as audience_selectors
from galleria.audience.exceptions import SegmentNotFoundError
from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.locking import lock_one, lock_rows
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons import services as coupon_services
from galleria.members import selectors as member_selectors
from galleria.messaging import services as messaging

from . import rules
from . import selectors as campaign_selectors
from .exceptions import CampaignInvalidError, CampaignStateError
from .models import Campaign, CampaignMember, MarketingSend, MarketingSettings
from .types import Arm, CampaignStatus, Channel, Delivery

RUN_TASK = "galleria.campaigns.tasks.campaign_run_task"
CHUNK = 500
MAX_MEMBERS = 500_000
SMS_TEMPLATE = "marketing_notice"
EDITABLE = (
    "name",
    "segment_id",
    "holdout_bp",
    "send_inbox",
    "send_sms",
    "title",
    "body",
    "sms_text",
    "coupon_template_id",
    "scheduled_at",
    "measure_days",
)


def _problems(mall_group_id: int, c: Campaign) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not c.name.strip() or len(c.name) > 60:
        errors["name"] = _("Give the campaign a name of up to 60 characters.")
    try:
        audience_selectors.segment_get(mall_group_id=mall_group_id, segment_id=c.segment_id)
    except SegmentNotFoundError:
        errors["segment"] = _("Choose a segment of this mall group.")
    if not 0 <= c.holdout_bp <= rules.MAX_HOLDOUT_BP:
        errors["holdout"] = _("Hold out between 0 and 50 percent of the members.")
    if not (c.send_inbox or c.send_sms):
        errors["send_inbox"] = _("Choose at least one channel.")
    errors.update(messaging.inbox_text_problems(title=c.title, body=c.body))
    if c.send_sms and not (1 <= len(c.sms_text.strip()) <= 60):
        errors["sms_text"] = _("Write the SMS text (at most 60 characters): it fills the approved template.")
    if (
        c.coupon_template_id is not None
        and not coupon_selectors.template_list(mall_group_id=mall_group_id)
        .filter(pk=c.coupon_template_id, status__in=["active", "paused"])
        .exists()
    ):
        errors["coupon"] = _("Choose an active coupon of this mall group.")
    if not 1 <= c.measure_days <= 90:
        errors["measure_days"] = _("Measure over 1 to 90 days.")
    return errors


def campaign_save(
    *, mall_group_id: int, actor: Actor, values: Mapping[str, Any], campaign_id: int | None = None
) -> Campaign:
    """Create or edit a draft campaign (validated; nothing is sent)."""
    with transaction.atomic(durable=True):
        if campaign_id is None:
            c = Campaign(mall_group_id=mall_group_id, created_by=actor.label[:100], scheduled_at=timeutil.now())
        else:
            c = lock_one(Campaign.objects.filter(pk=campaign_id, mall_group_id=mall_group_id))
            if c.status != CampaignStatus.DRAFT:
                raise CampaignStateError(extra={"status": c.status})
        for key in EDITABLE:
            if key in values and values[key] is not None:
                setattr(c, key, values[key])
            elif key == "coupon_template_id" and key in values:
                c.coupon_template_id = None
        c.name, c.title, c.body, c.sms_text = (
            c.name.strip(),
            " ".join(c.title.split()),
            c.body.strip(),
            c.sms_text.strip(),
        )
        errors = _problems(mall_group_id, c)
        if errors:
            raise CampaignInvalidError(next(iter(errors.values())), fields=errors)
        c.save()
        audit_record(
            actor=actor,
            action="campaign.save",
            target_type="campaign",
            target_id=c.pk,
            target_label=c.name,
            mall_group_id=mall_group_id,
        )
        return c


def campaign_schedule(
    *, mall_group_id: int, campaign_id: int, actor: Actor, now: dt.datetime | None = None
) -> Campaign:
    """Draft → scheduled: the run starts at `scheduled_at` (now, if it has passed)."""
    now = now or timeutil.now()
    with transaction.atomic(durable=True):
        c = lock_one(Campaign.objects.filter(pk=campaign_id, mall_group_id=mall_group_id))
        if c.status != CampaignStatus.DRAFT:
            raise CampaignStateError(extra={"status": c.status})
        errors = _problems(mall_group_id, c)
        if errors:
            raise CampaignInvalidError(next(iter(errors.values())), fields=errors)
        c.status = CampaignStatus.SCHEDULED
        c.scheduled_at = max(c.scheduled_at, now)
        c.save(update_fields=["status", "scheduled_at"])
        audit_record(
            actor=actor,
            action="campaign.schedule",
            target_type="campaign",
            target_id=c.pk,
            target_label=c.name,
            mall_group_id=mall_group_id,
            changes={"send_at": [None, c.scheduled_at.isoformat()]},
        )
        _enqueue(c.pk, c.scheduled_at)
    return c


def campaign_cancel(*, mall_group_id: int, campaign_id: int, actor: Actor) -> Campaign:
    """Stop a scheduled or sending campaign: members not reached yet get nothing."""
    with transaction.atomic(durable=True):
        c = lock_one(Campaign.objects.filter(pk=campaign_id, mall_group_id=mall_group_id))
        if c.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
            raise CampaignStateError(extra={"status": c.status})
        c.status, c.finished_at = CampaignStatus.CANCELLED, timeutil.now()
        c.save(update_fields=["status", "finished_at"])
        audit_record(
            actor=actor,
            action="campaign.cancel",
            target_type="campaign",
            target_id=c.pk,
            target_label=c.name,
            mall_group_id=mall_group_id,
        )
    return c


def _enqueue(campaign_id: int, at: dt.datetime) -> None:
    task = import_string(RUN_TASK)
    if at > timeutil.now() and task.get_backend().supports_defer:
        transaction.on_commit(lambda: task.using(run_after=at).enqueue(campaign_id=campaign_id))
    else:
        transaction.on_commit(lambda: task.enqueue(campaign_id=campaign_id))


def settings_save(*, mall_group_id: int, actor: Actor, values: Mapping[str, Any]) -> MarketingSettings:
    s = campaign_selectors.settings_for(mall_group_id=mall_group_id)
    for key in ("quiet_start", "quiet_end", "weekly_cap", "sms_cost_fen"):
        if key in values and values[key] is not None:
            setattr(s, key, values[key])
    if not 0 <= s.weekly_cap <= 50 or not 0 <= s.sms_cost_fen <= 1000:
        raise CampaignInvalidError(_("The weekly cap is 0–50 messages and an SMS costs at most ¥10."))
    s.save()
    audit_record(
        actor=actor,
        action="campaign.settings",
        target_type="marketingsettings",
        target_id=mall_group_id,
        mall_group_id=mall_group_id,
    )
    return s


# ------------------------------------------------------------------------------------------------------------- run


def campaign_run(*, campaign_id: int, now: dt.datetime | None = None) -> Campaign:
    """Advance a campaign as far as it can go now: start it when due, send pending chunks, finish it. Returns it."""
    now = now or timeutil.now()
    c = Campaign.objects.get(pk=campaign_id)
    if c.status == CampaignStatus.SCHEDULED and c.scheduled_at <= now:
        _start(c.pk, now)
    _grant_coupon(campaign_id)
    settings = campaign_selectors.settings_for(mall_group_id=c.mall_group_id)
    tz_name = audience_selectors.group_tz(mall_group_id=c.mall_group_id)
    local = timeutil.local(now, tz_name)
    while True:
        c = Campaign.objects.get(pk=campaign_id)
        if c.status != CampaignStatus.SENDING:
            return c
        if rules.in_quiet_hours(local.time(), settings.quiet_start, settings.quiet_end):
            at = rules.quiet_hours_end(local, settings.quiet_start, settings.quiet_end)
            task = import_string(RUN_TASK)
            if task.get_backend().supports_defer:  # else the minute sweep (`campaigns_run`) resumes it
                task.using(run_after=at).enqueue(campaign_id=c.pk)
            return c
        if not _send_chunk(c.pk, settings, now):
            with transaction.atomic(durable=True):
                c = lock_one(Campaign.objects.filter(pk=campaign_id))
                if c.status == CampaignStatus.SENDING:
                    c.status, c.finished_at = CampaignStatus.SENT, now
                    c.save(update_fields=["status", "finished_at"])
            return c


def _start(campaign_id: int, now: dt.datetime) -> None:
    """Fix the members and their arms (once), grant the coupon to the treated group, and start sending."""
    with transaction.atomic(durable=True):
        c = lock_one(Campaign.objects.filter(pk=campaign_id))
        if c.status != CampaignStatus.SCHEDULED:
            return
        segment = audience_selectors.segment_get(mall_group_id=c.mall_group_id, segment_id=c.segment_id)
        ids = audience_selectors.segment_all_member_ids(
            mall_group_id=c.mall_group_id, definition=segment.definition, cap=MAX_MEMBERS
        )[:MAX_MEMBERS]
        rows = []
        for member_id in ids:
            held = rules.in_holdout(c.pk, member_id, c.holdout_bp)
            rows.append(
                CampaignMember(
                    campaign=c,
                    member_id=member_id,
                    arm=Arm.HOLDOUT if held else Arm.TREATED,
                    delivery=Delivery.HELD_OUT if held else Delivery.PENDING,
                )
            )
        CampaignMember.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
        c.definition = segment.definition
        c.members = len(rows)
        c.held_out = sum(1 for r in rows if r.arm == Arm.HOLDOUT)
        c.treated = c.members - c.held_out
        c.status, c.started_at = CampaignStatus.SENDING, now
        c.save()
        audit_record(
            actor=Actor.system("campaigns"),
            action="campaign.start",
            target_type="campaign",
            target_id=c.pk,
            target_label=c.name,
            mall_group_id=c.mall_group_id,
            changes={"members": [None, c.members], "held_out": [None, c.held_out]},
        )


def _grant_coupon(campaign_id: int) -> None:
    """The campaign's coupon to every treated member: one batch grant (its own checkpointed background run),
    created once — the key is the campaign's, so a repeat after a crash returns the same batch."""
    c = Campaign.objects.get(pk=campaign_id)
    if c.status != CampaignStatus.SENDING or not c.coupon_template_id or c.grant_batch_id:
        return
    treated = list(
        CampaignMember.objects.filter(campaign_id=c.pk, arm=Arm.TREATED)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    if not treated:
        return
    batch = coupon_services.coupon_grant_batch_create(
        mall_group_id=c.mall_group_id,
        template_id=c.coupon_template_id,
        idempotency_key=f"campaign:{c.pk}",
        actor=Actor.system(f"campaign {c.pk}"),
        member_ids=treated,
        note=c.name[:200],
    )
    Campaign.objects.filter(pk=c.pk, grant_batch_id__isnull=True).update(grant_batch_id=batch.pk)


def _send_chunk(campaign_id: int, settings: MarketingSettings, now: dt.datetime) -> bool:
    """Send the next chunk of pending treated members; False when none was left."""
    with transaction.atomic(durable=True):
        c = Campaign.objects.get(pk=campaign_id)
        pending = list(
            CampaignMember.objects.filter(campaign_id=campaign_id, delivery=Delivery.PENDING)
            .order_by("member_id")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not pending:
            return False
        rows = lock_rows(CampaignMember.objects.filter(pk__in=pending, delivery=Delivery.PENDING))
        if not rows:
            return True
        member_ids = [r.member_id for r in rows]
        active = set(member_selectors.member_ids_in_group(mall_group_id=c.mall_group_id, member_ids=member_ids))
        week = now - dt.timedelta(days=7)
        recent = dict(
            MarketingSend.objects.filter(member_id__in=member_ids, sent_at__gte=week)
            .values("member_id")
            .annotate(n=Count("id"))
            .values_list("member_id", "n")
        )
        allowed_sms = (
            member_selectors.marketing_allowed_ids(member_ids=member_ids, channel="sms") if c.send_sms else set()
        )
        phones = member_selectors.member_phones(member_ids=list(allowed_sms)) if allowed_sms else {}
        reachable = [m for m in member_ids if m in active and recent.get(m, 0) < settings.weekly_cap]
        inbox = (
            messaging.inbox_send_members_in_tx(
                mall_group_id=c.mall_group_id,
                member_ids=reachable,
                title=c.title,
                body=c.body,
                sent_by=f"campaign {c.pk}",
            )
            if c.send_inbox
            else {}
        )
        sends: list[MarketingSend] = []
        counts = {"inbox": 0, "sms": 0, "skipped": 0}
        for row in rows:
            m = row.member_id
            row.done_at = now
            if m not in reachable:
                row.delivery, row.sms_skip = Delivery.SKIPPED, "capped" if m in active else "inactive"
                counts["skipped"] += 1
                continue
            row.delivery = Delivery.SENT
            if m in inbox:
                row.inbox_message_id = inbox[m]
                sends.append(_send(c, m, Channel.INBOX, now, inbox[m]))
                counts["inbox"] += 1
            if c.send_sms:
                if m not in allowed_sms:
                    row.sms_skip = "no_consent"
                elif m not in phones:
                    row.sms_skip = "no_phone"
                else:
                    sms = messaging.sms_queue(
                        phone=phones[m],
                        template=SMS_TEMPLATE,
                        body=f"{c.title}：{c.sms_text}",
                        params={"title": c.title, "detail": c.sms_text},
                    )
                    row.sms_message_id = sms.pk
                    sends.append(_send(c, m, Channel.SMS, now, sms.pk))
                    counts["sms"] += 1
            if not row.inbox_message_id and not row.sms_message_id:
                row.delivery = Delivery.SKIPPED
                counts["skipped"] += 1
        CampaignMember.objects.bulk_update(
            rows, ["delivery", "sms_skip", "sms_message_id", "inbox_message_id", "done_at"]
        )
        MarketingSend.objects.bulk_create(sends)
        locked = lock_one(Campaign.objects.filter(pk=campaign_id))
        locked.inbox_sent += counts["inbox"]
        locked.sms_sent += counts["sms"]
        locked.skipped += counts["skipped"]
        locked.save(update_fields=["inbox_sent", "sms_sent", "skipped"])
    return True


def _send(c: Campaign, member_id: int, channel: str, now: dt.datetime, reference: int) -> MarketingSend:
    return MarketingSend(
        mall_group_id=c.mall_group_id,
        member_id=member_id,
        channel=channel,
        campaign_id=c.pk,
        sent_at=now,
        reference=str(reference),
    )


def campaigns_run_due(*, now: dt.datetime | None = None) -> int:
    """The minute sweep: every scheduled campaign that is due and every sending one is advanced (a task that was
    lost, a worker that died mid-run). How many were advanced."""
    now = now or timeutil.now()
    ids = list(
        Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now).values_list("pk", flat=True)
    ) + list(Campaign.objects.filter(status=CampaignStatus.SENDING).values_list("pk", flat=True))
    for campaign_id in ids:
        campaign_run(campaign_id=campaign_id, now=now)
    return len(ids)
