"""Reads of the dedupe area: duplicate candidates (SQL over the whole group, no Python pairwise loops), the two
sides of a pair, the merge preview and merge records. `HANDLED` is the registry of every foreign key to Member and
how a merge treats it (a test fails when a new foreign key is not in it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import ForeignObjectRel, Model, QuerySet

from galleria.core import sql
from galleria.coupons.models import CouponHolding
from galleria.ledger.models import Account, AccountKind
from galleria.members import rules as member_rules
from galleria.members.models import IdentifierKind, Member, MemberIdentifier, MemberStatus
from galleria.points.models import AdjustmentStatus, PointsAdjustment, PointsLot
from galleria.tiers.models import MemberTier
from galleria.wallet.models import TopUp, TopUpStatus

from . import rules
from .models import MergeRecord, MergeStatus, PairMark, PairMarkKind
from .types import CandidatePair, MemberSide, MergePreview

# ------------------------------------------------------------------------------ what a merge does per foreign key

MOVE = "move"  # every row moves to the survivor (ids recorded, moved back on un-merge)
MOVE_UNLESS_TAKEN = "move_unless_taken"  # rows move unless the survivor already has the same unique key; those stay
SPECIAL = "special"  # handled by dedicated code in services (balances, lots, tier, holdings, bookkeeping)
KEEP = "keep"  # stays with the absorbed member on purpose (provenance, requests about that identity)


@dataclass(frozen=True)
class Handling:
    label: str  # "app_label.Model": apps above dedupe's layer (imports, privacy) are named, never imported
    field: str
    how: str
    unique_with: tuple[str, ...] = ()  # MOVE_UNLESS_TAKEN: the other fields of the unique key with `member`
    why: str = ""

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self.label)


HANDLED: tuple[Handling, ...] = (
    Handling("members.MemberIdentifier", "member", MOVE, why="identifiers are unique per group: they all move"),
    Handling("members.Consent", "member", MOVE, why="append-only consent trail"),
    Handling("ledger.Account", "member", SPECIAL, why="balances move by MERGE ledger transactions; accounts stay"),
    Handling("wallet.TopUp", "member", MOVE, why="pending top-ups refuse the merge; key collisions refuse it too"),
    Handling("wallet.WalletPayment", "member", MOVE),
    Handling("wallet.BalanceRefund", "member", KEEP, why="paid to that identity; a pending one is then refused"),
    Handling("tiers.MemberTier", "member", SPECIAL, why="the survivor keeps the higher tier (MERGE tier change)"),
    Handling("tiers.TierChange", "member", MOVE, why="the absorbed member's tier history joins the survivor's"),
    Handling("tiers.TierSpend", "member", MOVE, why="qualifying spend counts for the survivor"),
    Handling("points.PointsLot", "member", SPECIAL, why="open lots are re-created on the survivor with their expiry"),
    Handling("points.BehaviourAward", "member", MOVE_UNLESS_TAKEN, ("event", "occasion")),
    Handling("points.PointsAdjustment", "member", MOVE, why="pending adjustments refuse the merge"),
    Handling("points.ExpiryNotice", "member", MOVE_UNLESS_TAKEN, ("expires_on",)),
    Handling("coupons.CouponHolding", "member", SPECIAL, why="moves unless the survivor holds the template"),
    Handling("coupons.Coupon", "member", MOVE, why="their status is recorded: a changed coupon blocks un-merge"),
    Handling("coupons.CouponRedemption", "member", MOVE),
    Handling("sales.Sale", "member", MOVE, why="refunds follow their sale"),
    Handling(
        "members.Member", "merged_into", SPECIAL, why="earlier merges into the absorbed member keep pointing at it"
    ),
    Handling(
        "dedupe.PairMark", "member_low", SPECIAL, why="dedupe bookkeeping: decisions stay about the original pair"
    ),
    Handling("dedupe.PairMark", "member_high", SPECIAL, why="dedupe bookkeeping"),
    Handling("dedupe.MergeRecord", "survivor", SPECIAL, why="dedupe bookkeeping"),
    Handling("dedupe.MergeRecord", "absorbed", SPECIAL, why="dedupe bookkeeping"),
    Handling("imports.ImportRow", "member", KEEP, why="provenance: the import row that created this member"),
    Handling("imports.OpeningBalance", "member", KEEP, why="provenance; the balance itself moves with the ledger"),
    Handling("privacy.PrivacyRequest", "member", KEEP, why="a PIPL request about that identity stays with it"),
)


def handled_keys() -> set[tuple[str, str]]:
    return {(h.label, h.field) for h in HANDLED if _installed(h.label)}


def _installed(label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def member_foreign_keys() -> set[tuple[str, str]]:
    """Every (model label, field name) of the project that points at Member, hidden reverse relations included."""
    found: set[tuple[str, str]] = set()
    for rel in Member._meta.get_fields(include_hidden=True):
        if isinstance(rel, ForeignObjectRel) and isinstance(rel.related_model, type):
            found.add((str(rel.related_model._meta.label), rel.field.name))
    return found


def movable_rows(handling: Handling, *, absorbed_id: int, survivor_id: int) -> QuerySet[Model]:
    """The absorbed member's rows that a merge moves for a MOVE / MOVE_UNLESS_TAKEN foreign key."""
    manager = handling.model._default_manager
    qs = manager.filter(**{f"{handling.field}_id": absorbed_id})
    if handling.how == MOVE_UNLESS_TAKEN:
        taken = manager.filter(**{f"{handling.field}_id": survivor_id}).values_list(*handling.unique_with)
        taken_keys = set(taken)
        if taken_keys:
            keep_ids = [row[0] for row in qs.values_list("pk", *handling.unique_with) if tuple(row[1:]) in taken_keys]
            qs = qs.exclude(pk__in=keep_ids)
    return qs.order_by("pk")


