"""Member app home (the card, quick entries, the mall's published layout, the member code, recent bills), the
full-screen member code, and the rendering the console's layout preview shares with the home page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from galleria.content import rules as content_rules
from galleria.content.selectors import layout_live_blocks
from galleria.core import timeutil
from galleria.core.money import format_cny
from galleria.coupons.models import CouponTemplate
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.messaging.selectors import inbox_unread_count
from galleria.points.selectors import points_balance
from galleria.wallet.selectors import wallet_balance

from . import presenters
from .coupon_views import card_of, names, offers_for
from .presenters import for_you as for_you_presenters
from .presenters import home as home_presenters
from .screens import reader_of
from .views import _base_context, _code_context, member_view


def _wants_coupons(blocks: list[content_rules.Block]) -> bool:
    return any(b["type"] == "section" and b["kind"] == "claimable_coupons" for b in blocks)


def layout_context(
    *, mall: Mall, blocks: list[content_rules.Block], member: Member | None, unread: int = 0
) -> dict[str, Any]:
    """The home's layout blocks for a member, or for the console preview (member None)."""
    today = timeutil.local_date(timezone.now(), mall.timezone)
    visible = content_rules.visible_blocks(blocks, today=today)
    offers: list[dict[str, Any]] = []
    if _wants_coupons(visible):
        if member is not None:
            offers = [
                {"template_id": o["o"].template_id, "card": o["card"], "can_claim": o["o"].can_claim}
                for o in offers_for(member, mall)
            ]
        else:
            merchants, tiers = names(mall)
            templates: list[CouponTemplate] = home_presenters.claimable_templates(
                mall_group_id=mall.group_id, at=timezone.now()
            )
            offers = [{"template_id": t.pk, "card": card_of(t, merchants, tiers), "can_claim": True} for t in templates]
    wants_for_you = any(b["type"] == "section" and b["kind"] == "for_you" for b in visible)
    for_you = for_you_presenters.home_items(mall_group_id=mall.group_id, member=member) if wants_for_you else None
    return {
        "blocks": home_presenters.home_blocks(
            mall=mall, blocks=visible, today=today, coupon_offers=offers, unread=unread, for_you=for_you
        )
    }


@never_cache
@member_view
def home(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    tier = presenters.current_tier(member=member)
    unread = inbox_unread_count(reader=reader_of(member))
    ctx = {
        **_base_context(mall, member, tab="home"),
        **_code_context(member),
        **layout_context(
            mall=mall, blocks=layout_live_blocks(mall_group_id=mall.group_id), member=member, unread=unread
        ),
        "tier": tier,
        "tier_theme": home_presenters.tier_theme(tier.rank),
        "points_balance": points_balance(member_id=member.pk),
        "wallet_text": format_cny(wallet_balance(member_id=member.pk).total_fen),
        "unread": unread,
        "recent": presenters.recent_purchases(member=member, tz_name=mall.timezone),
    }
    return render(request, "app/home.html", ctx)


@never_cache
@member_view
def code(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    """htmx asks for the code panel (every 60 s); a plain visit gets the full-screen code page, which refreshes
    itself without JavaScript too (a meta refresh inside <noscript>)."""
    ctx = _code_context(member)
    if getattr(request, "htmx", False):
        return render(request, "app/_code.html", ctx)
    return render(request, "app/code.html", {**_base_context(mall, member, tab="home"), **ctx, "fullscreen": True})
