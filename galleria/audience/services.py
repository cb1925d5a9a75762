"""Writes of the audience area: the nightly rebuild of profiles, RFM and automatic tags; the minute refresh of the
members who just bought; manual tags (by hand, in bulk, by import); saved segments; the group's settings.

The rebuild and the refresh are idempotent and restartable: each recomputes from the facts (sales, plates,
parking stays) whatever ran before, so a crash mid-way loses nothing; they take the refresh mark's row lock, so they
never run at the same time."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import sql, timeutil
from galleria.core.locking import lock_one
from galleria.members import selectors as member_selectors
from galleria.parking import selectors as parking_selectors
from galleria.sales import selectors as sales_selectors

from . import rules
from . import selectors as audience_selectors
from . import sql as audience_sql
from .exceptions import AudienceInvalidError, AutoTagReadOnlyError
from .models import AudienceSettings, MemberProfile, MemberTag, RefreshMark, RfmCuts, Segment, Tag, TagGroup
from .types import RebuildResult, RefreshResult, TagKind, TagSource

REFRESH_BATCH_SALES = 20000  # sales read per refresh run
REFRESH_SETTLE_SECONDS = 10  # sales younger than this wait for the next run (a concurrent checkout may still commit
# a smaller id); what is missed all the same is caught by the nightly rebuild
MEMBER_CHUNK = 1000  # members per statement in the refresh (the IN list)


# ----------------------------------------------------------------------------------------------- profiles, RFM


def _sources(*, mall_group_id: int, now: dt.datetime, member_ids: Sequence[int] | None) -> dict[str, Any]:
    s = audience_selectors.settings_for(mall_group_id=mall_group_id)
    window_since = now - dt.timedelta(days=s.rfm_window_days)
    tz_param = sql.local_time_param(audience_selectors.group_tz(mall_group_id=mall_group_id), now)
    favourite = {
        f"favourite_{by}": sales_selectors.segment_favourite(
            mall_group_id=mall_group_id, since=window_since, by=by, member_ids=member_ids
        )
        for by in ("category", "merchant", "channel")
    }
    return {
        "facts": sales_selectors.segment_facts(
            mall_group_id=mall_group_id,
            window_since=window_since,
            days90_since=now - dt.timedelta(days=90),
            tz_param=tz_param,
            member_ids=member_ids,
        ),
        "previous": sales_selectors.segment_previous_purchase(mall_group_id=mall_group_id, member_ids=member_ids),
        **favourite,
        "drives": [
            member_selectors.segment_plate_members(verified=False),
            parking_selectors.segment_members_with_stays(since=window_since, at_least=1),
        ],
    }


def _auto_tags(mall_group_id: int) -> list[Tag]:
    """The group's automatic tags, created on first use (their stored name is the code; the UI names them)."""
    codes = rules.auto_tag_codes(audience_selectors.choices_for(mall_group_id=mall_group_id)["category"])
    have = {t.code: t for t in Tag.objects.filter(mall_group_id=mall_group_id, kind=TagKind.AUTO)}
    missing = [Tag(mall_group_id=mall_group_id, kind=TagKind.AUTO, code=c, name=c) for c in codes if c not in have]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        have = {t.code: t for t in Tag.objects.filter(mall_group_id=mall_group_id, kind=TagKind.AUTO)}
    return [have[c] for c in codes if c in have]


