"""Reads of the dedupe area: duplicate candidates (SQL over the whole group, no Python pairwise loops), the two
sides of a pair, the merge preview and merge records. `HANDLED` is the registry of every foreign key to Member and
how a merge treats it (a test fails when a new foreign key is not in it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import ForeignObjectRel, Model, QuerySet

from galleria.coupons.models import CouponHolding
from galleria.ledger.models import Account, AccountKind
from galleria.members import rules as member_rules
from galleria.members import selectors as member_selectors
from galleria.members.models import IdentifierKind, Member, MemberIdentifier
from galleria.points.models import AdjustmentStatus, PointsAdjustment, PointsLot
from galleria.tiers.models import MemberTier
from galleria.wallet.selectors import topup_keys_clash, topups_pending_exist

from . import rules
from . import sql as dedupe_sql
from .models import MergeRecord, MergeStatus
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
    plain: bool = False  # `field` is a plain member id column (an app below members: no foreign key to Member)

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self.label)

    @property
    def column(self) -> str:
        """The attribute holding the member's id: `<field>_id` of a foreign key, or the plain column itself."""
        return self.field if self.plain else f"{self.field}_id"


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
    Handling("receipts.Receipt", "member", MOVE, why="receipts follow their sales (and count toward the limits)"),
    Handling(
        "payments.PaymentAttempt",
        "member",
        MOVE_UNLESS_TAKEN,
        ("idempotency_key",),
        why="gateway payments follow their sales and top-ups (one still waiting is recorded for the survivor)",
    ),
    Handling("payments.MallTransaction", "member", MOVE, why="商圈 payments follow their payment_link sales"),
    Handling("parking.ParkingSession", "member", MOVE, why="parking stays follow their sales and plates"),
    Handling("parking.ParkingProfile", "member", KEEP, why="the survivor keeps its own frictionless-exit choice"),
    Handling(
        "parking.PlateClaim",
        "member",
        MOVE_UNLESS_TAKEN,
        ("plate",),
        why="licence photo claims follow the plates (one waiting claim per member and plate)",
    ),
    Handling(
        "commerce.Order",
        "member",
        MOVE_UNLESS_TAKEN,
        ("idempotency_key",),
        why="points-mall orders follow their sales (pickup codes keep working)",
    ),
    Handling(
        "commerce.MemberQuota",
        "member",
        MOVE_UNLESS_TAKEN,
        ("product",),
        why="the per-item lock row; limits are counted from the orders, which move",
    ),
    Handling(
        "commerce.Checkout",
        "member",
        MOVE_UNLESS_TAKEN,
        ("idempotency_key",),
        why="online checkouts follow their orders; one still waiting is paid with the survivor's accounts",
    ),
    Handling(
        "commerce.CartItem",
        "member",
        MOVE_UNLESS_TAKEN,
        ("sku",),
        why="the cart joins the survivor's; a SKU already in the survivor's cart stays",
    ),
    Handling(
        "commerce.ReturnRequest",
        "member",
        MOVE_UNLESS_TAKEN,
        ("idempotency_key",),
        why="after-sales requests follow their orders",
    ),
    Handling("commerce.Review", "member", MOVE, why="reviews follow the order lines they are about"),
    Handling(
        "events.Registration",
        "member",
        MOVE_UNLESS_TAKEN,
        ("event",),
        why="tickets follow the person; a registration for an event the survivor also holds stays (one live each)",
    ),
    Handling(
        "receipts.ReceiptBlock",
        "member",
        MOVE_UNLESS_TAKEN,
        ("mall_group",),
        why="the same person: a block on either identity blocks the survivor",
    ),
    Handling(
        "audience.MemberProfile",
        "member",
        KEEP,
        why="derived: the next audience pass drops the absorbed member's and recomputes the survivor's",
    ),
    Handling(
        "audience.MemberTag",
        "member",
        MOVE_UNLESS_TAKEN,
        ("tag",),
        why="manual tags follow the person (automatic ones are recomputed by the next pass)",
    ),
    Handling(
        "campaigns.CampaignMember",
        "member",
        KEEP,
        why="a campaign's arms were drawn for that identity; its report stays as it was measured",
    ),
    Handling("campaigns.MarketingSend", "member", MOVE, why="messages received count toward the survivor's weekly cap"),
    Handling(
        "apiauth.MemberDevice",
        "member",
        KEEP,
        why="devices signed in as the absorbed member stop working (bearer sign-in needs an active member)",
    ),
    Handling(
        "journeys.Enrollment",
        "member",
        KEEP,
        why="a journey's steps were done for that identity; the absorbed member's sends stop (it is no longer active)",
    ),
    Handling(
        "games.Draw",
        "member",
        KEEP,
        why="a draw's number is derived from its member id (the published seed scheme): moved, it would not verify",
    ),
    Handling("games.Player", "member", KEEP, why="play counters of that identity (their draws stay with it)"),
    Handling(
        "games.CheckInDay",
        "member",
        KEEP,
        why="check-in days and streaks stay with the identity that checked in: a merge must not make a streak",
    ),
    Handling("games.StreakReward", "member", KEEP, why="rewards paid to that identity for its own streaks"),
    Handling(
        "amenities.Rental",
        "member",
        KEEP,
        why="an item lent to that identity against a deposit held on its accounts; it is returned against them",
    ),
    Handling(
        "amenities.Booking",
        "member",
        MOVE_UNLESS_TAKEN,
        ("slot",),
        why="bookings follow the person; one for a slot the survivor also booked stays (one live each)",
    ),
    # messaging sits below members: plain member id columns, no foreign key
    Handling("messaging.InboxMessage", "member_id", MOVE, why="messages addressed to the person", plain=True),
    Handling("messaging.InboxRead", "member_id", MOVE_UNLESS_TAKEN, ("message",), why="read marks", plain=True),
    Handling("messaging.PushSubscription", "member_id", MOVE, why="the person's browsers keep notifying", plain=True),
    Handling("messaging.WechatSubscription", "member_id", MOVE, why="accepts the person gave stay usable", plain=True),
)


