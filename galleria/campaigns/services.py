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
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.conf import settings as django_settings
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
from galleria.members import services as member_services
from galleria.messaging import selectors as messaging_selectors
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
EMAIL_TEMPLATE = "marketing_email"
EDITABLE = (
    "name",
    "segment_id",
    "holdout_bp",
    "send_inbox",
    "send_sms",
    "send_email",
    "send_wechat",
    "send_push",
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
    if not (c.send_inbox or c.send_sms or c.send_email or c.send_wechat or c.send_push):
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
        delivered = marketing_deliver_in_tx(
            mall_group_id=c.mall_group_id,
            member_ids=[r.member_id for r in rows],
            message=Message(title=c.title, body=c.body, sms_text=c.sms_text),
            send_inbox=c.send_inbox,
            send_sms=c.send_sms,
            send_email=c.send_email,
            send_wechat=c.send_wechat,
            send_push=c.send_push,
            weekly_cap=settings.weekly_cap,
            now=now,
            sent_by=f"campaign {c.pk}",
            campaign_id=c.pk,
        )
        counts = {"inbox": 0, "sms": 0, "email": 0, "wechat": 0, "push": 0, "skipped": 0}
        for row in rows:
            d = delivered[row.member_id]
            row.done_at = now
            row.inbox_message_id, row.sms_message_id, row.sms_skip = d.inbox_message_id, d.sms_message_id, d.skip
            row.delivery = Delivery.SENT if d.sent else Delivery.SKIPPED
            counts["inbox"] += d.inbox_message_id is not None
            counts["sms"] += d.sms_message_id is not None
            counts["email"] += d.email_message_id is not None
            counts["wechat"] += d.wechat_message_id is not None
            counts["push"] += bool(d.push_message_ids)
            counts["skipped"] += not d.sent
        CampaignMember.objects.bulk_update(
            rows, ["delivery", "sms_skip", "sms_message_id", "inbox_message_id", "done_at"]
        )
        locked = lock_one(Campaign.objects.filter(pk=campaign_id))
        locked.inbox_sent += counts["inbox"]
        locked.sms_sent += counts["sms"]
        locked.email_sent += counts["email"]
        locked.wechat_sent += counts["wechat"]
        locked.push_sent += counts["push"]
        locked.skipped += counts["skipped"]
        locked.save(update_fields=["inbox_sent", "sms_sent", "email_sent", "wechat_sent", "push_sent", "skipped"])
    return True


@dataclass
class Message:
    title: str
    body: str
    sms_text: str = ""


@dataclass
class Delivered:
    """What one member got: the inbox message, SMS and e-mail written (their ids), or why not — `skip`: inactive,
    capped (nothing was sent) or the SMS's reason (no_consent, no_phone); `skips`: the reason per channel."""

    inbox_message_id: int | None = None
    sms_message_id: int | None = None
    email_message_id: int | None = None
    wechat_message_id: int | None = None
    push_message_ids: list[int] = field(default_factory=list)  # one per browser the member subscribed
    skip: str = ""
    skips: dict[str, str] = field(default_factory=dict)

    @property
    def sent(self) -> bool:
        ids = (self.inbox_message_id, self.sms_message_id, self.email_message_id, self.wechat_message_id)
        return any(i is not None for i in ids) or bool(self.push_message_ids)


# Where an e-mail's open pixel, link and unsubscribe link point (the member app serves them, interfaces/app)
TRACK_PATH = "/m/"


def tracking_urls(token: str) -> dict[str, str]:
    base = f"{django_settings.GALLERIA_PUBLIC_URL.rstrip('/')}{TRACK_PATH}{token}"
    return {"open": f"{base}/o.gif", "click": f"{base}/c", "unsubscribe": f"{base}/unsubscribe"}


def _email(message: Message, token: str) -> tuple[str, str]:
    """The marketing e-mail's plain text and HTML: the message, a tracked link to the app, the unsubscribe link and
    (HTML) the open pixel."""
    urls = tracking_urls(token)
    more, stop = _("Open it in the member app"), _("Stop these e-mails")
    text = f"{message.title}\n\n{message.body}\n\n{more}: {urls['click']}\n{stop}: {urls['unsubscribe']}\n"
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in message.body.split("\n") if p.strip())
    html = (
        f"<h2>{escape(message.title)}</h2>{paragraphs}"
        f'<p><a href="{escape(urls["click"])}">{escape(more)}</a></p>'
        f'<p style="color:#888;font-size:12px"><a href="{escape(urls["unsubscribe"])}">{escape(stop)}</a></p>'
        f'<img src="{escape(urls["open"])}" width="1" height="1" alt="">'
    )
    return text, html