def _recompute(
    *, mall_group_id: int, now: dt.datetime, member_ids: Sequence[int] | None, steps: dict[str, float]
) -> tuple[int, int, int, int]:
    """Profiles, scores, stages and automatic tags of the group (or of these members): (profiles, removed,
    scored, tag changes). With `member_ids=None` the RFM cuts and means are recomputed from everyone first."""
    active = member_selectors.ACTIVE_STATUS

    def step(name: str, started: float) -> float:
        steps[name] = steps.get(name, 0.0) + time.monotonic() - started
        return time.monotonic()

    t = time.monotonic()
    profiles = audience_sql.profiles_upsert(
        mall_group_id=mall_group_id,
        active_status=active,
        now=now,
        member_ids=member_ids,
        **_sources(mall_group_id=mall_group_id, now=now, member_ids=member_ids),
    )
    t = step("profiles", t)
    removed = audience_sql.profiles_remove_inactive(
        mall_group_id=mall_group_id, active_status=active, member_ids=member_ids
    )
    t = step("remove", t)
    cuts = RfmCuts.objects.filter(mall_group_id=mall_group_id).first()
    if member_ids is None or cuts is None:
        scored, found = audience_sql.rfm_cuts(mall_group_id=mall_group_id)
        cuts = cuts or RfmCuts(mall_group_id=mall_group_id)
        cuts.r_cuts = [int(sql.read_when(v).timestamp()) if v is not None else 0 for v in found["r"]]
        cuts.f_cuts = [int(v or 0) for v in found["f"]]
        cuts.m_cuts = [int(v or 0) for v in found["m"]]
        cuts.scored, cuts.computed_at = scored, now
    r_cuts = [dt.datetime.fromtimestamp(v, tz=dt.UTC) for v in cuts.r_cuts or [0] * 4]
    f_cuts, m_cuts = cuts.f_cuts or [0] * 4, cuts.m_cuts or [0] * 4
    audience_sql.scores_update(
        mall_group_id=mall_group_id, cuts={"r": r_cuts, "f": f_cuts, "m": m_cuts}, member_ids=member_ids
    )
    if member_ids is None:
        scored, cuts.mean_r100, cuts.mean_f100, cuts.mean_m100 = audience_sql.score_means(mall_group_id=mall_group_id)
        cuts.save()
    t = step("rfm", t)
    audience_sql.stages_update(
        mall_group_id=mall_group_id,
        now=now,
        days=audience_selectors.lifecycle_days(mall_group_id=mall_group_id),
        means=(cuts.mean_r100, cuts.mean_f100, cuts.mean_m100),
        member_ids=member_ids,
    )
    t = step("stages", t)
    changes = 0
    for tag in _auto_tags(mall_group_id):
        removed_tags, added_tags = audience_sql.auto_tag_sync(
            tag_id=tag.pk, code=tag.code, mall_group_id=mall_group_id, now=now, member_ids=member_ids
        )
        changes += removed_tags + added_tags
    if member_ids is None:
        audience_sql.tag_counts_update(mall_group_id=mall_group_id)
    step("tags", t)
    return profiles, removed, cuts.scored, changes


def _mark() -> RefreshMark:
    RefreshMark.objects.get_or_create(key="sales")
    return lock_one(RefreshMark.objects.filter(key="sales"))


def profiles_rebuild(*, mall_group_id: int, now: dt.datetime | None = None) -> RebuildResult:
    """The nightly pass over one group: every active member's profile from the facts, the RFM cuts and means from
    everyone, every score, segment, stage and automatic tag. One transaction (readers see the old or the new)."""
    now = now or timeutil.now()
    started = time.monotonic()
    steps: dict[str, float] = {}
    with transaction.atomic(durable=True):
        _mark()  # the minute refresh waits
        profiles, removed, scored, changes = _recompute(
            mall_group_id=mall_group_id, now=now, member_ids=None, steps=steps
        )
    if not transaction.get_connection().in_atomic_block:
        t = time.monotonic()
        audience_sql.tables_vacuum_analyze()
        steps["vacuum"] = time.monotonic() - t
    return RebuildResult(
        mall_group_id=mall_group_id,
        profiles=profiles,
        removed=removed,
        scored=scored,
        tagged=changes,
        seconds=round(time.monotonic() - started, 3),
        steps={k: round(v, 3) for k, v in steps.items()},
    )


