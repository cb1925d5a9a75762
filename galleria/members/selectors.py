from __future__ import annotations

import calendar
import datetime as dt
import operator
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import reduce

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Reverse, TruncDate

from galleria.core import sql, timeutil
from galleria.malls.models import MallGroup

from . import rules
from . import sql as members_sql
from .expressions import NameContains
from .models import MARKETING_PURPOSES, Consent, IdentifierKind, Member, MemberIdentifier, MemberStatus
from .types import OPT_OUT_PURPOSES, PlateBinding


@dataclass(frozen=True)
class Resolution:
    member: Member
    kind: str  # which identifier matched (IdentifierKind value or "dynamic_code")
    value: str


def members_active(*, mall_group_id: int | None = None) -> QuerySet[Member]:
    """The one rule for "a member who counts": active (not merged into another, not erased);
    of one group when given. Every list, count and lookup of members outside this app starts here."""
    qs = Member.objects.filter(status=MemberStatus.ACTIVE)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs


# the status value of an active member, for hand-written SQL (an app's sql.py takes it as a parameter)
ACTIVE_STATUS: str = MemberStatus.ACTIVE


def active_member_q(path: str = "member") -> Q:
    """The same rule as `members_active`, for a query on another app's rows that reach a member through `path`
    (e.g. `Coupon.objects.filter(active_member_q())`, `active_member_q("coupon__member")`)."""
    return Q(**{f"{path}__status": MemberStatus.ACTIVE})


def member_card_no(*, member_id: int) -> str | None:
    """A member's card number (None for an unknown id)."""
    return Member.objects.filter(pk=member_id).values_list("card_no", flat=True).first()


MERGE_CHAIN_MAX = 20  # a merged member's survivor may itself have been merged later: follow at most this far


def member_survivor_id(*, member_id: int) -> int:
    """The id a member reference resolves to: itself, or (for a merged member) the survivor it was merged into,
    following later merges of that survivor too."""
    current = member_id
    for _step in range(MERGE_CHAIN_MAX):
        row = Member.objects.filter(pk=current).values_list("status", "merged_into_id").first()
        if row is None or row[0] != MemberStatus.MERGED or row[1] is None:
            return current
        current = row[1]
    return current


def member_get(*, mall_group_id: int | None, member_id: int) -> Member:
    """A member by id; a merged member's id resolves to its survivor (old references keep working)."""
    qs = Member.objects.select_related("join_mall", "join_merchant", "mall_group")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    member = qs.get(pk=member_id)
    if member.status == MemberStatus.MERGED and member.merged_into_id is not None:
        return qs.get(pk=member_survivor_id(member_id=member.pk))
    return member


def _by_identifier(mall_group_id: int, kinds: Sequence[str], value: str) -> Member | None:
    # fixed SQL: this runs on every POS request that names a member (galleria/members/sql.py)
    return members_sql.member_by_identifier(mall_group_id, list(kinds), value, status=MemberStatus.ACTIVE)


def member_resolve_dynamic_code(*, mall_group_id: int, code: str, now: float | None = None) -> Member | None:
    """The member whose current (or previous-step) dynamic code this is; None if unknown or stale."""
    step_seconds = settings.GALLERIA_MEMBER_CODE_STEP_SECONDS
    current = rules.time_step(time.time() if now is None else now, step_seconds)
    key = settings.GALLERIA_MEMBER_CODE_KEY
    candidates = rules.dynamic_code_candidates(code, key=key, current_step=current, window=1)
    if not candidates:
        return None
    members = {
        m.pk: m
        for m in Member.objects.filter(
            pk__in=[c.member_id for c in candidates], mall_group_id=mall_group_id, status=MemberStatus.ACTIVE
        )
    }
    for cand in candidates:
        member = members.get(cand.member_id)
        if member and rules.dynamic_code_matches(cand, key=key, member_secret=member.code_secret):
            return member
    return None


