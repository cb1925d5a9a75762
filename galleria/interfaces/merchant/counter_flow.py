"""The merchant counter's pieces that are not views: who the member is between two requests, what the basket form
says as the checkout pipeline's input, and what the screens show (masked).

The counter is a channel of the checkout pipeline (docs/merchant-counter.md): it builds a `SaleIn` with
`channel=counter`, quotes it with `sales.selectors.sale_quote` and records it with `sales.services.sale_commit_in_tx`
inside `core.idempotency.run_idempotent`, and holds no pricing, points or coupon rule of its own.

- **The member ticket.** Once the clerk has scanned the member's dynamic code (valid for a minute or two), the
  member is carried to the quote and the sale by a ticket signed for this merchant (`django.core.signing`, 30
  minutes): the id never appears in the page, and a ticket of another merchant, or an old one, is refused.
- **The one-time token.** Each quote shown carries a fresh random token. The sale's receipt number is
  `counter:<token>` and the token is the idempotency key of the submit: a double tap, a retry or two browser tabs
  submitting at once make one sale, and the second submit shows the first sale.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from galleria.core import timeutil
from galleria.coupons import rules as coupon_rules
from galleria.coupons import selectors as coupon_selectors
from galleria.members import rules as member_rules
from galleria.members.selectors import member_get, members_active
from galleria.points.selectors import points_balance
from galleria.receipts.selectors import receipts_waiting_for_merchant
from galleria.recommendations import selectors as recommendation_selectors
from galleria.sales import selectors as sale_selectors
from galleria.sales.types import Channel, LineIn, PaymentIn, SaleIn
from galleria.tiers.selectors import member_tier

from ..coupon_text import reason_message
from ..recommendation_text import category_label

TICKET_SALT = "galleria.interfaces.merchant.counter.member"
TICKET_MAX_AGE = 30 * 60  # seconds: a member who walked away is identified again
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
RECEIPT_PREFIX = "counter:"


# ---------------------------------------------------------------- the member between requests


def member_ticket(*, merchant_id: int, member_id: int) -> str:
    return signing.dumps({"m": member_id, "s": merchant_id}, salt=TICKET_SALT, compress=False)


def ticket_member_id(ticket: str, *, merchant_id: int) -> int | None:
    """The member id the ticket carries, or None when it is forged, of another merchant or too old."""
    if not ticket or len(ticket) > 200:
        return None
    try:
        data = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(data, dict) or data.get("s") != merchant_id or not isinstance(data.get("m"), int):
        return None
    return int(data["m"])


def active_member(*, mall_group_id: int, member_id: int) -> Any | None:
    """The member (or, merged meanwhile, its survivor) when still active; None once erased."""
    try:
        member = member_get(mall_group_id=mall_group_id, member_id=member_id)
    except ObjectDoesNotExist:
        return None
    return members_active(mall_group_id=mall_group_id).filter(pk=member.pk).first()


# ---------------------------------------------------------------- what the clerk sees of the member


@dataclass(frozen=True)
class HeldCoupon:
    coupon_id: int
    name: str
    valid_until: dt.datetime
    at_verify: bool  # exchange / parking / shipping: redeemed on its own at "Verify coupon", not with a sale


@dataclass(frozen=True)
class MemberPanel:
    ticket: str
    name: str  # masked
    phone: str  # masked
    card_no: str
    tier_name: str
    points_balance: int
    coupons: tuple[HeldCoupon, ...] = field(default_factory=tuple)

    @property
    def basket_coupons(self) -> tuple[HeldCoupon, ...]:
        return tuple(c for c in self.coupons if not c.at_verify)

    @property
    def verify_coupons(self) -> tuple[HeldCoupon, ...]:
        return tuple(c for c in self.coupons if c.at_verify)


def usable_coupons(*, merchant: Any, member_id: int, at: dt.datetime) -> tuple[HeldCoupon, ...]:
    """The member's coupons usable at this merchant now (any basket condition such as 满200 aside)."""
    group_id, token = merchant.mall.group_id, merchant.mall.group.config_token
    out: list[HeldCoupon] = []
    for coupon in coupon_selectors.held_coupons(member_id=member_id, at=at, mall_group_id=group_id, token=token):
        problem = coupon_selectors.coupon_problem(
            coupon=coupon,
            template=coupon.template,
            merchant=merchant,
            at=at,
            tz_name=merchant.mall.timezone,
            channel="offline",
        )
        if problem:
            continue
        out.append(
            HeldCoupon(
                coupon_id=coupon.pk,
                name=coupon.template.name,
                valid_until=coupon.valid_until,
                at_verify=coupon.template.kind in coupon_rules.STANDALONE_KINDS,
            )
        )
    return tuple(out)