def profiles_refresh(*, now: dt.datetime | None = None) -> RefreshResult:
    """The minute pass: the members of the sales since the last run (that are at least REFRESH_SETTLE_SECONDS old)
    get their profile, scores (against the nightly cuts), stage and automatic tags recomputed."""
    now = now or timeutil.now()
    with transaction.atomic(durable=True):
        mark = _mark()
        settled = now - dt.timedelta(seconds=REFRESH_SETTLE_SECONDS)
        up_to = sales_selectors.segment_last_sale_id(after_id=mark.last_sale_id, created_before=settled)
        up_to = min(up_to, mark.last_sale_id + REFRESH_BATCH_SALES)
        if up_to <= mark.last_sale_id:
            return RefreshResult(members=0, last_sale_id=mark.last_sale_id)
        ids = sales_selectors.segment_members_with_sales_after(after_id=mark.last_sale_id, up_to_id=up_to)
        by_group: dict[int, list[int]] = defaultdict(list)
        for member_id, group_id in member_selectors.member_groups(member_ids=ids).items():
            by_group[group_id].append(member_id)
        steps: dict[str, float] = {}
        for group_id, members in sorted(by_group.items()):
            members.sort()
            for i in range(0, len(members), MEMBER_CHUNK):
                _recompute(mall_group_id=group_id, now=now, member_ids=members[i : i + MEMBER_CHUNK], steps=steps)
        mark.last_sale_id = up_to
        mark.save(update_fields=["last_sale_id", "updated_at"])
    return RefreshResult(members=len(ids), last_sale_id=up_to)


def settings_update(*, mall_group_id: int, actor: Actor, **days: int) -> AudienceSettings:
    """Change the lifecycle thresholds / RFM window (applied by the next nightly pass)."""
    s = audience_selectors.settings_for(mall_group_id=mall_group_id)
    before = {k: getattr(s, k) for k in days}
    for k, v in days.items():
        setattr(s, k, int(v))
    problems = rules.LifecycleDays(
        new=s.new_days, active=s.active_days, at_risk=s.at_risk_days, lost=s.lost_days
    ).problems()
    if problems or not 30 <= s.rfm_window_days <= 730:
        raise AudienceInvalidError(
            _("The days must grow: active < at risk < lost (at most 3,650); new 1–365; the RFM window 30–730."),
            fields={p: _("Check this number.") for p in (problems or ["rfm_window"])},
        )
    s.save()
    audit_record(
        actor=actor,
        action="audience.settings",
        target_type="audiencesettings",
        target_id=mall_group_id,
        mall_group_id=mall_group_id,
        changes={k: [before[k], getattr(s, k)] for k in days if before[k] != getattr(s, k)},
    )
    return s


# ----------------------------------------------------------------------------------------------------- manual tags


def tag_group_save(*, mall_group_id: int, name: str, actor: Actor, group_id: int | None = None) -> TagGroup:
    name = name.strip()
    if not name or len(name) > 40:
        raise AudienceInvalidError(_("Give the group a name of up to 40 characters."), fields={"name": _("Required")})
    group = (
        TagGroup(mall_group_id=mall_group_id)
        if group_id is None
        else TagGroup.objects.get(mall_group_id=mall_group_id, pk=group_id)
    )
    group.name = name
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise AudienceInvalidError(_("A tag group with this name exists."), fields={"name": _("Taken")}) from None
    audit_record(
        actor=actor,
        action="audience.tag_group",
        target_type="taggroup",
        target_id=group.pk,
        target_label=name,
        mall_group_id=mall_group_id,
    )
    return group


def tag_save(
    *,
    mall_group_id: int,
    name: str,
    actor: Actor,
    description: str = "",
    group_id: int | None = None,
    tag_id: int | None = None,
) -> Tag:
    """Create or rename a manual tag."""
    name = name.strip()
    if not name or len(name) > 40 or ":" in name:
        raise AudienceInvalidError(
            _("Give the tag a name of up to 40 characters, without “:”."), fields={"name": _("Check the name.")}
        )
    if group_id is not None and not TagGroup.objects.filter(mall_group_id=mall_group_id, pk=group_id).exists():
        raise AudienceInvalidError(_("No such tag group."), fields={"group": _("Choose a group.")})
    if tag_id is None:
        tag = Tag(mall_group_id=mall_group_id, kind=TagKind.MANUAL)
    else:
        tag = audience_selectors.tag_get(mall_group_id=mall_group_id, tag_id=tag_id)
        if tag.kind == TagKind.AUTO:
            raise AutoTagReadOnlyError()
    before = {"name": tag.name, "description": tag.description}
    tag.name, tag.description, tag.group_id = name, description.strip()[:200], group_id
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:
        raise AudienceInvalidError(_("A tag with this name exists."), fields={"name": _("Taken")}) from None
    audit_record(
        actor=actor,
        action="audience.tag_save",
        target_type="tag",
        target_id=tag.pk,
        target_label=name,
        mall_group_id=mall_group_id,
        changes={k: [before[k], getattr(tag, k)] for k in before if before[k] != getattr(tag, k)},
    )
    return tag