def member_by_plate(*, mall_group_id: int, plate: str) -> Member | None:
    """The active member a (normalised) plate is bound to in the group: what the car park asks at every entry."""
    return _by_identifier(mall_group_id, [IdentifierKind.PLATE], plate)


def member_resolve(*, mall_group_id: int, raw: str, now: float | None = None) -> Resolution | None:
    """One lookup for any identifier: dynamic code, phone, card number, plate, physical card, WeChat ids."""
    text = (raw or "").strip()
    if not text or len(text) > 64:
        return None
    compact = text.replace(" ", "")
    if rules.looks_like_dynamic_code(compact):
        member = member_resolve_dynamic_code(mall_group_id=mall_group_id, code=compact, now=now)
        return Resolution(member, "dynamic_code", compact) if member else None
    if rules.looks_like_card_number(compact):
        member = _by_identifier(mall_group_id, [IdentifierKind.CARD, IdentifierKind.PHYSICAL_CARD], compact)
        if member:
            return Resolution(member, IdentifierKind.CARD, compact)
    phone = rules.normalize_phone(compact, regions=settings.GALLERIA_PHONE_REGIONS)
    if phone:
        member = _by_identifier(mall_group_id, [IdentifierKind.PHONE], phone)
        if member:
            return Resolution(member, IdentifierKind.PHONE, phone)
    plate = rules.normalize_plate(compact)
    if plate:
        member = _by_identifier(mall_group_id, [IdentifierKind.PLATE], plate)
        if member:
            return Resolution(member, IdentifierKind.PLATE, plate)
    kinds = [IdentifierKind.PHYSICAL_CARD, IdentifierKind.WECHAT_OPENID, IdentifierKind.WECHAT_UNIONID]
    member = _by_identifier(mall_group_id, kinds, text)
    if member:
        return Resolution(member, "other", text)
    return None


# ---------------------------------------------------------------- console search and list
#
# Every kind of search is an index lookup (the indexes: migration 0003; the numbers: docs/performance.md):
# identifiers through the unique (group, kind, value) index, a phone's last digits through the reversed-phone
# expression index, a name fragment through the name n-gram GIN index. A platform admin's search looks the
# identifiers up in every group in ONE query (`mall_group_id IN (all groups)` walks the same unique index), so the
# number of queries does not grow with the members or the groups.

PHONE_TAIL_MIN, PHONE_TAIL_MAX = 4, 10
SEARCH_MAX_LEN = 64


def _search_group_ids(mall_group_id: int | None) -> list[int]:
    if mall_group_id is not None:
        return [mall_group_id]
    return list(MallGroup.objects.order_by("pk").values_list("pk", flat=True))