def handled_keys() -> set[tuple[str, str]]:
    return {(h.label, h.field) for h in HANDLED if not h.plain and _installed(h.label)}


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
    qs = manager.filter(**{handling.column: absorbed_id})
    if handling.how == MOVE_UNLESS_TAKEN:
        taken = manager.filter(**{handling.column: survivor_id}).values_list(*handling.unique_with)
        taken_keys = set(taken)
        if taken_keys:
            keep_ids = [row[0] for row in qs.values_list("pk", *handling.unique_with) if tuple(row[1:]) in taken_keys]
            qs = qs.exclude(pk__in=keep_ids)
    return qs.order_by("pk")


# ----------------------------------------------------------------------------------------- duplicate candidates


def duplicate_candidates(*, mall_group_id: int, kind: str = "") -> list[CandidatePair]:
    """Likely duplicate pairs of active members of a group, highest score first (at most rules.MAX_PAIRS).

    One SQL statement: every member's keys (normalised phones from display copies and phone-like identifiers, card
    numbers, unionids, plates, name + birthday, e-mail), keys shared by 2..MAX_SHARED members, self-joined into
    pairs, scored by GROUP BY, each pair's names and birthdays compared, dismissed pairs left out, ordered by the
    adjusted score. `kind` keeps only pairs with that evidence. `rules.score` gives the final score."""
    found = [
        _row(row)
        for row in dedupe_sql.candidate_rows(mall_group_id=mall_group_id, status=member_selectors.ACTIVE_STATUS)
    ]
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
    for row in dedupe_sql.candidate_rows(
        mall_group_id=mall_group_id, status=member_selectors.ACTIVE_STATUS, pair=(low, high)
    ):
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
    if not (survivor.is_active and absorbed.is_active):
        problems.append("dedupe.member_not_active")
    ids = [survivor.pk, absorbed.pk]
    if topups_pending_exist(member_ids=ids):
        problems.append("dedupe.pending_topup")
    if PointsAdjustment.objects.filter(member_id__in=ids, status=AdjustmentStatus.PENDING).exists():
        problems.append("dedupe.pending_adjustment")
    if topup_keys_clash(member_id=survivor.pk, other_member_id=absorbed.pk):
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