def tag_archive(*, mall_group_id: int, tag_id: int, actor: Actor) -> Tag:
    """Retire a manual tag: it leaves every member and the lists (segments using it then match nobody)."""
    with transaction.atomic():
        tag = audience_selectors.tag_get(mall_group_id=mall_group_id, tag_id=tag_id)
        if tag.kind == TagKind.AUTO:
            raise AutoTagReadOnlyError()
        removed, _rows = MemberTag.objects.filter(tag=tag).delete()
        tag.is_archived, tag.member_count = True, 0
        tag.name = f"{tag.name[:25]} ~{tag.pk}"  # frees the name
        tag.save(update_fields=["is_archived", "member_count", "name"])
        audit_record(
            actor=actor,
            action="audience.tag_archive",
            target_type="tag",
            target_id=tag.pk,
            target_label=tag.name,
            mall_group_id=mall_group_id,
            changes={"members": [removed, 0]},
        )
    return tag


def _manual(mall_group_id: int, tag_id: int) -> Tag:
    tag = audience_selectors.tag_get(mall_group_id=mall_group_id, tag_id=tag_id)
    if tag.kind == TagKind.AUTO:
        raise AutoTagReadOnlyError()
    if tag.is_archived:
        raise AudienceInvalidError(_("This tag is archived."))
    return tag


def tag_members_add(
    *, mall_group_id: int, tag_id: int, member_ids: Iterable[int], actor: Actor, source: str = TagSource.STAFF
) -> int:
    """Give a manual tag to members of the group (others are ignored): how many got it now."""
    wanted = sorted({int(i) for i in member_ids})
    with transaction.atomic():
        tag = lock_one(Tag.objects.filter(pk=_manual(mall_group_id, tag_id).pk))
        ids = member_selectors.member_ids_in_group(mall_group_id=mall_group_id, member_ids=wanted)
        added = 0
        for i in range(0, len(ids), MEMBER_CHUNK):
            added += audience_sql.tag_add_members(
                tag_id=tag.pk,
                member_ids=ids[i : i + MEMBER_CHUNK],
                source=source,
                actor=actor.label,
                now=timeutil.now(),
            )
        tag.member_count = MemberTag.objects.filter(tag=tag).count()
        tag.save(update_fields=["member_count"])
        if added:
            audit_record(
                actor=actor,
                action="audience.tag_members",
                target_type="tag",
                target_id=tag.pk,
                target_label=tag.name,
                mall_group_id=mall_group_id,
                changes={"added": [None, added]},
            )
    return added


def tag_member_add_in_tx(*, mall_group_id: int, tag_id: int, member_id: int, by: str) -> bool:
    """Inside the caller's transaction (a journey step): give one member a manual tag of the group. True if the
    member got it now, False if they had it. An archived or automatic tag is an error (the journey names it)."""
    tag = _manual(mall_group_id, tag_id)
    added = audience_sql.tag_add_members(
        tag_id=tag.pk, member_ids=[member_id], source=TagSource.JOURNEY, actor=by[:100], now=timeutil.now()
    )
    if added:
        Tag.objects.filter(pk=tag.pk).update(member_count=F("member_count") + added)
    return bool(added)


def tag_member_remove(*, mall_group_id: int, tag_id: int, member_id: int, actor: Actor) -> bool:
    with transaction.atomic():
        tag = lock_one(Tag.objects.filter(pk=_manual(mall_group_id, tag_id).pk))
        removed, _rows = MemberTag.objects.filter(tag=tag, member_id=member_id).delete()
        if removed:
            tag.member_count = max(0, tag.member_count - removed)
            tag.save(update_fields=["member_count"])
            audit_record(
                actor=actor,
                action="audience.tag_member_remove",
                target_type="member",
                target_id=member_id,
                target_label=tag.name,
                mall_group_id=mall_group_id,
            )
    return bool(removed)


MAX_IMPORT_LINES = 50000