def member_search_identifier_ids(*, mall_group_id: int | None, raw: str, now: float | None = None) -> list[int]:
    """Ids of the members (any status) that an identifier typed into the search names, in the scope's group or,
    for `mall_group_id=None`, in every group: the same readings as `member_resolve` (dynamic code, card number,
    phone, plate, physical card, WeChat ids), all in one query."""
    text = (raw or "").strip()
    if not text or len(text) > SEARCH_MAX_LEN:
        return []
    compact = text.replace(" ", "")
    if rules.looks_like_dynamic_code(compact):
        key = settings.GALLERIA_MEMBER_CODE_KEY
        step = rules.time_step(time.time() if now is None else now, settings.GALLERIA_MEMBER_CODE_STEP_SECONDS)
        candidates = rules.dynamic_code_candidates(compact, key=key, current_step=step, window=1)
        members = Member.objects.filter(pk__in=[c.member_id for c in candidates], status=MemberStatus.ACTIVE)
        if mall_group_id is not None:
            members = members.filter(mall_group_id=mall_group_id)
        secrets_by_id = dict(members.values_list("pk", "code_secret"))
        return sorted(
            {
                c.member_id
                for c in candidates
                if c.member_id in secrets_by_id
                and rules.dynamic_code_matches(c, key=key, member_secret=secrets_by_id[c.member_id])
            }
        )
    readings: list[Q] = []  # one lookup per reading the text can have
    if rules.could_be_physical_card(text):
        readings.append(Q(kind=IdentifierKind.PHYSICAL_CARD, value__in=sorted({text, text.upper()})))
    if rules.could_be_wechat_id(text):
        readings.append(Q(kind__in=[IdentifierKind.WECHAT_OPENID, IdentifierKind.WECHAT_UNIONID], value=text))
    if rules.looks_like_card_number(compact):
        readings.append(Q(kind__in=[IdentifierKind.CARD, IdentifierKind.PHYSICAL_CARD], value=compact))
    phone = rules.normalize_phone(compact, regions=settings.GALLERIA_PHONE_REGIONS)
    if phone:
        readings.append(Q(kind=IdentifierKind.PHONE, value=phone))
    plate = rules.normalize_plate(compact)
    if plate:
        readings.append(Q(kind=IdentifierKind.PLATE, value=plate))
    if not readings:  # a name, say: no identifier has this shape, so no query
        return []
    group_ids = _search_group_ids(mall_group_id)
    if not group_ids:
        return []
    wanted = reduce(operator.or_, readings)
    rows = MemberIdentifier.objects.filter(wanted, mall_group_id__in=group_ids).values_list("member_id", flat=True)
    return sorted(set(rows))


def member_search(
    *, mall_group_id: int | None, query: str = "", channel: str = "", mall_id: int | None = None
) -> QuerySet[Member]:
    """Console search of active members: any identifier (exact), the last 4–10 digits of a phone, or a name
    fragment (a query with a letter in it); newest first. Two queries in any scope: the identifier lookup (plus
    the list of groups for a platform admin) and then the list itself."""
    qs = Member.objects.filter(status=MemberStatus.ACTIVE).select_related("join_mall").order_by("-created_at", "-id")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if channel:
        qs = qs.filter(join_channel=channel)
    if mall_id:
        qs = qs.filter(join_mall_id=mall_id)
    query = (query or "").strip()[:SEARCH_MAX_LEN]
    if query:
        cond = Q(pk__in=[])
        ids = member_search_identifier_ids(mall_group_id=mall_group_id, raw=query)
        if ids:
            cond |= Q(pk__in=ids)
        if not query.isdigit():
            cond |= Q(NameContains(query))
        elif PHONE_TAIL_MIN <= len(query) <= PHONE_TAIL_MAX:
            # the reversed-phone expression index turns "ends with" into a prefix range
            cond |= Q(phone_reversed__startswith=query[::-1])
            qs = qs.alias(phone_reversed=Reverse("phone"))
        qs = qs.filter(cond)
    return qs


class MemberOrder(StrEnum):
    """The orders of the console list that members answers itself (by points: `ledger.selectors`)."""

    JOINED_DESC = "-joined"
    JOINED_ASC = "joined"
    NAME = "name"


def member_order_runs(members: QuerySet[Member], *, order: MemberOrder) -> list[QuerySet[Member]]:
    """`members` in `order`, as the consecutive runs a listing concatenates (`core.listing.Runs`). By name: the
    named members A→Z (a range of the name index: `name > ''`), then the nameless ones by id — rather than pages
    of blank names first. Every run is an index walk that stops at the page."""
    if order == MemberOrder.NAME:
        return [members.filter(name__gt="").order_by("name", "id"), members.filter(name="").order_by("id")]
    if order == MemberOrder.JOINED_ASC:
        return [members.order_by("created_at", "id")]
    return [members.order_by("-created_at", "-id")]


def member_identifiers(*, member_id: int) -> list[MemberIdentifier]:
    return list(MemberIdentifier.objects.filter(member_id=member_id).order_by("kind", "created_at"))