def marketing_deliver_in_tx(
    *,
    mall_group_id: int,
    member_ids: Sequence[int],
    message: Message,
    send_inbox: bool,
    send_sms: bool,
    weekly_cap: int,
    now: dt.datetime,
    sent_by: str,
    send_email: bool = False,
    send_wechat: bool = False,
    send_push: bool = False,
    campaign_id: int | None = None,
    origin: str = "",
) -> dict[int, Delivered]:
    """Inside the caller's transaction: one marketing message to each member — app inbox, SMS, e-mail, WeChat
    subscribe message, browser notification, as asked — with the rules every marketing send obeys: the member is
    active; nobody gets more than `weekly_cap` marketing messages over all channels in 7 days; SMS, e-mail and
    WeChat need the member's current marketing consent for that channel and a phone / an address / an accepted
    subscribe template (the mini-program's one-time quota); a browser notification needs the member to have turned
    notifications on. Every message written is recorded (`MarketingSend`: the caps, the member page, the privacy
    export; opens and clicks by its token). Quiet hours are the caller's (it decides when to call). Campaigns and
    journeys send through here."""
    member_ids = list(member_ids)
    active = set(member_selectors.member_ids_in_group(mall_group_id=mall_group_id, member_ids=member_ids))
    recent = dict(
        MarketingSend.objects.filter(member_id__in=member_ids, sent_at__gte=now - dt.timedelta(days=7))
        .values("member_id")
        .annotate(n=Count("id"))
        .values_list("member_id", "n")
    )
    allowed_sms = member_selectors.marketing_allowed_ids(member_ids=member_ids, channel="sms") if send_sms else set()
    phones = member_selectors.member_phones(member_ids=list(allowed_sms)) if allowed_sms else {}
    allowed_email = (
        member_selectors.marketing_allowed_ids(member_ids=member_ids, channel="email") if send_email else set()
    )
    emails = member_selectors.member_emails(member_ids=list(allowed_email)) if allowed_email else {}
    allowed_wechat = (
        member_selectors.marketing_allowed_ids(member_ids=member_ids, channel="wechat") if send_wechat else set()
    )
    reach = (
        messaging_selectors.channels_reachable(member_ids=member_ids, wechat_template=SMS_TEMPLATE)
        if send_wechat or send_push
        else None
    )
    reachable = [m for m in member_ids if m in active and recent.get(m, 0) < weekly_cap]
    inbox = (
        messaging.inbox_send_members_in_tx(
            mall_group_id=mall_group_id,
            member_ids=reachable,
            title=message.title,
            body=message.body,
            sent_by=sent_by,
        )
        if send_inbox
        else {}
    )
    out: dict[int, Delivered] = {}
    sends: list[MarketingSend] = []

    def record(member_id: int, channel: str, reference: int, token: str | None = None) -> None:
        sends.append(
            MarketingSend(
                mall_group_id=mall_group_id,
                member_id=member_id,
                channel=channel,
                campaign_id=campaign_id,
                origin=origin[:40],
                sent_at=now,
                reference=str(reference),
                token=token,
            )
        )

    for m in member_ids:
        d = out[m] = Delivered()
        if m not in reachable:
            d.skip = "capped" if m in active else "inactive"
            continue
        if m in inbox:
            d.inbox_message_id = inbox[m]
            record(m, Channel.INBOX, inbox[m])
        if send_sms:
            if m not in allowed_sms:
                d.skip = d.skips[Channel.SMS] = "no_consent"
            elif m not in phones:
                d.skip = d.skips[Channel.SMS] = "no_phone"
            else:
                sms = messaging.sms_queue(
                    phone=phones[m],
                    template=SMS_TEMPLATE,
                    body=f"{message.title}：{message.sms_text}",
                    params={"title": message.title, "detail": message.sms_text},
                )
                d.sms_message_id = sms.pk
                record(m, Channel.SMS, sms.pk)
        if send_email:
            if m not in allowed_email:
                d.skips[Channel.EMAIL] = "no_consent"
            elif m not in emails:
                d.skips[Channel.EMAIL] = "no_email"
            else:
                token = secrets.token_urlsafe(16)
                text, html = _email(message, token)
                mail = messaging.email_queue(
                    to=emails[m], subject=message.title, body=text, html_body=html, template=EMAIL_TEMPLATE
                )
                d.email_message_id = mail.pk
                record(m, Channel.EMAIL, mail.pk, token)
        if send_wechat and reach is not None:
            if m not in allowed_wechat:
                d.skips[Channel.WECHAT] = "no_consent"
            elif m not in reach.wechat_subscribe:
                d.skips[Channel.WECHAT] = "no_subscription"
            else:
                token = secrets.token_urlsafe(16)
                wechat = messaging.wechat_queue(
                    channel="subscribe",
                    template=SMS_TEMPLATE,
                    params={"title": message.title, "detail": message.sms_text or message.body},
                    member_id=m,
                    page=f"pages/inbox/index?m={token}",
                )
                d.wechat_message_id = wechat.pk
                record(m, Channel.WECHAT, wechat.pk, token)
        if send_push and reach is not None:
            if m not in reach.push:
                d.skips[Channel.PUSH] = "no_subscription"
            else:
                token = secrets.token_urlsafe(16)
                pushed = messaging.push_queue(
                    member_id=m,
                    title=message.title,
                    body=message.body[:200],
                    url=f"{TRACK_PATH}{token}/c",
                    template="marketing",
                )
                d.push_message_ids = [p.pk for p in pushed]
                record(m, Channel.PUSH, pushed[0].pk, token)
    MarketingSend.objects.bulk_create(sends)
    return out


