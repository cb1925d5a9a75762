"""Journey use cases (docs/marketing.md, "Journeys"): edit, publish, pause, resume, stop; enter members when a
trigger fires; and run their steps.

**Entering.** Event triggers (joined, tier up/down, event registered/attended, receipt rejected) arrive as domain
events (`tasks.on_*`, written in the publishing transaction); the others are found by `journeys_scan` (every
minute, `galleria journeys_run`): first purchases and car-park exits since the journey started, and the date-based
ones once per mall-local day — birthdays, points or coupons expiring within N days, no purchase for N days. Each
occurrence has a key ("birthday:2026", "coupon:<id>", …; "once" when the journey enters a member only once), and an
enrollment is unique per journey, member and key: a trigger seen twice enters once.

**Running.** `journeys_advance` takes due enrollments one at a time, each in its own transaction, locked with
SKIP LOCKED (two workers never run the same member), and runs its steps until a wait or the end. Every step writes
its `StepRun` (unique per enrollment and step) in the transaction that does the step's work — the inbox message,
the SMS outbox row, the coupon, the points, the tag — so a worker killed mid-step leaves nothing half-done: the
transaction rolls back and the next run does the step once. Messages obey the marketing rules
(`campaigns.services.marketing_deliver_in_tx`: consent, weekly cap, active members) and the quiet hours: a message
due in them waits for their end. A step that cannot be done for this member (the coupon sold out, the tag archived)
is recorded as failed and the member goes on."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from galleria.audience import selectors as audience_selectors
from galleria.audience import services as audience_services
from galleria.audience.exceptions import SegmentNotFoundError
from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.campaigns import selectors as campaign_selectors
from galleria.campaigns import services as campaign_services
from galleria.campaigns.rules import in_quiet_hours, quiet_hours_end
from galleria.commerce import selectors_marketing as commerce_marketing
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.locking import lock_one, lock_rows
from galleria.core.tasks import enqueue
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons import selectors_marketing as coupon_marketing
from galleria.coupons import services as coupon_services
from galleria.members import selectors as member_selectors
from galleria.parking import selectors as parking_selectors
from galleria.points import selectors_marketing as points_marketing
from galleria.points import services as points_services
from galleria.sales import selectors as sales_selectors
from galleria.tiers import selectors as tier_selectors

from . import rules
from .exceptions import JourneyInvalidError, JourneyStateError
from .models import Enrollment, Journey, JourneyVersion, StepRun
from .types import (
    TRIGGERS_WITH_DAYS,
    TRIGGERS_WITH_HOURS,
    EnrollmentStatus,
    JourneyStatus,
    Outcome,
    Reentry,
    StepKind,
    Test,
    Trigger,
)

log = logging.getLogger(__name__)

ADVANCE_TASK = "galleria.journeys.tasks.journeys_advance_task"
EDITABLE = ("name", "trigger", "trigger_days", "trigger_hours", "entry_segment_id", "reentry")
MAX_FAILURES = 5
STEPS_PER_RUN = 20  # a guard: one enrollment runs at most this many steps in one transaction
MAX_TRIGGER_DAYS = 365
MAX_TRIGGER_HOURS = 168


# ------------------------------------------------------------------------------------------------------ editing


def _problems(mall_group_id: int, j: Journey, definition: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The canonical definition and every problem: field name → message, and "step:<id>" for a step's."""
    errors: dict[str, str] = {}
    if not j.name.strip() or len(j.name) > 60:
        errors["name"] = _("Give the journey a name of up to 60 characters.")
    if j.trigger not in Trigger.values:
        errors["trigger"] = _("Choose what starts the journey.")
    if j.trigger in TRIGGERS_WITH_DAYS and not 1 <= j.trigger_days <= MAX_TRIGGER_DAYS:
        errors["trigger_days"] = _("Give 1 to 365 days.")
    if j.trigger in TRIGGERS_WITH_HOURS and not 1 <= j.trigger_hours <= MAX_TRIGGER_HOURS:
        errors["trigger_hours"] = _("Give 1 to 168 hours.")
    if j.reentry not in Reentry.values:
        errors["reentry"] = _("Choose how often a member may enter.")
    if j.entry_segment_id is not None:
        try:
            audience_selectors.segment_get(mall_group_id=mall_group_id, segment_id=j.entry_segment_id)
        except SegmentNotFoundError:
            errors["entry_segment"] = _("Choose a segment of this mall group.")
    canonical, step_errors = rules.canonical(definition)
    for sid, message in step_errors.items():
        errors["steps" if not sid else f"step:{sid}"] = message
    refs = rules.references(canonical)
    nodes = rules.flatten(canonical)
    usable_templates = set(
        coupon_selectors.template_list(mall_group_id=mall_group_id)
        .filter(pk__in=refs["template_id"], status__in=["active", "paused"])
        .values_list("pk", flat=True)
    )
    for sid, node in nodes.items():
        step, key = node.step, f"step:{sid}"
        if key in errors:
            continue
        if step["kind"] == StepKind.COUPON and step["template_id"] not in usable_templates:
            errors[key] = _("Choose an active coupon of this mall group.")
        elif step["kind"] == StepKind.BRANCH and step["test"] == Test.SEGMENT:
            try:
                audience_selectors.segment_get(mall_group_id=mall_group_id, segment_id=step["segment_id"])
            except SegmentNotFoundError:
                errors[key] = _("Choose a segment of this mall group.")
        elif step["kind"] == StepKind.TAG:
            tag = audience_selectors.tag_list(mall_group_id=mall_group_id, kind="manual").filter(
                pk=step["tag_id"], is_archived=False
            )
            if not tag.exists():
                errors[key] = _("Choose a manual tag of this mall group.")
    return canonical, errors