def plate_binding_of(row: MemberIdentifier) -> PlateBinding:
    return PlateBinding(
        identifier_id=row.pk,
        member_id=row.member_id,
        plate=row.value,
        bound_at=row.created_at,
        verified_at=row.verified_at,
        verified_via=row.verified_via,
    )


def member_plate_bindings(*, member_id: int) -> list[PlateBinding]:
    """The member's plates, oldest binding first, each with whether (and how) it was verified."""
    rows = MemberIdentifier.objects.filter(member_id=member_id, kind=IdentifierKind.PLATE).order_by("created_at", "pk")
    return [plate_binding_of(row) for row in rows]


def plate_binding(*, mall_group_id: int, plate: str) -> PlateBinding | None:
    """Who holds a (normalised) plate in the group, verified or not (any member status: a plate of an erased or
    merged member's row is gone or moved, so a row found here is a live binding)."""
    row = MemberIdentifier.objects.filter(mall_group_id=mall_group_id, kind=IdentifierKind.PLATE, value=plate).first()
    return plate_binding_of(row) if row is not None else None


def plate_is_verified(*, member_id: int, plate: str) -> bool:
    """The frictionless exit charges only a plate its member has proved is theirs."""
    return MemberIdentifier.objects.filter(
        member_id=member_id, kind=IdentifierKind.PLATE, value=plate, verified_at__isnull=False
    ).exists()


def member_plates(*, member_id: int) -> list[str]:
    return list(
        MemberIdentifier.objects.filter(member_id=member_id, kind=IdentifierKind.PLATE)
        .order_by("created_at")
        .values_list("value", flat=True)
    )


def member_current_consents(*, member: Member) -> dict[str, bool]:
    current: dict[str, bool] = {}
    for consent in member.consents.order_by("recorded_at", "id"):
        current[consent.purpose] = consent.is_granted
    return current


@dataclass(frozen=True)
class MemberCode:
    code: str
    expires_in: int  # seconds until the next rotation
    card_no: str


def member_code_current(*, member: Member, now: float | None = None) -> MemberCode:
    step_seconds = settings.GALLERIA_MEMBER_CODE_STEP_SECONDS
    moment = time.time() if now is None else now
    step = rules.time_step(moment, step_seconds)
    code = rules.dynamic_code(
        key=settings.GALLERIA_MEMBER_CODE_KEY, member_id=member.pk, member_secret=member.code_secret, step=step
    )
    expires_in = int((step + 1) * step_seconds - moment) or step_seconds
    return MemberCode(code=code, expires_in=expires_in, card_no=member.card_no)


# ---------------------------------------------------------------- console: dashboard and member 360


@dataclass(frozen=True)
class MemberStats:
    """Member growth of a scope, aggregated in the database (a handful of queries whatever the member count)."""

    total: int
    new_today: int
    new_this_month: int
    active_30d: int
    by_channel: tuple[tuple[str, int], ...]  # (JoinChannel value, count), largest first
    by_mall: tuple[tuple[str, int], ...]  # (mall name, count), largest first
    daily: tuple[tuple[dt.date, int], ...]  # one row per mall-local day, oldest first, zero days included


