"""Reads of the receipts area. Every read is scoped: by member, by mall group, or by merchant."""

from __future__ import annotations

import datetime as dt

from django.core.files.storage import default_storage
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from galleria.core import timeutil
from galleria.merchants.selectors import merchant_list

from .models import Receipt, ReceiptBlock, ReceiptMerchantAlias, ReceiptSettings
from .types import COUNTED_STATUSES, AliasKind, MerchantCandidate, ReceiptStatus, ReviewCounters

PHASH_WINDOW_DAYS = 120
PHASH_CANDIDATES = 5000


def settings_for(*, mall_group_id: int) -> ReceiptSettings:
    """The group's rules (defaults, unsaved, when it never changed them)."""
    found = ReceiptSettings.objects.filter(mall_group_id=mall_group_id).first()
    return found if found is not None else ReceiptSettings(mall_group_id=mall_group_id)


def merchant_accepts(*, rules: ReceiptSettings, merchant_id: int) -> bool:
    return rules.all_merchants or merchant_id in {int(i) for i in rules.accepted_merchant_ids or []}


def merchant_options(*, mall_group_id: int, accepting_only: bool = False) -> list[tuple[int, str]]:
    """(id, name) of the group's active merchants (those that accept receipts, when asked)."""
    rules = settings_for(mall_group_id=mall_group_id)
    rows = merchant_list(mall_group_id=mall_group_id, status="active").values_list("pk", "name")
    return [(pk, name) for pk, name in rows if not accepting_only or merchant_accepts(rules=rules, merchant_id=pk)]


def merchant_candidates(*, mall_group_id: int) -> list[MerchantCandidate]:
    """What the parser matches shops against: names, aliases and registered numbers of accepting merchants."""
    merchants = merchant_options(mall_group_id=mall_group_id, accepting_only=True)
    aliases: dict[int, list[tuple[str, str]]] = {}
    for merchant_id, kind, value in ReceiptMerchantAlias.objects.filter(
        merchant_id__in=[pk for pk, _n in merchants]
    ).values_list("merchant_id", "kind", "value"):
        aliases.setdefault(merchant_id, []).append((kind, value))
    return [
        MerchantCandidate(
            merchant_id=pk,
            name=name,
            aliases=tuple(v for k, v in aliases.get(pk, []) if k == AliasKind.ALIAS),
            tax_numbers=tuple(v for k, v in aliases.get(pk, []) if k == AliasKind.TAX_NO),
        )
        for pk, name in merchants
    ]


def alias_list(*, mall_group_id: int) -> QuerySet[ReceiptMerchantAlias]:
    return (
        ReceiptMerchantAlias.objects.filter(merchant__mall__group_id=mall_group_id)
        .select_related("merchant")
        .order_by("merchant__name", "kind", "value")
    )


def block_list(*, mall_group_id: int) -> QuerySet[ReceiptBlock]:
    return ReceiptBlock.objects.filter(mall_group_id=mall_group_id).select_related("member").order_by("-created_at")


def is_blocked(*, mall_group_id: int, member_id: int) -> bool:
    return ReceiptBlock.objects.filter(mall_group_id=mall_group_id, member_id=member_id).exists()


def receipt_get(
    *,
    receipt_id: int,
    mall_group_id: int | None = None,
    member_id: int | None = None,
    merchant_id: int | None = None,
) -> Receipt | None:
    """One receipt inside a scope (None when it does not exist or lies outside it)."""
    qs = Receipt.objects.select_related("merchant", "member")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return qs.filter(pk=receipt_id).first()


def member_receipts(*, member_id: int) -> QuerySet[Receipt]:
    return Receipt.objects.filter(member_id=member_id).select_related("merchant").order_by("-created_at", "-pk")


def member_counts(*, member_id: int, now: dt.datetime, tz_name: str | None) -> tuple[int, int]:
    """Receipts the member submitted today and this month (mall-local)."""
    day_start, _end = timeutil.local_day_bounds(timeutil.local_date(now, tz_name), tz_name)
    month_start = timeutil.local_month_start(now, tz_name)
    row = Receipt.objects.filter(
        member_id=member_id, status__in=COUNTED_STATUSES, submitted_at__gte=min(day_start, month_start)
    ).aggregate(
        today=Count("pk", filter=Q(submitted_at__gte=day_start)),
        month=Count("pk", filter=Q(submitted_at__gte=month_start)),
    )
    return int(row["today"] or 0), int(row["month"] or 0)