def journey_save(
    *, mall_group_id: int, actor: Actor, values: Mapping[str, Any], journey_id: int | None = None
) -> Journey:
    """Create a journey or edit its draft (validated, nothing runs: members keep following the published version
    until the draft is published). A stopped journey cannot be edited."""
    with transaction.atomic(durable=True):
        if journey_id is None:
            j = Journey(mall_group_id=mall_group_id, created_by=actor.label[:100])
        else:
            j = lock_one(Journey.objects.filter(pk=journey_id, mall_group_id=mall_group_id))
            if j.status == JourneyStatus.STOPPED:
                raise JourneyStateError(extra={"status": j.status})
        for key in EDITABLE:
            if key in values:
                setattr(j, key, values[key])
        j.name = " ".join(str(j.name or "").split())
        canonical, errors = _problems(mall_group_id, j, values.get("draft", j.draft))
        if errors:
            raise JourneyInvalidError(next(iter(errors.values())), fields=errors)
        j.draft = canonical
        j.save()
        audit_record(
            actor=actor,
            action="journey.save",
            target_type="journey",
            target_id=j.pk,
            target_label=j.name,
            mall_group_id=mall_group_id,
        )
        return j


def journey_publish(*, mall_group_id: int, journey_id: int, actor: Actor, now: dt.datetime | None = None) -> Journey:
    """Freeze the draft as the next version and run it: members who enter from now on follow it (those inside
    finish the version they entered). A draft or paused journey starts running."""
    now = now or timeutil.now()
    with transaction.atomic(durable=True):
        j = lock_one(Journey.objects.filter(pk=journey_id, mall_group_id=mall_group_id))
        if j.status == JourneyStatus.STOPPED:
            raise JourneyStateError(extra={"status": j.status})
        canonical, errors = _problems(mall_group_id, j, j.draft)
        if errors:
            raise JourneyInvalidError(next(iter(errors.values())), fields=errors)
        number = (JourneyVersion.objects.filter(journey=j).aggregate(n=Max("number"))["n"] or 0) + 1
        version = JourneyVersion.objects.create(
            journey=j, number=number, definition=canonical, published_at=now, published_by=actor.label[:100]
        )
        was = j.status
        j.version = version
        if j.status != JourneyStatus.ACTIVE:
            j.status, j.active_since = JourneyStatus.ACTIVE, now
        j.save(update_fields=["version", "status", "active_since"])
        audit_record(
            actor=actor,
            action="journey.publish",
            target_type="journey",
            target_id=j.pk,
            target_label=j.name,
            mall_group_id=mall_group_id,
            changes={
                "version": [None, number],
                "status": [was, j.status],
                "points_per_member_max": [None, rules.points_total(canonical)],
            },
        )
    return j