def member_stats(
    *, mall_group_id: int | None, tz_name: str | None, days: int = 30, now: dt.datetime | None = None
) -> MemberStats:
    """KPIs of active members; "today", "this month" and the daily series are mall-local (`tz_name`)."""
    moment = now or timeutil.now()
    today = timeutil.local_date(moment, tz_name)
    today_start, today_end = timeutil.local_day_bounds(today, tz_name)
    month_start = timeutil.local_month_start(moment, tz_name)
    first_day = today - dt.timedelta(days=days - 1)
    window_start, _ = timeutil.local_day_bounds(first_day, tz_name)

    qs = Member.objects.filter(status=MemberStatus.ACTIVE).order_by()
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    totals = qs.aggregate(
        total=Count("id"),
        new_today=Count("id", filter=Q(created_at__gte=today_start, created_at__lt=today_end)),
        new_month=Count("id", filter=Q(created_at__gte=month_start, created_at__lt=today_end)),
        active=Count("id", filter=Q(last_active_at__gte=moment - dt.timedelta(days=30))),
    )
    by_channel = tuple(
        (row["join_channel"], row["n"])
        for row in qs.values("join_channel").annotate(n=Count("id")).order_by("-n", "join_channel")
    )
    by_mall = tuple(
        (row["join_mall__name"], row["n"])
        for row in qs.values("join_mall_id", "join_mall__name").annotate(n=Count("id")).order_by("-n", "join_mall_id")
    )
    per_day = {
        row["day"]: row["n"]
        for row in qs.filter(created_at__gte=window_start, created_at__lt=today_end)
        .annotate(day=TruncDate("created_at", tzinfo=timeutil.zone(tz_name)))
        .values("day")
        .annotate(n=Count("id"))
    }
    daily = tuple(
        (first_day + dt.timedelta(days=i), per_day.get(first_day + dt.timedelta(days=i), 0)) for i in range(days)
    )
    return MemberStats(
        total=totals["total"],
        new_today=totals["new_today"],
        new_this_month=totals["new_month"],
        active_30d=totals["active"],
        by_channel=by_channel,
        by_mall=by_mall,
        daily=daily,
    )


def member_consent_history(*, member_id: int) -> QuerySet[Consent]:
    """Every consent record of a member, newest first (the append-only PIPL trail)."""
    return Consent.objects.filter(member_id=member_id).order_by("-recorded_at", "-id")


# ---------------------------------------------------------------- consents: may we send marketing?

MARKETING_CHANNELS = tuple(MARKETING_PURPOSES)  # "sms", "wechat", "email"


def marketing_allowed_ids(*, member_ids: Sequence[int], channel: str) -> set[int]:
    """The members among `member_ids` we may send marketing to via `channel` ("sms", "wechat" or "email"):
    active members whose latest consent record for that channel's purpose is a grant. No record = no consent
    (PIPL: marketing is opt-in). Every marketing feature MUST filter its audience through this (or
    `marketing_allowed`) at send time, not at planning time: a withdrawal must stop the next message.
    Two queries whatever the number of members."""
    purpose = MARKETING_PURPOSES.get(channel)
    if purpose is None:
        raise ValueError(f"unknown marketing channel {channel!r}")
    ids = list(dict.fromkeys(int(i) for i in member_ids))
    if not ids:
        return set()
    active = set(Member.objects.filter(pk__in=ids, status=MemberStatus.ACTIVE).values_list("pk", flat=True))
    latest: dict[int, bool] = {}
    rows = (
        Consent.objects.filter(member_id__in=active, purpose=purpose)
        .order_by("member_id", "recorded_at", "id")
        .values_list("member_id", "is_granted")
    )
    for member_id, is_granted in rows:
        latest[member_id] = is_granted  # the last row per member wins
    return {member_id for member_id, granted in latest.items() if granted}


def marketing_allowed(*, member_id: int, channel: str) -> bool:
    """May we send marketing to this member via `channel` now? See `marketing_allowed_ids`."""
    return member_id in marketing_allowed_ids(member_ids=[member_id], channel=channel)