# ----------------------------------------------------------------------------------------- duplicate candidates


def _stripped(col: str) -> str:
    for ch in (" ", "-", "+", "(", ")", "."):
        col = f"REPLACE({col}, '{ch}', '')"
    return col


def _phone_key(col: str) -> tuple[str, str]:
    """(key expression, condition): the last 11 digits of a phone-like value (CN mobiles), whatever its format.
    Canonical E.164 mobiles (+861…, what services store) take a cheap path; anything else is stripped of
    separators and must then be 11–13 digits."""
    s = _stripped(col)
    canonical = f"({col} LIKE '+861%%' AND LENGTH({col}) = 14)"
    if connection.vendor == "postgresql":
        key, loose = f"RIGHT({s}, 11)", f"{s} ~ '^[0-9]{{11,13}}$' AND RIGHT({s}, 11) LIKE '1%%'"
    else:
        key = f"SUBSTR({s}, -11)"
        loose = f"LENGTH({s}) BETWEEN 11 AND 13 AND {s} NOT GLOB '*[^0-9]*' AND SUBSTR({s}, -11) LIKE '1%%'"
    return f"CASE WHEN {canonical} THEN SUBSTR({col}, 4) ELSE {key} END", f"({canonical} OR ({loose}))"


@cache
def _candidates_sql(vendor: str, *, pair_only: bool = False) -> str:
    m, i, pm = sql.table(Member), sql.table(MemberIdentifier), sql.table(PairMark)
    m_phone, m_phone_ok = _phone_key("m.phone")
    i_phone, i_phone_ok = _phone_key("i.value")
    agg = "STRING_AGG(kind, ',')" if vendor == "postgresql" else "GROUP_CONCAT(kind, ',')"
    weights = " ".join(f"WHEN '{k}' THEN {w}" for k, w in rules.WEIGHTS.items())
    ident = f"FROM {i} i JOIN ms m ON m.id = i.member_id WHERE i.mall_group_id = %s"
    only = " AND id IN (%s, %s)" if pair_only else ""
    return f"""
WITH ms AS (
  SELECT id, phone, card_no, name, birthday, email FROM {m} WHERE mall_group_id = %s AND status = %s{only}
),
keys (member_id, kind, k) AS (
  SELECT m.id, '{rules.PHONE}', {m_phone} FROM ms m WHERE {m_phone_ok}
  UNION ALL SELECT i.member_id, '{rules.PHONE}', SUBSTR(i.value, 4) {ident}
    AND i.kind = '{IdentifierKind.PHONE}' AND i.value LIKE '+861%%'
  UNION ALL SELECT i.member_id, '{rules.PHONE}', {i_phone} {ident}
    AND i.kind = '{IdentifierKind.PHYSICAL_CARD}' AND {i_phone_ok}
  UNION ALL SELECT m.id, '{rules.CARD}', m.card_no FROM ms m WHERE m.card_no <> ''
  UNION ALL SELECT i.member_id, '{rules.CARD}', i.value {ident}
    AND i.kind IN ('{IdentifierKind.CARD}', '{IdentifierKind.PHYSICAL_CARD}')
  UNION ALL SELECT i.member_id, '{rules.UNIONID}', i.value {ident} AND i.kind = '{IdentifierKind.WECHAT_UNIONID}'
  UNION ALL SELECT i.member_id, '{rules.PLATE}', i.value {ident} AND i.kind = '{IdentifierKind.PLATE}'
  UNION ALL SELECT m.id, '{rules.NAME_BIRTHDAY}', LOWER(TRIM(m.name)) || '|' || CAST(m.birthday AS TEXT)
    FROM ms m WHERE TRIM(m.name) <> '' AND m.birthday IS NOT NULL
  UNION ALL SELECT m.id, '{rules.EMAIL}', LOWER(TRIM(m.email)) FROM ms m WHERE TRIM(m.email) <> ''
),
dk AS (SELECT DISTINCT member_id, kind, k FROM keys),
hot AS (SELECT kind, k FROM dk GROUP BY kind, k HAVING COUNT(*) BETWEEN 2 AND {rules.MAX_SHARED}),
hk AS (SELECT dk.member_id, dk.kind, dk.k FROM dk JOIN hot ON hot.kind = dk.kind AND hot.k = dk.k),
ev AS (
  SELECT DISTINCT a.member_id AS lo, b.member_id AS hi, a.kind AS kind
    FROM hk a JOIN hk b ON b.kind = a.kind AND b.k = a.k AND b.member_id > a.member_id
  UNION SELECT p.member_low_id, p.member_high_id, '{rules.REPORTED}' FROM {pm} p
    JOIN ms a ON a.id = p.member_low_id JOIN ms b ON b.id = p.member_high_id
    WHERE p.mall_group_id = %s AND p.kind = '{PairMarkKind.REPORTED}'
),
pairs AS (SELECT lo, hi, SUM(CASE kind {weights} ELSE 0 END) AS score, {agg} AS kinds FROM ev GROUP BY lo, hi),
cmp AS (
  SELECT p.lo, p.hi, p.score, p.kinds, {_compare("a.name", "b.name", text=True)} AS name_rel,
    {_compare("a.birthday", "b.birthday")} AS birthday_rel
  FROM pairs p JOIN ms a ON a.id = p.lo JOIN ms b ON b.id = p.hi
)
SELECT lo, hi, score, kinds, name_rel, birthday_rel FROM cmp p
WHERE NOT EXISTS (
  SELECT 1 FROM {pm} d WHERE d.member_low_id = p.lo AND d.member_high_id = p.hi AND d.kind = '{PairMarkKind.DISMISSED}'
)
ORDER BY score
  + CASE WHEN name_rel = {rules.SAME} AND birthday_rel <> {rules.SAME} THEN {rules.SAME_NAME_BONUS}
         WHEN name_rel = {rules.DIFFERENT} THEN -{rules.DIFFERENT_NAME_PENALTY} ELSE 0 END
  + CASE WHEN birthday_rel = {rules.DIFFERENT} THEN -{rules.DIFFERENT_BIRTHDAY_PENALTY} ELSE 0 END DESC, lo, hi
LIMIT {rules.MAX_PAIRS}
"""  # noqa: S608 - table names and constants are ours