def tag_import(*, mall_group_id: int, tag_id: int, text: str, actor: Actor) -> dict[str, Any]:
    """Bulk tagging: one phone, card number or member code per line. Returns how many lines were read, how many
    members got the tag, how many already had it, and the lines that matched nobody (at most 50 shown)."""
    lines = [ln.split(",")[0].strip().strip('"') for ln in text.splitlines() if ln.split(",")[0].strip().strip('"')]
    if len(lines) > MAX_IMPORT_LINES:
        raise AudienceInvalidError(
            _("At most %(n)s lines at a time.") % {"n": f"{MAX_IMPORT_LINES:,}"}, fields={"file": _("Too long")}
        )
    _manual(mall_group_id, tag_id)
    found: list[int] = []
    unknown: list[str] = []
    for line in lines:
        resolved = member_selectors.member_resolve(mall_group_id=mall_group_id, raw=line)
        if resolved is None:
            unknown.append(line)
        else:
            found.append(resolved.member.pk)
    added = tag_members_add(
        mall_group_id=mall_group_id, tag_id=tag_id, member_ids=found, actor=actor, source=TagSource.IMPORT
    )
    return {
        "lines": len(lines),
        "matched": len(set(found)),
        "added": added,
        "already": len(set(found)) - added,
        "unknown": len(unknown),
        "unknown_sample": unknown[:50],
    }


def tag_members_from_segment(*, mall_group_id: int, tag_id: int, definition: Any, actor: Actor) -> int:
    """Give a manual tag to every member of a segment now (a snapshot)."""
    ids = audience_selectors.segment_all_member_ids(
        mall_group_id=mall_group_id, definition=definition, cap=MAX_IMPORT_LINES * 20
    )
    return tag_members_add(mall_group_id=mall_group_id, tag_id=tag_id, member_ids=ids, actor=actor)


# -------------------------------------------------------------------------------------------------------- segments


def segment_save(
    *,
    mall_group_id: int,
    name: str,
    definition: Any,
    actor: Actor,
    description: str = "",
    segment_id: int | None = None,
) -> Segment:
    """Save a segment (validated; its count taken now)."""
    name = name.strip()
    if not name or len(name) > 60:
        raise AudienceInvalidError(_("Give the segment a name of up to 60 characters."), fields={"name": _("Required")})
    canonical = audience_selectors.segment_validate(definition, mall_group_id=mall_group_id)
    count = audience_selectors.segment_count(mall_group_id=mall_group_id, definition=canonical)
    segment = (
        Segment(mall_group_id=mall_group_id, created_by=actor.label[:100])
        if segment_id is None
        else audience_selectors.segment_get(mall_group_id=mall_group_id, segment_id=segment_id)
    )
    before = {"name": segment.name, "definition": segment.definition}
    segment.name, segment.description, segment.definition = name, description.strip()[:200], canonical
    segment.last_count, segment.counted_at = count, timeutil.now()
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise AudienceInvalidError(_("A segment with this name exists."), fields={"name": _("Taken")}) from None
    audit_record(
        actor=actor,
        action="audience.segment_save",
        target_type="segment",
        target_id=segment.pk,
        target_label=name,
        mall_group_id=mall_group_id,
        changes={k: [before[k], getattr(segment, k)] for k in before if before[k] != getattr(segment, k)},
    )
    return segment


def segment_archive(*, mall_group_id: int, segment_id: int, actor: Actor) -> Segment:
    segment = audience_selectors.segment_get(mall_group_id=mall_group_id, segment_id=segment_id)
    segment.is_archived = True
    segment.name = f"{segment.name[:45]} ~{segment.pk}"
    segment.save(update_fields=["is_archived", "name", "updated_at"])
    audit_record(
        actor=actor,
        action="audience.segment_archive",
        target_type="segment",
        target_id=segment.pk,
        target_label=segment.name,
        mall_group_id=mall_group_id,
    )
    return segment


# --------------------------------------------------------------------------------------------------------- privacy


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: list[str]) -> int:
    """Erasure (settings.GALLERIA_ERASURE_HANDLERS): the member's profile (what their behaviour said) and tags go."""
    tags, _rows = MemberTag.objects.filter(member_id=member_id).delete()
    profiles, _rows = MemberProfile.objects.filter(member_id=member_id).delete()
    return tags + profiles