def member_panel(*, merchant: Any, member: Any, at: dt.datetime) -> MemberPanel:
    group = merchant.mall.group
    tier = member_tier(member_id=member.pk, mall_group_id=group.pk, token=group.config_token)
    return MemberPanel(
        ticket=member_ticket(merchant_id=merchant.pk, member_id=member.pk),
        name=member_rules.mask_name(member.name),
        phone=member_rules.mask_phone(member.phone) if member.phone else "",
        card_no=member.card_no,
        tier_name=tier.name,
        points_balance=points_balance(member_id=member.pk),
        coupons=usable_coupons(merchant=merchant, member_id=member.pk, at=at),
    )


def shop_suggestions(*, merchant: Any, member: Any) -> dict[str, Any]:
    """What to suggest to the member at this shop (docs/recommendations.md, "Merchant counter"): the member's top
    categories across the mall (category labels only) and this shop's coupons the member may claim now."""
    categories, coupons = recommendation_selectors.shop_suggestions(member=member, merchant_id=merchant.pk)
    return {
        "categories": [category_label(c) for c in categories],
        "coupons": [c.name for c in coupons],
        "personalised": recommendation_selectors.is_personalised(member_id=member.pk),
    }


# ---------------------------------------------------------------- the basket as the pipeline's input


@dataclass(frozen=True)
class Basket:
    """What the basket form says, checked: lines, payment method, points to use, chosen coupons (None = best)."""

    store_id: int
    lines: tuple[LineIn, ...]
    method: str
    points_to_use: int
    coupon_ids: tuple[int, ...] | None


def basket_lines(rows: list[dict[str, Any]]) -> tuple[LineIn, ...]:
    """Form rows (name, category, quantity, unit price in fen) → sale lines, numbered from 1 in the receipt."""
    lines = []
    for i, row in enumerate(rows, start=1):
        qty = int(row["quantity"])
        unit = int(row["unit_price_fen"])
        name = str(row.get("name") or "").strip() or _("Counter sale")
        lines.append(
            LineIn(
                sku=f"COUNTER-{i}",
                name=name[:120],
                quantity=qty,
                unit_price_fen=unit,
                amount_fen=unit * qty,
                category=str(row.get("category") or ""),
            )
        )
    return tuple(lines)


def new_token() -> str:
    return uuid.uuid4().hex


def receipt_no(token: str) -> str:
    return RECEIPT_PREFIX + token


def request_digest(post: Any) -> str:
    """The submit's body without the CSRF token: the same form submitted twice hashes the same."""
    items = sorted((k, v) for k in post for v in post.getlist(k) if k != "csrfmiddlewaretoken")
    return hashlib.sha256(repr(items).encode()).hexdigest()


def sale_input(
    *, merchant_id: int, member_id: int, basket: Basket, token: str, paid_fen: int, now: dt.datetime
) -> SaleIn:
    """The counter's sale: now, server-dated, no terminal, the money the quote showed in the chosen method."""
    return SaleIn(
        merchant_id=merchant_id,
        store_id=basket.store_id,
        terminal_id=None,
        pos_sale_id=receipt_no(token),
        occurred_at=now,
        lines=basket.lines,
        payments=(PaymentIn(method=basket.method, amount_fen=paid_fen),) if paid_fen > 0 else (),
        member_id=member_id,
        points_to_use=basket.points_to_use,
        coupon_ids=basket.coupon_ids or (),
        client_dated=False,
        channel=Channel.COUNTER,
    )


def error_sentence(exc: Any) -> str:
    """A pipeline error as the clerk reads it (a coupon reason in words, never a bare code)."""
    code = getattr(exc, "code", "")
    if code.startswith("coupon."):
        return reason_message(code)
    return str(getattr(exc, "message", exc))


# ---------------------------------------------------------------- the portal's overview


def today_figures(*, merchant: Any) -> dict[str, int | None]:
    """Today's figures (mall-local day) on the portal's overview: member sales and their money, points issued,
    coupons redeemed here and receipts waiting for this merchant's confirmation. None: not available (yet)."""
    tz_name = merchant.mall.timezone
    since, until = timeutil.local_day_bounds(timeutil.local_date(timeutil.now(), tz_name), tz_name)
    figures: dict[str, int | None] = dict(
        sale_selectors.merchant_sales_summary(merchant_id=merchant.pk, since=since, until=until)
    )
    figures["coupons_redeemed"] = coupon_selectors.merchant_redemptions_count(
        merchant_id=merchant.pk, since=since, until=until
    )
    figures["receipts_waiting"] = receipts_waiting_for_merchant(merchant.pk)
    return figures