def _set_status(
    mall_group_id: int, journey_id: int, actor: Actor, allowed: Sequence[str], to: str, action: str
) -> Journey:
    now = timeutil.now()
    with transaction.atomic(durable=True):
        j = lock_one(Journey.objects.filter(pk=journey_id, mall_group_id=mall_group_id))
        if j.status not in allowed:
            raise JourneyStateError(extra={"status": j.status})
        was, j.status = j.status, to
        fields = ["status"]
        if to == JourneyStatus.ACTIVE:  # scanned triggers look from here: what happened while paused is not caught up
            j.active_since = now
            fields.append("active_since")
        j.save(update_fields=fields)
        if to == JourneyStatus.STOPPED:
            Enrollment.objects.filter(journey=j, status=EnrollmentStatus.ACTIVE).update(
                status=EnrollmentStatus.EXITED, finished_at=now, step=""
            )
        audit_record(
            actor=actor,
            action=f"journey.{action}",
            target_type="journey",
            target_id=j.pk,
            target_label=j.name,
            mall_group_id=mall_group_id,
            changes={"status": [was, to]},
        )
    return j


def journey_pause(*, mall_group_id: int, journey_id: int, actor: Actor) -> Journey:
    """Nobody enters and nobody moves on until it is resumed (members inside wait where they are)."""
    return _set_status(mall_group_id, journey_id, actor, [JourneyStatus.ACTIVE], JourneyStatus.PAUSED, "pause")


def journey_resume(*, mall_group_id: int, journey_id: int, actor: Actor) -> Journey:
    return _set_status(mall_group_id, journey_id, actor, [JourneyStatus.PAUSED], JourneyStatus.ACTIVE, "resume")


def journey_stop(*, mall_group_id: int, journey_id: int, actor: Actor) -> Journey:
    """For good: members inside leave it (what they received stays theirs)."""
    allowed = [JourneyStatus.DRAFT, JourneyStatus.ACTIVE, JourneyStatus.PAUSED]
    return _set_status(mall_group_id, journey_id, actor, allowed, JourneyStatus.STOPPED, "stop")


# ----------------------------------------------------------------------------------------------------- entering


def enroll(*, journey: Journey, occurrences: Iterable[tuple[int, str]], now: dt.datetime) -> int:
    """Enter members into a running journey, one enrollment per (member, occurrence key) — "once" for a journey
    that enters a member only once. Members not active in the group, or outside the entry segment, are left out.
    Returns how many entered now."""
    if journey.status != JourneyStatus.ACTIVE or journey.version_id is None:
        return 0
    once = journey.reentry == Reentry.ONCE
    wanted = sorted({(int(member_id), "once" if once else key[:40]) for member_id, key in occurrences})
    if not wanted:
        return 0
    ids = set(
        member_selectors.member_ids_in_group(
            mall_group_id=journey.mall_group_id, member_ids=sorted({m for m, _ in wanted})
        )
    )
    if journey.entry_segment_id is not None and ids:
        ids &= audience_selectors.segment_members_among(
            mall_group_id=journey.mall_group_id, segment_id=journey.entry_segment_id, member_ids=list(ids)
        )
    version = JourneyVersion.objects.get(pk=journey.version_id)
    first = rules.first_step(version.definition) or ""
    rows = [
        Enrollment(
            journey_id=journey.pk,
            version_id=version.pk,
            member_id=m,
            key=key,
            step=first,
            wake_at=now,
            entered_at=now,
        )
        for m, key in wanted
        if m in ids
    ]
    before = Enrollment.objects.filter(journey_id=journey.pk, member_id__in=ids).count() if rows else 0
    Enrollment.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    entered = Enrollment.objects.filter(journey_id=journey.pk, member_id__in=ids).count() - before if rows else 0
    if entered:
        transaction.on_commit(lambda: _kick(journey.pk))
    return entered


def _kick(journey_id: int) -> None:
    """Run the new entrants' first steps now rather than at the next minute's sweep."""
    enqueue(ADVANCE_TASK, journey_id=journey_id)


def _running(mall_group_id: int | None, triggers: Sequence[str]) -> list[Journey]:
    qs = Journey.objects.filter(status=JourneyStatus.ACTIVE, trigger__in=list(triggers), version__isnull=False)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return list(qs.order_by("pk"))


def on_trigger(*, trigger: str, member_id: int, key: str, now: dt.datetime | None = None) -> int:
    """An event trigger fired for a member: enter them into every running journey of their group it starts."""
    now = now or timeutil.now()
    group = member_selectors.member_group_ids(member_ids=[member_id]).get(member_id)
    if group is None:
        return 0
    entered = 0
    with transaction.atomic():  # not durable: a task backend may run the handler inside the publisher's transaction
        for j in _running(group, [trigger]):
            entered += enroll(journey=j, occurrences=[(member_id, key)], now=now)
    return entered


