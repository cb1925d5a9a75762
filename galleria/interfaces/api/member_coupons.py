"""Member app API — coupons: my coupons by status, one coupon with its code and QR, the claim centre, claiming.

Mounted under /api/v1/app next to the member app router and authenticated the same way (the member's app
session, `auth.member_auth`; cookie-authenticated writes need the CSRF token). Errors are problem+json with the
coupons app's stable codes: `coupon.sold_out`, `coupon.limit_reached`, `coupon.daily_limit_reached`,
`coupon.points_insufficient`, `coupon.tier_required`, `coupon.new_members_only`, `coupon.not_claimable`,
`coupon.idempotency_conflict`, `coupon_template.not_found`, `coupon.not_found`, `idempotency.key_required`, and the
wallet's codes when a price cannot be paid.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema

from galleria.core.errors import ValidationError
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons import services as coupon_services
from galleria.coupons.exceptions import CouponNotFoundError
from galleria.coupons.models import Coupon, CouponTemplate
from galleria.malls.models import Mall
from galleria.members.models import Member

from .. import coupon_text
from ..app import coupon_views
from .auth import member_auth
from .schemas import ProblemOut

router = Router(tags=["member app: coupons"])
KEY_MAX = 64
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
ERRORS: dict[int, type] = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,
    404: ProblemOut,
    409: ProblemOut,
    422: ProblemOut,
}


class CouponCardOut(Schema):
    """The coupon in plain words (translated to the request's language)."""

    title: str
    headline: str
    condition: str
    validity: str
    usable_when: str
    scope: str
    channel: str
    rules: list[str]
    claim: str


class CouponOut(Schema):
    id: int
    template_id: int
    kind: str
    status: Literal["available", "used", "expired", "void"]
    valid_from: dt.datetime
    valid_until: dt.datetime
    used_at: dt.datetime | None
    card: CouponCardOut


class CouponDetailOut(CouponOut):
    code: str
    qr_svg: str


class CouponsOut(Schema):
    results: list[CouponOut]


class StatusQuery(Schema):
    status: Literal["available", "used", "expired"] = "available"


class OfferOut(Schema):
    template_id: int
    kind: str
    claim_method: Literal["free", "points", "price"]
    claim_points: int
    claim_price_fen: int
    remaining: int | None
    claimed_by_member: int
    can_claim: bool
    reason_code: str
    reason: str
    card: CouponCardOut


class OffersOut(Schema):
    results: list[OfferOut]


class ClaimOut(CouponDetailOut):
    created: bool


def _member(request: HttpRequest) -> Member:
    member = request.auth  # type: ignore[attr-defined]
    assert isinstance(member, Member)
    return member


def _mall(member: Member) -> Mall:
    mall = (
        Mall.objects.filter(pk=member.join_mall_id).first()
        or Mall.objects.filter(group_id=member.mall_group_id).order_by("pk").first()
    )
    assert mall is not None
    return mall


def _card_out(card: coupon_text.CouponCard, validity: str | None = None) -> CouponCardOut:
    return CouponCardOut(
        title=card.title,
        headline=card.headline,
        condition=card.condition,
        validity=validity or card.validity,
        usable_when=card.usable_when,
        scope=card.scope,
        channel=card.channel,
        rules=card.rules,
        claim=card.claim,
    )


def _coupon_out(coupon: Coupon, mall: Mall, names: tuple[dict[int, str], dict[int, str]]) -> CouponOut:
    card = coupon_views.card_of(coupon.template, *names)
    return CouponOut(
        id=coupon.pk,
        template_id=coupon.template_id,
        kind=coupon.template.kind,
        status=coupon_views.status_of(coupon),  # type: ignore[arg-type]
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        used_at=coupon.used_at,
        card=_card_out(card, coupon_text.held_validity(coupon.valid_from, coupon.valid_until, mall.timezone)),
    )


def _detail(coupon: Coupon, mall: Mall) -> dict[str, object]:
    base = _coupon_out(coupon, mall, coupon_views.names(mall))
    return {**base.model_dump(), "code": coupon.code, "qr_svg": coupon_views.qr_svg(coupon.code)}


@router.get("/me/coupons", response={200: CouponsOut, **ERRORS}, auth=member_auth)
def my_coupons(request: HttpRequest, query: Query[StatusQuery]) -> CouponsOut:
    """The member's coupons of one status: `available` (usable now, soonest to expire first), `used`, or `expired`
    (also cancelled ones). At most 100. Codes are only in the detail."""
    member = _member(request)
    mall = _mall(member)
    names = coupon_views.names(mall)
    rows = coupon_views.member_coupons(member=member, tab=query.status)
    return CouponsOut(results=[_coupon_out(c, mall, names) for c in rows])


@router.get("/me/coupons/{coupon_id}", response={200: CouponDetailOut, **ERRORS}, auth=member_auth)
def my_coupon(request: HttpRequest, coupon_id: Id) -> CouponDetailOut:
    """One of the member's coupons with its code (16 characters) and the code as a QR code (inline SVG). Another
    member's coupon is 404 `coupon.not_found`, exactly like an unknown one."""
    member = _member(request)
    coupon = coupon_selectors.coupon_get(coupon_id=coupon_id, mall_group_id=member.mall_group_id)
    if coupon is None or coupon.member_id != member.pk:
        raise CouponNotFoundError()
    return CouponDetailOut(**_detail(coupon, _mall(member)))  # type: ignore[arg-type]


@router.get("/coupon-centre", response={200: OffersOut, **ERRORS}, auth=member_auth)
def claim_centre(request: HttpRequest) -> OffersOut:
    """The coupons the member may see in the claim centre now; `can_claim` false comes with the reason
    (`reason_code`, e.g. `coupon.sold_out`, `coupon.limit_reached`, `coupon.tier_required`)."""
    member = _member(request)
    mall = _mall(member)
    offers = coupon_selectors.claim_centre(member_id=member.pk)
    templates = {t.pk: t for t in CouponTemplate.objects.filter(pk__in=[o.template_id for o in offers])}
    names = coupon_views.names(mall)
    return OffersOut(
        results=[
            OfferOut(
                template_id=o.template_id,
                kind=o.kind,
                claim_method=o.claim_method,  # type: ignore[arg-type]
                claim_points=o.claim_points,
                claim_price_fen=o.claim_price_fen,
                remaining=o.remaining,
                claimed_by_member=o.claimed_by_member,
                can_claim=o.can_claim,
                reason_code=o.reason_code,
                reason=coupon_text.reason_message(o.reason_code),
                card=_card_out(coupon_views.card_of(templates[o.template_id], *names)),
            )
            for o in offers
            if o.template_id in templates
        ]
    )


@router.post("/coupon-centre/{template_id}/claim", response={200: ClaimOut, **ERRORS}, auth=member_auth)
def claim(request: HttpRequest, template_id: Id) -> ClaimOut:
    """Claim one coupon: free, for points (taken from the balance) or for a price (paid from the wallet), in one
    transaction. An `Idempotency-Key` header (1–64 printable characters) is required: the same key returns the
    same coupon (`created` false); the same key for another template is 409 `coupon.idempotency_conflict`.
    Refusals: 409 `coupon.sold_out` / `coupon.limit_reached` / `coupon.daily_limit_reached`, 422
    `coupon.points_insufficient` / `coupon.tier_required` / `coupon.new_members_only` / `coupon.not_claimable`,
    404 `coupon_template.not_found`."""
    member = _member(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise ValidationError(
            _("An Idempotency-Key header (1–64 printable characters) is required."),
            code="idempotency.key_required",
            fields={"Idempotency-Key": "required"},
        )
    issued = coupon_services.coupon_claim(member_id=member.pk, template_id=template_id, idempotency_key=key)
    coupon = coupon_selectors.coupon_get(coupon_id=issued.coupon_id)
    assert coupon is not None
    return ClaimOut(**_detail(coupon, _mall(member)), created=issued.created)  # type: ignore[arg-type]