def _compare(a: str, b: str, *, text: bool = False) -> str:
    """SQL for rules.SAME / DIFFERENT / UNKNOWN between two columns of the pair (names trimmed, lower-cased)."""
    if text:
        a, b = f"LOWER(TRIM(COALESCE({a}, '')))", f"LOWER(TRIM(COALESCE({b}, '')))"
        missing = f"{a} = '' OR {b} = ''"
    else:
        missing = f"{a} IS NULL OR {b} IS NULL"
    return f"CASE WHEN {missing} THEN {rules.UNKNOWN} WHEN {a} = {b} THEN {rules.SAME} ELSE {rules.DIFFERENT} END"


def duplicate_candidates(*, mall_group_id: int, kind: str = "") -> list[CandidatePair]:
    """Likely duplicate pairs of active members of a group, highest score first (at most rules.MAX_PAIRS).

    One SQL statement: every member's keys (normalised phones from display copies and phone-like identifiers, card
    numbers, unionids, plates, name + birthday, e-mail), keys shared by 2..MAX_SHARED members, self-joined into
    pairs, scored by GROUP BY, each pair's names and birthdays compared, dismissed pairs left out, ordered by the
    adjusted score. `kind` keeps only pairs with that evidence. `rules.score` gives the final score."""
    params = [mall_group_id, MemberStatus.ACTIVE, *[mall_group_id] * 5, mall_group_id]
    found = [_row(row) for row in sql.rows(_candidates_sql(connection.vendor), params)]
    if kind:
        found = [row for row in found if kind in row[2]]
    group_of = rules.groups((lo, hi) for lo, hi, *_rest in found)
    sizes = Counter(group_of.values())
    out = [
        CandidatePair(
            low_id=lo,
            high_id=hi,
            score=rules.score(kinds, name=name, birthday=birthday),
            kinds=kinds,
            group_id=group_of[lo],
            group_size=sizes[group_of[lo]],
            signals=rules.signals(kinds, name=name, birthday=birthday),
        )
        for lo, hi, kinds, name, birthday in found
    ]
    out.sort(key=lambda p: (-p.score, p.group_id, p.low_id, p.high_id))
    return out