def marketing_opened(*, token: str, at: dt.datetime | None = None) -> bool:
    """An e-mail's open pixel was fetched: recorded once (True when the token is known)."""
    at = at or timeutil.now()
    known = MarketingSend.objects.filter(token=token).exists() if 8 <= len(token) <= 24 else False
    if known:
        MarketingSend.objects.filter(token=token, opened_at__isnull=True).update(opened_at=at)
    return known


def marketing_clicked(*, token: str, at: dt.datetime | None = None) -> bool:
    """A tracked link was followed: a click, and an open if none was seen (images are often blocked). Once each."""
    if not marketing_opened(token=token, at=at):
        return False
    MarketingSend.objects.filter(token=token, clicked_at__isnull=True).update(clicked_at=at or timeutil.now())
    return True


def marketing_unsubscribe(*, token: str) -> bool:
    """The e-mail's "stop these e-mails" link, confirmed: the member's marketing consent for e-mail is withdrawn
    (recorded as the member's own choice). False when the token is unknown."""
    send = MarketingSend.objects.filter(token=token).first() if 8 <= len(token) <= 24 else None
    if send is None:
        return False
    member_services.consent_record(
        member_id=send.member_id,
        purpose="marketing_email",
        is_granted=False,
        channel="app",
        actor=Actor.system("member"),
        reason="unsubscribe link",
    )
    return True


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