def consent_current(*, member_id: int, purpose: str) -> bool:
    """The member's current choice for one purpose (one indexed query); no record = the purpose's default
    (granted for the opt-out purposes, `OPT_OUT_PURPOSES`; not granted otherwise)."""
    latest = (
        Consent.objects.filter(member_id=member_id, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values_list("is_granted", flat=True)
        .first()
    )
    return purpose in OPT_OUT_PURPOSES if latest is None else bool(latest)


def consent_withdrawn_ids(*, mall_group_id: int, purpose: str) -> set[int]:
    """The group's members whose latest record for `purpose` is a refusal (for an opt-out purpose: those who
    switched it off). One query."""
    latest: dict[int, bool] = {}
    rows = (
        Consent.objects.filter(member__mall_group_id=mall_group_id, purpose=purpose)
        .order_by("member_id", "recorded_at", "id")
        .values_list("member_id", "is_granted")
    )
    for member_id, is_granted in rows:
        latest[member_id] = is_granted
    return {member_id for member_id, granted in latest.items() if not granted}


def segment_consent_granted(*, channel: str) -> sql.Fragment:
    """Members whose latest marketing consent for `channel` is a grant: a segment condition (the send itself
    checks consent again with `marketing_allowed_ids`)."""
    return members_sql.consent_granted_members(MARKETING_PURPOSES[channel])


def segment_plate_members(*, verified: bool) -> sql.Fragment:
    """Members with a plate bound (verified only, when asked): a segment condition."""
    return members_sql.plate_members(verified=verified)


def member_groups(*, member_ids: Sequence[int]) -> dict[int, int]:
    """{member id: mall group id} of the active members among these."""
    ids = sorted({int(i) for i in member_ids})
    found: dict[int, int] = {}
    for i in range(0, len(ids), 5000):
        found.update(
            Member.objects.filter(pk__in=ids[i : i + 5000], status=MemberStatus.ACTIVE).values_list(
                "pk", "mall_group_id"
            )
        )
    return found


def member_ids_in_group(*, mall_group_id: int, member_ids: Sequence[int]) -> list[int]:
    """The active members of the group among these, ascending."""
    ids = sorted({int(i) for i in member_ids})
    found: list[int] = []
    for i in range(0, len(ids), 5000):
        found += Member.objects.filter(
            pk__in=ids[i : i + 5000], mall_group_id=mall_group_id, status=MemberStatus.ACTIVE
        ).values_list("pk", flat=True)
    return sorted(found)


def member_phones(*, member_ids: Sequence[int]) -> dict[int, str]:
    """{member id: phone} of the active members among these that have a phone (a campaign's SMS chunk)."""
    return dict(
        Member.objects.filter(pk__in=list(member_ids), status=MemberStatus.ACTIVE)
        .exclude(phone="")
        .values_list("pk", "phone")
    )


def member_emails(*, member_ids: Sequence[int]) -> dict[int, str]:
    """{member id: e-mail address} of the active members among these that gave one (a marketing e-mail)."""
    return dict(
        Member.objects.filter(pk__in=list(member_ids), status=MemberStatus.ACTIVE)
        .exclude(email="")
        .values_list("pk", "email")
    )


def member_wechat_openids(*, member_ids: Sequence[int]) -> dict[int, str]:
    """{member id: WeChat openid} of the active members among these that signed in with WeChat (the recipient of
    an official-account template message or the mini-program's; messaging's `wechat_queue` takes it). A member with
    several openids gets the most recently added one."""
    rows = (
        MemberIdentifier.objects.filter(
            member_id__in=list(member_ids), kind=IdentifierKind.WECHAT_OPENID, member__status=MemberStatus.ACTIVE
        )
        .order_by("member_id", "pk")
        .values_list("member_id", "value")
    )
    return dict(rows)


def birthday_member_ids(*, mall_group_id: int, today: dt.date) -> list[int]:
    """The group's active members whose birthday is `today` (mall-local; a 29 February birthday counts on
    28 February in common years), ascending."""
    days = Q(birthday__month=today.month, birthday__day=today.day)
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        days |= Q(birthday__month=2, birthday__day=29)
    return list(members_active(mall_group_id=mall_group_id).filter(days).order_by("pk").values_list("pk", flat=True))


def member_group_ids(*, member_ids: Sequence[int]) -> dict[int, int]:
    """member → mall group, for the active members among these (a domain event names only the member)."""
    return dict(members_active().filter(pk__in=list(member_ids)).values_list("pk", "mall_group_id"))