def on_tier_changed(*, tier_change_id: int, now: dt.datetime | None = None) -> int:
    found = tier_selectors.tier_change_direction(tier_change_id=tier_change_id)
    if found is None or found[1] == "same":
        return 0
    member_id, direction = found
    trigger = Trigger.TIER_UP if direction == "up" else Trigger.TIER_DOWN
    return on_trigger(trigger=trigger, member_id=member_id, key=f"tier:{tier_change_id}", now=now)


SCANNED = (
    Trigger.FIRST_PURCHASE,
    Trigger.CART_ABANDONED,
    Trigger.PARKED_NO_PURCHASE,
    Trigger.BIRTHDAY,
    Trigger.POINTS_EXPIRING,
    Trigger.COUPON_EXPIRING,
    Trigger.DORMANT,
)
PARKING_GRACE = dt.timedelta(minutes=30)  # a purchase this soon after leaving still counts (a receipt entered late)


def _candidates(j: Journey, now: dt.datetime) -> list[tuple[int, str]]:
    """The occurrences of a scanned trigger as of `now`."""
    group = j.mall_group_id
    since = j.active_since or now
    tz_name = audience_selectors.group_tz(mall_group_id=group)
    today = timeutil.local_date(now, tz_name)
    if j.trigger == Trigger.FIRST_PURCHASE:
        return [(m, "first") for m in audience_selectors.first_purchasers_since(mall_group_id=group, since=since)]
    if j.trigger == Trigger.PARKED_NO_PURCHASE:
        stays = parking_selectors.stays_left_between(
            mall_group_id=group, since=max(since - PARKING_GRACE, now - dt.timedelta(days=1)), until=now - PARKING_GRACE
        )
        bought = sales_selectors.members_who_bought(windows=[(m, e, x + PARKING_GRACE) for _, m, e, x in stays])
        return [(m, f"stay:{s}") for s, m, _, _ in stays if m not in bought]
    if j.trigger == Trigger.CART_ABANDONED:
        # untouched for N hours, changed after the journey started (a day of catch-up): once per last change
        until = now - dt.timedelta(hours=j.trigger_hours)
        carts = commerce_marketing.carts_left_between(
            mall_group_id=group, since=max(since, until - dt.timedelta(days=1)), until=until
        )
        return [(m, f"cart:{int(last.timestamp())}") for m, last in carts]
    if j.trigger == Trigger.BIRTHDAY:
        return [
            (m, f"birthday:{today.year}")
            for m in member_selectors.birthday_member_ids(mall_group_id=group, today=today)
        ]
    if j.trigger == Trigger.POINTS_EXPIRING:
        expiring = points_marketing.points_expiring_between(
            mall_group_id=group, first=today, last=today + dt.timedelta(days=j.trigger_days)
        )
        return [(m, f"points:{day.isoformat()}") for m, day, _ in expiring]
    if j.trigger == Trigger.COUPON_EXPIRING:
        coupons = coupon_marketing.coupons_expiring_between(
            mall_group_id=group, since=now, until=now + dt.timedelta(days=j.trigger_days)
        )
        return [(m, f"coupon:{c}") for m, c in coupons]
    if j.trigger == Trigger.DORMANT:
        # the last purchase N days ago (a week of catch-up, for a sweep that did not run): once per last purchase
        until = now - dt.timedelta(days=j.trigger_days)
        lapsed = audience_selectors.lapsed_between(mall_group_id=group, since=until - dt.timedelta(days=7), until=until)
        return [(m, f"dormant:{timeutil.local_date(last, tz_name).isoformat()}") for m, last in lapsed]
    return []


DAILY = (Trigger.BIRTHDAY, Trigger.POINTS_EXPIRING, Trigger.COUPON_EXPIRING, Trigger.DORMANT)


def journeys_scan(*, now: dt.datetime | None = None) -> int:
    """Enter the members the scanned triggers find (every minute; each journey in its own transaction). The
    date-based triggers look once per mall-local day: the first sweep of the day finds that day's occurrences."""
    now = now or timeutil.now()
    entered = 0
    for j in _running(None, SCANNED):
        if j.trigger in DAILY and j.scanned_at is not None:
            tz_name = audience_selectors.group_tz(mall_group_id=j.mall_group_id)
            if timeutil.local_date(j.scanned_at, tz_name) >= timeutil.local_date(now, tz_name):
                continue
        with transaction.atomic(durable=True):
            entered += enroll(journey=j, occurrences=_candidates(j, now), now=now)
            Journey.objects.filter(pk=j.pk).update(scanned_at=now)
    return entered


# ------------------------------------------------------------------------------------------------------ running