def image_neighbours(*, mall_group_id: int, exclude_id: int | None = None) -> list[tuple[int, str]]:
    """(id, perceptual hash) of the group's recent photos, for near-duplicate checks."""
    since = timezone.now() - dt.timedelta(days=PHASH_WINDOW_DAYS)
    qs = Receipt.objects.filter(mall_group_id=mall_group_id, created_at__gte=since).exclude(image_phash="")
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.order_by("-pk").values_list("pk", "image_phash")[:PHASH_CANDIDATES])


def same_sale_other_member(
    *, receipt_id: int, member_id: int, merchant_id: int, amount_fen: int, occurred_at: dt.datetime
) -> bool:
    """Another member's receipt of the same shop, amount and minute."""
    minute = occurred_at.replace(second=0, microsecond=0)
    return (
        Receipt.objects.filter(
            merchant_id=merchant_id,
            amount_fen=amount_fen,
            occurred_at__gte=minute,
            occurred_at__lt=minute + dt.timedelta(minutes=1),
            status__in=[*COUNTED_STATUSES, ReceiptStatus.REJECTED],
        )
        .exclude(member_id=member_id)
        .exclude(pk=receipt_id)
        .exists()
    )


def review_list(
    *,
    mall_group_id: int | None,
    status: str = ReceiptStatus.PENDING,
    merchant_id: int | None = None,
    flagged: bool | None = None,
    query: str = "",
) -> QuerySet[Receipt]:
    qs = Receipt.objects.select_related("merchant", "member")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if status:
        qs = qs.filter(status=status)
    if merchant_id:
        qs = qs.filter(merchant_id=merchant_id)
    if flagged is True:
        qs = qs.exclude(flags=[])
    elif flagged is False:
        qs = qs.filter(flags=[])
    q = query.strip()[:40]
    if q:
        qs = qs.filter(Q(receipt_no__icontains=q) | Q(member__card_no=q) | Q(pk=int(q) if q.isdigit() else 0))
    order = "submitted_at" if status == ReceiptStatus.PENDING else "-created_at"
    return qs.order_by(order, "pk")


def review_counters(*, mall_group_id: int | None, now: dt.datetime | None = None) -> ReviewCounters:
    now = now or timezone.now()
    qs = Receipt.objects.filter(status=ReceiptStatus.PENDING)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    row = qs.aggregate(
        waiting=Count("pk"),
        flagged=Count("pk", filter=~Q(flags=[])),
        merchant=Count("pk", filter=Q(needs_merchant=True)),
        oldest=Min("submitted_at"),
        over_day=Count("pk", filter=Q(submitted_at__lt=now - dt.timedelta(days=1))),
        over_hour=Count("pk", filter=Q(submitted_at__lt=now - dt.timedelta(hours=1))),
    )
    return ReviewCounters(
        waiting=int(row["waiting"] or 0),
        flagged=int(row["flagged"] or 0),
        oldest_at=row["oldest"],
        waiting_merchant=int(row["merchant"] or 0),
        by_age={"hour": int(row["over_hour"] or 0), "day": int(row["over_day"] or 0)},
    )


def receipts_waiting_for_merchant(merchant_id: int) -> int:
    """Receipts of this merchant waiting for its confirmation in the portal (the portal home shows it)."""
    return Receipt.objects.filter(merchant_id=merchant_id, status=ReceiptStatus.PENDING, needs_merchant=True).count()


def merchant_receipts(*, merchant_id: int, waiting: bool) -> QuerySet[Receipt]:
    qs = Receipt.objects.filter(merchant_id=merchant_id, needs_merchant=True).select_related("member")
    if waiting:
        return qs.filter(status=ReceiptStatus.PENDING).order_by("submitted_at", "pk")
    return qs.exclude(status=ReceiptStatus.PENDING).order_by("-decided_at", "-pk")


def image_bytes(*, receipt: Receipt) -> bytes | None:
    """The stored photo, or None once the retention job removed it."""
    if not receipt.image_name:
        return None
    try:
        with default_storage.open(receipt.image_name, "rb") as handle:
            data: bytes = handle.read()
            return data
    except (FileNotFoundError, OSError):
        return None


def purge_candidates(*, before: dt.datetime, mall_group_id: int) -> QuerySet[Receipt]:
    """Photos of decided receipts (and abandoned drafts) created before `before`."""
    return Receipt.objects.filter(
        mall_group_id=mall_group_id,
        created_at__lt=before,
        image_deleted_at__isnull=True,
        status__in=[
            ReceiptStatus.APPROVED,
            ReceiptStatus.REJECTED,
            ReceiptStatus.REVERSED,
            ReceiptStatus.DRAFT,
            ReceiptStatus.READING,
        ],
    ).exclude(image_name="")


def groups_with_receipts() -> list[int]:
    return list(Receipt.objects.order_by().values_list("mall_group_id", flat=True).distinct())