def _row(row: tuple[Any, ...]) -> tuple[int, int, tuple[str, ...], int, int]:
    """(low id, high id, evidence kinds, name comparison, birthday comparison) of one row of the statement."""
    lo, hi, _score, kinds, name, birthday = row
    return int(lo), int(hi), tuple(sorted(set(str(kinds).split(",")))), int(name), int(birthday)


def pair_candidate(*, mall_group_id: int, a_id: int, b_id: int) -> CandidatePair | None:
    """The evidence between two members only (the same statement restricted to them; None when nothing matches
    or the pair was dismissed). Cheap whatever the size of the group; keys are not checked for being junk."""
    low, high = rules.ordered(a_id, b_id)
    params = [mall_group_id, MemberStatus.ACTIVE, low, high, *[mall_group_id] * 5, mall_group_id]
    for row in sql.rows(_candidates_sql(connection.vendor, pair_only=True), params):
        lo, hi, kinds, name, birthday = _row(row)
        if (lo, hi) == (low, high):
            return CandidatePair(
                lo,
                hi,
                rules.score(kinds, name=name, birthday=birthday),
                kinds,
                lo,
                2,
                rules.signals(kinds, name=name, birthday=birthday),
            )
    return None


def member_sides(
    *, mall_group_id: int, member_ids: list[int], show_pii: bool, reveal_phones: bool = False
) -> dict[int, MemberSide]:
    """The report's view of members (a few queries for a page, whatever its size). Phones are masked, as on every
    other screen, unless `reveal_phones` (a deliberate, audited act of a viewer who may see personal data); names,
    birthdays and e-mails are shown to viewers who may see personal data (`show_pii`), masked or hidden otherwise."""
    members = list(Member.objects.filter(mall_group_id=mall_group_id, pk__in=member_ids))
    plates: dict[int, list[str]] = {}
    unionids: set[int] = set()
    for member_id, kind, value in MemberIdentifier.objects.filter(
        member_id__in=member_ids, kind__in=[IdentifierKind.PLATE, IdentifierKind.WECHAT_UNIONID]
    ).values_list("member_id", "kind", "value"):
        if kind == IdentifierKind.PLATE:
            plates.setdefault(member_id, []).append(value)
        else:
            unionids.add(member_id)
    balances: dict[tuple[int, str], int] = {
        (a, k): b or 0
        for a, k, b in Account.objects.filter(member_id__in=member_ids).values_list("member_id", "kind", "balance")
    }
    tiers = dict(MemberTier.objects.filter(member_id__in=member_ids).values_list("member_id", "level__name"))
    out = {}
    for m in members:
        out[m.pk] = MemberSide(
            id=m.pk,
            name=m.name if show_pii else member_rules.mask_name(m.name),
            phone=(member_rules.national_phone(m.phone) if reveal_phones else member_rules.mask_phone(m.phone))
            if m.phone
            else "",
            card_no=m.card_no,
            birthday=m.birthday if show_pii else None,
            email=m.email if show_pii else (f"{m.email[:1]}***@{m.email.partition('@')[2]}" if m.email else ""),
            plates=tuple(sorted(plates.get(m.pk, []))),
            has_unionid=m.pk in unionids,
            joined_at=m.created_at,
            points=balances.get((m.pk, AccountKind.MEMBER_POINTS), 0),
            wallet_fen=balances.get((m.pk, AccountKind.MEMBER_WALLET), 0)
            + balances.get((m.pk, AccountKind.MEMBER_WALLET_BONUS), 0),
            tier=tiers.get(m.pk, ""),
        )
    return out