def journeys_advance(*, journey_id: int | None = None, now: dt.datetime | None = None, limit: int = 10_000) -> int:
    """Run the due steps of running journeys (of one, when given): each enrollment in its own transaction. Returns
    how many enrollments moved. A fixed `now` (tests) is used for every step; otherwise the clock is read per
    enrollment."""
    moved = 0
    after = 0
    groups: dict[tuple[str, int], Any] = {}  # each group's marketing settings and time zone, read once per sweep
    while moved < limit:
        at = now or timeutil.now()
        due = Enrollment.objects.filter(
            status=EnrollmentStatus.ACTIVE, wake_at__lte=at, journey__status=JourneyStatus.ACTIVE, pk__gt=after
        )
        if journey_id is not None:
            due = due.filter(journey_id=journey_id)
        batch = list(due.order_by("pk").values_list("pk", flat=True)[:200])
        if not batch:
            return moved
        for enrollment_id in batch:
            after = enrollment_id
            try:
                moved += _advance_one(enrollment_id, now, groups)
            except Exception as exc:  # unexpected: logged, retried at the next sweep, given up after MAX_FAILURES
                log.exception("journey enrollment %s could not advance", enrollment_id)
                _failed(enrollment_id, exc, now or timeutil.now())
            if moved >= limit:
                break
    return moved


def _failed(enrollment_id: int, exc: Exception, at: dt.datetime) -> None:
    with transaction.atomic(durable=True):
        rows = lock_rows(Enrollment.objects.filter(pk=enrollment_id, status=EnrollmentStatus.ACTIVE))
        if not rows:
            return
        e = rows[0]
        e.failures += 1
        e.error = type(exc).__name__[:60]
        if e.failures >= MAX_FAILURES:
            e.status, e.finished_at = EnrollmentStatus.FAILED, at
        e.save(update_fields=["failures", "error", "status", "finished_at"])


def _advance_one(enrollment_id: int, now: dt.datetime | None, groups: dict[tuple[str, int], Any]) -> int:
    with transaction.atomic(durable=True):
        rows = lock_rows(
            Enrollment.objects.select_related("journey", "version").filter(
                pk=enrollment_id, status=EnrollmentStatus.ACTIVE
            ),
            skip_locked=True,
            of=("self",),
        )
        e = rows[0] if rows else None
        at = now or timeutil.now()
        if e is None or e.wake_at > at or e.journey.status != JourneyStatus.ACTIVE:
            return 0
        nodes = rules.flatten(e.version.definition)
        ctx = _Context(e.journey, at, groups)
        for _n in range(STEPS_PER_RUN):
            node = nodes.get(e.step)
            if node is None:  # the end (or a step the version does not have)
                e.status, e.step, e.finished_at = EnrollmentStatus.DONE, "", at
                break
            went = _run_step(e, node, ctx)
            if went is None:  # waiting (a wait step, or quiet hours): `wake_at` says until when
                break
            e.step, e.wake_at = went, at
        e.save(update_fields=["status", "step", "wake_at", "waiting_since", "finished_at"])
        return 1


class _Context:
    """What a step needs about the journey's group: read when first needed, kept for the sweep (`groups`)."""

    def __init__(self, journey: Journey, at: dt.datetime, groups: dict[tuple[str, int], Any]) -> None:
        self.journey = journey
        self.at = at
        self._groups = groups

    def _group(self, kind: str, read: Any) -> Any:
        key = (kind, self.journey.mall_group_id)
        if key not in self._groups:
            self._groups[key] = read(mall_group_id=self.journey.mall_group_id)
        return self._groups[key]

    @property
    def settings(self) -> Any:
        return self._group("settings", campaign_selectors.settings_for)

    @property
    def tz(self) -> str:
        return str(self._group("tz", audience_selectors.group_tz))


def _record(e: Enrollment, step_id: str, outcome: str, detail: str, at: dt.datetime) -> None:
    StepRun.objects.create(
        enrollment=e, version_id=e.version_id, step=step_id, outcome=outcome, detail=detail[:60], at=at
    )


