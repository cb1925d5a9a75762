"""The app home: the published layout (or the console's draft in preview) turned into what the page renders.

The same function serves the member's home and the console preview, so the preview is the page the app will show
(for the preview there is no member: sections list what any member could see).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from galleria.content import rules as content_rules
from galleria.content.selectors import images_by_id
from galleria.coupons.models import CouponTemplate, Promotion, TemplateStatus
from galleria.malls.models import Mall
from galleria.merchants.models import Merchant, MerchantStatus

# Quick entries: where each one goes and its icon (an SVG path; stroke icons, 24×24).
ENTRY_URLS = {
    "code": "app:code",
    "pay": "app:pay",
    "coupons": "app:coupons",
    "claim_centre": "app:claim_centre",
    "bills": "app:bills",
    "merchants": "app:merchants",
    "inbox": "app:inbox",
    "points": "app:points",
    "receipts": "app:receipts",
    "tier": "app:tier",
    "wallet": "app:wallet",
    "parking": "app:parking",
    "points_mall": "app:points_mall",
    "events": "app:events",
    "amenities": "app:amenities",
    "games": "app:games",
    "online_mall": "app:mall",
    "for_you": "app:for_you",
}
ENTRY_ICONS = {
    "code": "M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h2v2h-2zM18 18h2v2h-2zM14 18h2M18 14h2",
    "pay": "M3 6h18v12H3zM3 10h18M7 15h4",
    "coupons": (
        "M3 7a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v2.5a2.5 2.5 0 0 0 0 5V17"
        "a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-2.5a2.5 2.5 0 0 0 0-5z"
    ),
    "claim_centre": "M4 10h16v10H4zM3 7h18v3H3zM12 7v13M12 7c-1.5-3-5-3-5-1s3 1 5 1c2 0 5 1 5-1s-3.5-2-5 1",
    "bills": "M6 3h12v18l-3-2-3 2-3-2-3 2zM9 8h6M9 12h6M9 16h4",
    "merchants": "M4 9l1.5-5h13L20 9M4 9v11h16V9M4 9h16M9 20v-6h6v6",
    "inbox": "M4 5h16v14H4zM4 7l8 6 8-6",
    "points": "m12 3 2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z",
    "receipts": "M4 8h3l2-3h6l2 3h3v11H4zM12 9.5a3.5 3.5 0 1 0 0 7 3.5 3.5 0 0 0 0-7",
    "parking": "M6 3h7a5 5 0 0 1 0 10H9v8H6zM9 6v4h4a2 2 0 0 0 0-4z",
    "events": "M4 6h16v14H4zM4 10h16M8 3v5M16 3v5",
    "amenities": "M12 3a9 9 0 0 1 9 9H3a9 9 0 0 1 9-9zM12 12v7a2 2 0 0 1-4 0",
    "games": "M12 3a9 9 0 1 1 0 18 9 9 0 0 1 0-18zM12 3v9l6.4 6.4M12 12l-6.4 6.4M12 12H3",
    "points_mall": "M5 8h14l-1 12H6zM9 8V6a3 3 0 0 1 6 0v2",
    "online_mall": "M3 4h2l2.4 11h10.2L20 7H6.2M9 19.5a1 1 0 1 0 0 .01M17 19.5a1 1 0 1 0 0 .01",
}

# The card's colour by tier rank (the ladder has no colour field; rank 0 is the entry tier).
TIER_THEMES = ("tier-0", "tier-1", "tier-2", "tier-3")

HOME_COUPONS = 4
HOME_MERCHANTS = 6


def tier_theme(rank: int) -> str:
    return TIER_THEMES[max(0, min(len(TIER_THEMES) - 1, rank))]


@dataclass
class HomeBlock:
    type: str  # entries | banners | section
    id: str
    kind: str = ""
    title: str = ""
    text: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)


def page_url(key: str) -> str:
    return reverse(ENTRY_URLS[key]) if key in ENTRY_URLS else reverse("app:home")


def banner_href(block: content_rules.Block) -> str:
    kind, target = block["link_kind"], block["link_target"]
    if kind == "coupon":
        return reverse("app:claim_centre") + f"#offer-{int(target)}"
    if kind == "merchant":
        return reverse("app:merchant", args=[int(target)])
    if kind == "page":
        return page_url(target)
    if kind == "url":
        return str(target)
    return ""


def image_url(image_id: int, sha256: str) -> str:
    return reverse("app:image", args=[image_id, sha256])


def claimable_templates(*, mall_group_id: int, at: dt.datetime) -> list[CouponTemplate]:
    """Templates open for claiming now (member-independent: the claim centre decides per member)."""
    return list(
        CouponTemplate.objects.filter(mall_group_id=mall_group_id, status=TemplateStatus.ACTIVE, is_claimable=True)
        .filter(Q(claim_starts_at__isnull=True) | Q(claim_starts_at__lte=at))
        .filter(Q(claim_ends_at__isnull=True) | Q(claim_ends_at__gt=at))
        .order_by("pk")
    )


def merchants_with_offers(*, mall_group_id: int, at: dt.datetime, limit: int = HOME_MERCHANTS) -> list[Merchant]:
    """Merchants that own a claimable coupon or a promotion in force now."""
    ids = {t.merchant_id for t in claimable_templates(mall_group_id=mall_group_id, at=at) if t.merchant_id}
    ids |= set(
        Promotion.objects.filter(
            mall_group_id=mall_group_id,
            status=TemplateStatus.ACTIVE,
            merchant__isnull=False,
            starts_at__lte=at,
            ends_at__gt=at,
        ).values_list("merchant_id", flat=True)
    )
    if not ids:
        return []
    return list(
        Merchant.objects.filter(pk__in=ids, status=MerchantStatus.ACTIVE, mall__group_id=mall_group_id).order_by(
            "name", "pk"
        )[:limit]
    )


def home_blocks(
    *,
    mall: Mall,
    blocks: list[content_rules.Block],
    today: dt.date,
    coupon_offers: list[dict[str, Any]],
    unread: int = 0,
    for_you: list[dict[str, Any]] | None = None,
) -> list[HomeBlock]:
    """What the home page renders, in order. `coupon_offers`: rows {template_id, card, can_claim} (the member's
    claim centre; in preview every claimable template). Consecutive banners become one swipeable strip."""
    visible = content_rules.visible_blocks(blocks, today=today)
    images = images_by_id(mall_group_id=mall.group_id, ids=content_rules.image_ids(visible))
    now = timezone.now()
    out: list[HomeBlock] = []
    for block in visible:
        if block["type"] == "entries":
            items = [
                {
                    "key": key,
                    "label": content_rules.ENTRY_LABELS[key],
                    "url": page_url(key),
                    "icon": ENTRY_ICONS.get(key, ""),
                    "badge": unread if key == "inbox" else 0,
                }
                for key in block["keys"]
            ]
            out.append(HomeBlock(type="entries", id=block["id"], items=items))
        elif block["type"] == "banner":
            image = images.get(int(block["image_id"]))
            if image is None:
                continue
            item = {
                "src": image_url(image.pk, image.sha256),
                "alt": block["alt"],
                "href": banner_href(block),
                "external": block["link_kind"] == "url",
                "width": image.width,
                "height": image.height,
            }
            if out and out[-1].type == "banners":
                out[-1].items.append(item)
            else:
                out.append(HomeBlock(type="banners", id=block["id"], items=[item]))
        elif block["kind"] == "claimable_coupons":
            rows = [r for r in coupon_offers if r["can_claim"]][:HOME_COUPONS]
            out.append(HomeBlock(type="section", id=block["id"], kind=block["kind"], title=block["title"], items=rows))
        elif block["kind"] == "merchant_offers":
            merchants = merchants_with_offers(mall_group_id=mall.group_id, at=now)
            items = [{"id": m.pk, "name": m.name, "category": m.get_category_display()} for m in merchants]
            out.append(HomeBlock(type="section", id=block["id"], kind=block["kind"], title=block["title"], items=items))
        elif block["kind"] == "for_you":  # recommendations (docs/recommendations.md); None: switched off
            if for_you is not None:
                out.append(
                    HomeBlock(type="section", id=block["id"], kind=block["kind"], title=block["title"], items=for_you)
                )
        else:
            out.append(
                HomeBlock(type="section", id=block["id"], kind=block["kind"], title=block["title"], text=block["text"])
            )
    return out