def pair_members(*, mall_group_id: int | None, a_id: int, b_id: int) -> tuple[Member, Member]:
    """Both members of a pair inside the scope's group (Member.DoesNotExist otherwise: a 404)."""
    qs = Member.objects.all() if mall_group_id is None else Member.objects.filter(mall_group_id=mall_group_id)
    a, b = qs.get(pk=a_id), qs.get(pk=b_id)
    return a, b


# ------------------------------------------------------------------------------------------------ merge preview


def merge_problems(*, survivor: Member, absorbed: Member) -> list[str]:
    """Error codes that refuse this merge now (the service re-checks them under the row locks)."""
    problems = []
    if survivor.pk == absorbed.pk:
        problems.append("dedupe.same_member")
    if survivor.mall_group_id != absorbed.mall_group_id:
        problems.append("dedupe.different_groups")
    if survivor.status != MemberStatus.ACTIVE or absorbed.status != MemberStatus.ACTIVE:
        problems.append("dedupe.member_not_active")
    ids = [survivor.pk, absorbed.pk]
    if TopUp.objects.filter(member_id__in=ids, status=TopUpStatus.PENDING).exists():
        problems.append("dedupe.pending_topup")
    if PointsAdjustment.objects.filter(member_id__in=ids, status=AdjustmentStatus.PENDING).exists():
        problems.append("dedupe.pending_adjustment")
    keys = (
        TopUp.objects.filter(member_id=absorbed.pk)
        .exclude(idempotency_key="")
        .values_list("idempotency_key", flat=True)
    )
    if TopUp.objects.filter(member_id=survivor.pk, idempotency_key__in=list(keys)).exists():
        problems.append("dedupe.key_conflict")
    return problems


def merge_preview(*, survivor: Member, absorbed: Member) -> MergePreview:
    rows = []
    for h in HANDLED:
        if h.how in (MOVE, MOVE_UNLESS_TAKEN):
            n = movable_rows(h, absorbed_id=absorbed.pk, survivor_id=survivor.pk).count()
            if n:
                rows.append((h.label, n))
    holdings = CouponHolding.objects.filter(member_id=absorbed.pk).count()
    if holdings:
        rows.append((str(CouponHolding._meta.label), holdings))
    balances = dict(Account.objects.filter(member_id=absorbed.pk).values_list("kind", "balance"))
    lots = tuple(
        PointsLot.objects.filter(member_id=absorbed.pk, remaining__gt=0)
        .order_by("expires_on", "pk")
        .values_list("remaining", "expires_on")
    )
    tiers = {
        t.member_id: t.level
        for t in MemberTier.objects.filter(member_id__in=[survivor.pk, absorbed.pk]).select_related("level")
    }
    s_level, a_level = tiers.get(survivor.pk), tiers.get(absorbed.pk)
    after = s_level
    if a_level is not None and (s_level is None or a_level.rank > s_level.rank):
        after = a_level
    return MergePreview(
        survivor_id=survivor.pk,
        absorbed_id=absorbed.pk,
        rows=tuple(rows),
        points=balances.get(AccountKind.MEMBER_POINTS) or 0,
        wallet_principal_fen=balances.get(AccountKind.MEMBER_WALLET) or 0,
        wallet_bonus_fen=balances.get(AccountKind.MEMBER_WALLET_BONUS) or 0,
        lots=lots,
        tier_before=s_level.name if s_level else "",
        tier_after=after.name if after else "",
        problems=tuple(merge_problems(survivor=survivor, absorbed=absorbed)),
    )


# ------------------------------------------------------------------------------------------------ merge records


def merge_list(*, mall_group_id: int | None, member_id: int | None = None) -> QuerySet[MergeRecord]:
    qs = MergeRecord.objects.select_related("survivor", "absorbed").order_by("-merged_at", "-pk")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if member_id is not None:
        qs = qs.filter(survivor_id=member_id) | qs.filter(absorbed_id=member_id)
    return qs


def merge_get(*, mall_group_id: int | None, merge_id: int) -> MergeRecord:
    qs = MergeRecord.objects.select_related("survivor", "absorbed")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.get(pk=merge_id)


def live_merge_of(*, absorbed_id: int) -> MergeRecord | None:
    return MergeRecord.objects.filter(absorbed_id=absorbed_id, status=MergeStatus.MERGED).first()