def _run_step(e: Enrollment, node: rules.Node, ctx: _Context) -> str | None:
    """Do one step for the enrollment. Returns the next step's id ("" at the end), or None when the member waits
    (`e.wake_at` says until when)."""
    step, at, sid = node.step, ctx.at, str(node.step["id"])
    kind = step["kind"]
    if kind == StepKind.WAIT:
        if e.waiting_since is None:  # just arrived: wait from now
            e.waiting_since, e.wake_at = at, at + dt.timedelta(minutes=int(step["minutes"]))
            return None
        e.waiting_since = None
        _record(e, sid, Outcome.DONE, "", at)
        return node.next or ""
    if kind == StepKind.MESSAGE:
        local = timeutil.local(at, ctx.tz)
        s = ctx.settings
        if in_quiet_hours(local.time(), s.quiet_start, s.quiet_end):
            e.wake_at = quiet_hours_end(local, s.quiet_start, s.quiet_end)
            return None
        delivered = campaign_services.marketing_deliver_in_tx(
            mall_group_id=ctx.journey.mall_group_id,
            member_ids=[e.member_id],
            message=campaign_services.Message(title=step["title"], body=step["body"], sms_text=step["sms_text"]),
            send_inbox=bool(step["inbox"]),
            send_sms=bool(step["sms"]),
            send_email=bool(step.get("email")),
            send_wechat=bool(step.get("wechat")),
            send_push=bool(step.get("push")),
            weekly_cap=s.weekly_cap,
            now=at,
            sent_by=f"journey {ctx.journey.pk}",
            origin=f"journey:{ctx.journey.pk}:{sid}",
        )[e.member_id]
        _record(e, sid, Outcome.DONE if delivered.sent else Outcome.SKIPPED, delivered.skip, at)
        return node.next or ""
    if kind in (StepKind.COUPON, StepKind.POINTS, StepKind.TAG):
        try:
            with transaction.atomic():  # a savepoint: a refusal leaves nothing of the step behind
                detail = _grant(e, step, ctx)
            _record(e, sid, Outcome.DONE if detail else Outcome.SKIPPED, detail or "had it", at)
        except ApplicationError as exc:
            _record(e, sid, Outcome.FAILED, exc.code, at)
        return node.next or ""
    if kind == StepKind.BRANCH:
        yes = _test(e, step, ctx)
        _record(e, sid, Outcome.YES if yes else Outcome.NO, "", at)
        return rules.branch_target(node, yes) or ""
    _record(e, sid, Outcome.FAILED, "unknown step", at)
    return node.next or ""


def _grant(e: Enrollment, step: Mapping[str, Any], ctx: _Context) -> str:
    """The coupon, points or tag of a step: what was written ("" when the member already had the tag)."""
    group, key = ctx.journey.mall_group_id, f"journey:{e.pk}:{step['id']}"
    if step["kind"] == StepKind.COUPON:
        issued = coupon_services.coupon_issue_in_tx(
            mall_group_id=group,
            template_id=int(step["template_id"]),
            member_id=e.member_id,
            source_key=key,
            at=ctx.at,
            source="journey",
        )
        return f"coupon {issued.coupon_id}"
    if step["kind"] == StepKind.POINTS:
        tx_id = points_services.points_grant_in_tx(
            mall_group_id=group,
            member_id=e.member_id,
            points=int(step["points"]),
            source=key,
            memo=ctx.journey.name,
            explanation={"journey": ctx.journey.pk, "version": e.version_id, "step": step["id"]},
            at=ctx.at,
            tz_name=ctx.tz,
        )
        return f"points tx {tx_id}"
    added = audience_services.tag_member_add_in_tx(
        mall_group_id=group, tag_id=int(step["tag_id"]), member_id=e.member_id, by=f"journey {ctx.journey.pk}"
    )
    return "tagged" if added else ""


def _test(e: Enrollment, step: Mapping[str, Any], ctx: _Context) -> bool:
    test = step["test"]
    if test == Test.RANDOM:
        return rules.in_split(ctx.journey.pk, str(step["id"]), e.member_id, int(step["percent"]))
    if test == Test.PURCHASED:
        return e.member_id in sales_selectors.members_who_bought(windows=[(e.member_id, e.entered_at, ctx.at)])
    try:
        return e.member_id in audience_selectors.segment_members_among(
            mall_group_id=ctx.journey.mall_group_id, segment_id=int(step["segment_id"]), member_ids=[e.member_id]
        )
    except SegmentNotFoundError:
        return False


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: list[str]) -> int:
    """Erasure (settings.GALLERIA_ERASURE_HANDLERS): the member leaves every journey they are in (nothing more is
    sent or granted). The record of what was done stays: it holds no personal data, only the member's id."""
    return Enrollment.objects.filter(member_id=member_id, status=EnrollmentStatus.ACTIVE).update(
        status=EnrollmentStatus.EXITED, finished_at=timeutil.now(), step=""
    )
