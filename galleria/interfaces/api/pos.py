"""POS open API: member lookup, quote, sale commit, refunds, offline upload, history. Signed requests;
every POST needs an Idempotency-Key."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from django.db import InterfaceError, InternalError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import AwareDatetime, Field, StringConstraints, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError, NotFoundError
from galleria.core.idempotency import run_idempotent
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons import services as coupon_services
from galleria.coupons.exceptions import CouponNotFoundError
from galleria.coupons.types import AppliedDiscount
from galleria.members import rules as member_rules
from galleria.members.exceptions import MemberCodeStaleError, MemberNotFoundError
from galleria.members.models import Member
from galleria.members.selectors import Resolution, member_card_no, member_resolve
from galleria.points.selectors import points_balance
from galleria.sales import rules as sale_rules
from galleria.sales import selectors as sale_selectors
from galleria.sales import services as sale_services
from galleria.sales.models import Sale
from galleria.sales.types import Channel, LineIn, PaymentIn, RefundLineIn, SaleIn
from galleria.tiers.selectors import member_tier

from .pos_auth import PosContext, nonce_gate, pos_auth
from .schemas import NO_NUL, PathText, ProblemOut

logger = logging.getLogger(__name__)
router = Router(tags=["pos"], auth=pos_auth)
ERRORS: dict[int, type] = {400: ProblemOut, 401: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut}
MAX_FEN = 10**12
Text64 = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True, pattern=NO_NUL)]


class LineSchema(Schema):
    sku: Text64
    name: Annotated[str, StringConstraints(max_length=120, pattern=NO_NUL)] = ""
    category: Annotated[str, StringConstraints(max_length=40, pattern=NO_NUL)] = Field(
        "", description="Item category, e.g. gift_card"
    )
    quantity: int = Field(ge=1, le=100_000)
    unit_price_fen: int = Field(ge=0, le=MAX_FEN)
    amount_fen: int = Field(ge=0, le=MAX_FEN, description="Line amount after line discounts")


class PaymentSchema(Schema):
    method: Annotated[str, StringConstraints(max_length=10, pattern=NO_NUL)] = Field(
        description="cash | card | wechat | alipay | unionpay | wallet (member stored value) | other"
    )
    amount_fen: int = Field(ge=1, le=MAX_FEN)


class QuoteIn(Schema):
    member: Text64 | None = Field(None, description="Any member identifier: dynamic code, card, phone, plate")
    lines: list[LineSchema] = Field(min_length=1, max_length=200)
    payments: list[PaymentSchema] = Field(default_factory=list, max_length=10)
    points_to_use: int = Field(0, ge=0, le=10**9)
    coupon_ids: list[int] = Field(
        default_factory=list,
        max_length=10,
        description="The member's coupons to apply, by id (from a quote's `coupons`). On a quote, omit both "
        "coupon fields to get the best combination instead.",
    )
    coupon_codes: list[Text64] = Field(
        default_factory=list, max_length=10, description="Coupons to apply, by the code the member shows (scanned)"
    )


class SaleInSchema(QuoteIn):
    pos_sale_id: Text64 = Field(description="The POS receipt number, unique per merchant")
    occurred_at: AwareDatetime | None = Field(
        None,
        description="When the sale happened, with its UTC offset (default: now). A live call within the group's "
        "live window of now (default 15 minutes), an offline upload up to its offline window back (default 7 days)",
    )
    join_phone: Annotated[str, StringConstraints(max_length=32, pattern=NO_NUL)] | None = Field(
        None, description="Pay = join: register this phone as a member if no member is given"
    )


class RefundInSchema(Schema):
    pos_refund_id: Text64
    lines: list[RefundLineSchema] | None = Field(None, max_length=200, description="null = refund the whole sale")
    occurred_at: AwareDatetime | None = Field(
        None, description="When the refund happened, with its UTC offset (default: now); not before the sale"
    )


class RefundLineSchema(Schema):
    line_no: int = Field(ge=1, le=200)
    quantity: int = Field(ge=1, le=100_000)


RefundInSchema.model_rebuild()


MAX_OFFLINE_SALES = 500


@dataclass(frozen=True)
class InvalidSale:
    """A sale of an offline batch that does not match the schema: reported on its own, the others still run."""

    pos_sale_id: str
    errors: dict[str, str]


def _field_errors(exc: PydanticValidationError) -> dict[str, str]:
    """Pydantic's errors keyed as `request.invalid` keys them (problems.validation_error): dotted field paths."""
    return {".".join(str(p) for p in err["loc"]) or "__all__": str(err["msg"]) for err in exc.errors()}


class OfflineBatchIn(Schema):
    # Each sale is validated on its own (a plain validator; the documented schema is still a list of sales), so
    # one that does not match the schema becomes that sale's `error` instead of refusing the whole batch.
    sales: list[Any] = Field(
        description=f"1–{MAX_OFFLINE_SALES} sales", json_schema_extra={"minItems": 1, "maxItems": MAX_OFFLINE_SALES}
    )

    @field_validator("sales", mode="plain", json_schema_input_type=list[SaleInSchema])
    @classmethod
    def _each_sale_on_its_own(cls, value: Any) -> list[SaleInSchema | InvalidSale]:
        if not isinstance(value, list):
            raise PydanticCustomError("list_type", "Input should be a valid list")
        if not 1 <= len(value) <= MAX_OFFLINE_SALES:
            raise PydanticCustomError("batch_size", "A batch holds 1 to {max} sales", {"max": MAX_OFFLINE_SALES})
        items: list[SaleInSchema | InvalidSale] = []
        for item in value:
            try:
                items.append(SaleInSchema.model_validate(item))
            except PydanticValidationError as exc:
                given = item.get("pos_sale_id") if isinstance(item, dict) else None
                pos_sale_id = given.strip()[:64] if isinstance(given, str) else ""
                items.append(InvalidSale(pos_sale_id=pos_sale_id, errors=_field_errors(exc)))
        return items


class MemberOut(Schema):
    card_no: str
    name: str
    phone: str
    tier_code: str
    tier_name: str
    points_balance: int
    matched_by: str


class DiscountLineOut(Schema):
    line_no: int
    discount_fen: int


class AppliedOut(Schema):
    coupon_id: int | None = Field(None, description="The coupon redeemed (null for a promotion)")
    promotion_id: int | None = None
    kind: str
    name: str
    discount_fen: int
    mall_fen: int = Field(description="Funded by the mall")
    merchant_fen: int = Field(description="Funded by the merchant")
    lines: list[DiscountLineOut]


class CouponOptionOut(Schema):
    coupon_id: int
    name: str
    kind: str
    valid_until: dt.datetime
    is_applicable: bool
    discount_fen: int = Field(description="Its discount alone on this basket")
    reason_code: str = Field(description="Why it does not apply here (empty when it does)")


class PromotionOptionOut(Schema):
    promotion_id: int
    name: str
    kind: str
    discount_fen: int


class IssuedCouponOut(Schema):
    coupon_id: int
    code: str
    valid_until: dt.datetime


class CouponCheckOut(Schema):
    code: str
    kind: str
    name: str
    status: str
    valid_until: dt.datetime
    is_usable: bool
    reason_code: str
    exchange_item: str
    parking_hours: int
    value_fen: int


class QuoteOut(Schema):
    total_fen: int
    discount_fen: int = Field(description="Coupons and promotions applied")
    paid_fen: int
    points_value_fen: int
    points_to_earn: int
    explanation: dict[str, Any]
    points_balance: int
    max_points_usable: int
    tier_code: str
    tier_name: str
    tier_discount_bp: int
    free_parking_hours: int
    applied: list[AppliedOut] = Field(description="Coupons and promotions applied, in the order of application")
    coupons: list[CouponOptionOut] = Field(description="Every coupon the member holds, usable here or not")
    promotions: list[PromotionOptionOut]
    best_coupon_ids: list[int] = Field(description="The coupons applied (the best combination, or the ones sent)")
    order_of_application: list[str]


class SaleOut(Schema):
    sale_id: int
    pos_sale_id: str
    member_card_no: str | None
    member_joined: bool
    points_earned: int
    points_used: int
    points_balance: int | None
    tier_upgraded_to: str | None = Field(None, description="The new tier code when this sale upgraded the member")
    explanation: dict[str, Any]
    discount_fen: int = 0
    applied: list[AppliedOut] = Field(default_factory=list)
    coupons_issued: list[IssuedCouponOut] = Field(
        default_factory=list, description="Spend-triggered coupons (消费返券) this sale earned the member"
    )


class RefundOut(Schema):
    refund_id: int
    pos_sale_id: str
    amount_fen: int
    money_fen: int
    payments: dict[str, int]
    points_clawed_back: int
    points_shortfall: int
    points_returned: int
    points_balance: int | None
    coupon_deduct_fen: int = Field(
        0, description="Discount the kept goods no longer earn (a coupon threshold lost), kept from the money"
    )
    coupons_restored: list[int] = Field(default_factory=list, description="Coupons given back to the member")
    coupons_revoked: list[int] = Field(
        default_factory=list,
        description="Unused purchase-reward coupons (消费返券) the kept goods no longer earn, voided",
    )


class OfflineItemOut(Schema):
    pos_sale_id: str
    status: str = Field(description="created | duplicate | error")
    sale: SaleOut | None = None
    error: dict[str, Any] | None = None


class OfflineBatchOut(Schema):
    created: int
    duplicates: int
    errors: int
    results: list[OfflineItemOut]


class SaleSummaryOut(Schema):
    pos_sale_id: str
    occurred_at: dt.datetime
    total_fen: int
    paid_fen: int
    points_earned: int
    points_used: int
    refunded_fen: int
    status: str


def _actor(ctx: PosContext) -> Actor:
    return Actor(user_id=None, label=f"pos:{ctx.key.key_id}")


def _resolve(ctx: PosContext, raw: str, *, at: dt.datetime | None = None) -> Resolution:
    """Resolve a member; an offline sale's dynamic code is checked against the time the sale happened."""
    hit = member_resolve(mall_group_id=ctx.mall_group_id, raw=raw, now=at.timestamp() if at else None)
    if hit is None:
        if member_rules.looks_like_dynamic_code(raw.replace(" ", "")):
            raise MemberCodeStaleError()
        raise MemberNotFoundError()
    return hit


def _member(ctx: PosContext, raw: str | None, *, at: dt.datetime | None = None) -> Member | None:
    return _resolve(ctx, raw, at=at).member if raw else None


def _lines(items: list[LineSchema]) -> tuple[LineIn, ...]:
    return tuple(
        LineIn(
            sku=i.sku,
            name=i.name,
            category=i.category,
            quantity=i.quantity,
            unit_price_fen=i.unit_price_fen,
            amount_fen=i.amount_fen,
        )
        for i in items
    )


def _payments(items: list[PaymentSchema]) -> tuple[PaymentIn, ...]:
    return tuple(PaymentIn(method=p.method, amount_fen=p.amount_fen) for p in items)


def _idempotent(
    request: HttpRequest, ctx: PosContext, operation: Callable[[], tuple[int, dict[str, Any]]]
) -> HttpResponse:
    digest = hashlib.sha256(b"\n".join([(request.method or "").encode(), request.path.encode(), request.body]))
    outcome = run_idempotent(
        scope=ctx.scope,
        key=request.headers.get("Idempotency-Key", ""),
        request_hash=digest.hexdigest(),
        operation=operation,
        gate=nonce_gate(request),
    )
    response = HttpResponse(outcome.content, status=outcome.status, content_type="application/json")
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _sale_data(ctx: PosContext, payload: SaleInSchema, *, offline: bool = False) -> tuple[SaleIn, str | None]:
    """The service input and, when the member was identified, their card number (for the response). The sale time
    is checked against the group's window first: an offline sale's member code is checked at that time."""
    now = timezone.now()
    occurred_at = payload.occurred_at or now
    group = ctx.merchant.mall.group
    sale_rules.check_sale_time(
        occurred_at=occurred_at,
        now=now,
        live_minutes=group.sale_live_window_minutes,
        offline_days=group.sale_offline_window_days,
        offline=offline,
    )
    member = _member(ctx, payload.member, at=occurred_at if offline else None)
    return SaleIn(
        merchant_id=ctx.merchant.pk,
        store_id=ctx.store.pk,
        terminal_id=ctx.terminal.pk,
        pos_sale_id=payload.pos_sale_id,
        occurred_at=occurred_at,
        lines=_lines(payload.lines),
        payments=_payments(payload.payments),
        member_id=member.pk if member else None,
        join_phone=payload.join_phone if not member else None,
        points_to_use=payload.points_to_use,
        is_offline=offline,
        coupon_ids=_coupon_ids(ctx, payload),
        client_dated=True,
        channel=Channel.POS,  # this adapter's channel of the checkout pipeline
    ), (member.card_no if member else None)


def _coupon_ids(ctx: PosContext, payload: QuoteIn) -> tuple[int, ...]:
    """The coupons sent by id and by scanned code, as ids (a code of another group is unknown here)."""
    ids = list(payload.coupon_ids)
    for code in payload.coupon_codes:
        coupon = coupon_selectors.coupon_get_by_code(code=code, mall_group_id=ctx.mall_group_id)
        if coupon is None:
            raise CouponNotFoundError(extra={"code": code})
        ids.append(coupon.pk)
    return tuple(dict.fromkeys(ids))


def _applied(items: tuple[AppliedDiscount, ...]) -> list[AppliedOut]:
    return [
        AppliedOut(
            coupon_id=a.coupon_id,
            promotion_id=a.promotion_id,
            kind=a.kind,
            name=a.name,
            discount_fen=a.discount_fen,
            mall_fen=a.mall_fen,
            merchant_fen=a.merchant_fen,
            lines=[DiscountLineOut(line_no=ln.line_no, discount_fen=ln.discount_fen) for ln in a.lines],
        )
        for a in items
    ]


def _sale_out(pos_sale_id: str, result: sale_services.SaleResult, card: str | None) -> dict[str, Any]:
    if card is None and result.member_id:  # pay = join: the new member's card number (or a known phone's card)
        card = result.member_card_no or member_card_no(member_id=result.member_id)
    return SaleOut(
        sale_id=result.sale_id,
        pos_sale_id=pos_sale_id,
        member_card_no=card,
        member_joined=result.member_joined,
        points_earned=result.points_earned,
        points_used=result.points_used,
        points_balance=result.points_balance,
        tier_upgraded_to=result.tier_upgraded_to,
        explanation=result.explanation,
        discount_fen=result.discount_fen,
        applied=_applied(result.applied),
        coupons_issued=[
            IssuedCouponOut(coupon_id=c.coupon_id, code=c.code, valid_until=c.valid_until)
            for c in result.coupons_issued
        ],
    ).model_dump(mode="json")


@router.get("/members/lookup", response={200: MemberOut, **ERRORS})
def member_lookup(request: HttpRequest, code: Query[Text64]) -> MemberOut:
    """Identify the shopper by any identifier. Merchants see a masked phone and name."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]
    hit = _resolve(ctx, code)
    member = hit.member
    tier = member_tier(member_id=member.pk, mall_group_id=ctx.mall_group_id, token=ctx.merchant.mall.group.config_token)
    return MemberOut(
        card_no=member.card_no,
        name=member_rules.mask_name(member.name),
        phone=member_rules.mask_phone(member.phone),
        tier_code=tier.code,
        tier_name=tier.name,
        points_balance=points_balance(member_id=member.pk),
        matched_by=hit.kind,
    )


@router.post("/quote", response={200: QuoteOut, **ERRORS})
def quote(request: HttpRequest, payload: QuoteIn) -> QuoteOut:
    """Points to earn (with the explanation), usable points, tier benefits, the member's coupons and the
    promotions in force for a basket. Without coupon fields the best combination is applied; with them, exactly
    what the sale would apply (a coupon that does not apply is refused with its reason). Writes nothing."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]
    member = _member(ctx, payload.member)
    chosen = _coupon_ids(ctx, payload)
    q = sale_selectors.sale_quote(
        merchant_id=ctx.merchant.pk,
        member_id=member.pk if member else None,
        lines=_lines(payload.lines),
        payments=_payments(payload.payments),
        points_to_use=payload.points_to_use,
        merchant=ctx.merchant,
        coupon_ids=chosen if (payload.coupon_ids or payload.coupon_codes) else None,
    )
    values = {k: v for k, v in q.__dict__.items() if k not in ("applied", "coupons", "promotions")}
    return QuoteOut(
        **values,
        applied=_applied(q.applied),
        coupons=[CouponOptionOut(**{k: getattr(c, k) for k in CouponOptionOut.model_fields}) for c in q.coupons],
        promotions=[PromotionOptionOut(**p.__dict__) for p in q.promotions],
    )


@router.get("/coupons/{code}", response={200: CouponCheckOut, **ERRORS})
def coupon_check(request: HttpRequest, code: PathText) -> CouponCheckOut:
    """Check a coupon the shopper shows (exchange, parking or any other): what it gives and whether it can be
    used at this merchant now. Writes nothing."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]
    check = coupon_selectors.coupon_check(code=code[:64], mall_group_id=ctx.mall_group_id, merchant=ctx.merchant)
    if check is None:
        raise CouponNotFoundError()
    return CouponCheckOut(**{k: getattr(check, k) for k in CouponCheckOut.model_fields})


@router.post("/coupons/{code}/redeem", response={201: AppliedOut, **ERRORS})
def coupon_redeem(request: HttpRequest, code: PathText) -> HttpResponse:
    """Redeem an exchange, parking or shipping coupon on its own (no sale): the item is handed over. Basket
    coupons (cash off, 满减, …) are redeemed with the sale instead (`coupon_ids` / `coupon_codes`)."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]

    def operation() -> tuple[int, dict[str, Any]]:
        applied = coupon_services.coupon_redeem_standalone_in_tx(
            code=code[:64],
            mall_group_id=ctx.mall_group_id,
            merchant_id=ctx.merchant.pk,
            actor=_actor(ctx),
            idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
        )
        return 201, _applied((applied,))[0].model_dump(mode="json")

    return _idempotent(request, ctx, operation)


@router.post("/sales", response={201: SaleOut, **ERRORS})
def sale_commit(request: HttpRequest, payload: SaleInSchema) -> HttpResponse:
    """Commit a sale atomically: the sale, its lines and payments and every points movement, or nothing."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]

    def operation() -> tuple[int, dict[str, Any]]:
        data, card = _sale_data(ctx, payload)
        result = sale_services.sale_commit_in_tx(data=data, actor=_actor(ctx), merchant=ctx.merchant, store=ctx.store)
        return 201, _sale_out(payload.pos_sale_id, result, card)

    return _idempotent(request, ctx, operation)


@router.post("/sales/{pos_sale_id}/refunds", response={201: RefundOut, **ERRORS})
def sale_refund(request: HttpRequest, pos_sale_id: PathText, payload: RefundInSchema) -> HttpResponse:
    """Refund a whole sale (lines = null) or quantities of lines; points are reversed and returned in proportion."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]

    def operation() -> tuple[int, dict[str, Any]]:
        lines = (
            None
            if payload.lines is None
            else [RefundLineIn(line_no=x.line_no, quantity=x.quantity) for x in payload.lines]
        )
        r = sale_services.sale_refund_in_tx(
            merchant_id=ctx.merchant.pk,
            pos_sale_id=pos_sale_id[:64],
            pos_refund_id=payload.pos_refund_id,
            lines=lines,
            occurred_at=payload.occurred_at,
            client_dated=True,
        )
        return 201, RefundOut(
            pos_sale_id=pos_sale_id, **{k: v for k, v in r.__dict__.items() if k != "sale_id"}
        ).model_dump(mode="json")

    return _idempotent(request, ctx, operation)


@router.post("/sales/offline", response={200: OfflineBatchOut, **ERRORS})
def offline_upload(request: HttpRequest, payload: OfflineBatchIn) -> HttpResponse:
    """Upload sales captured while the POS was offline. Each sale is idempotent by its pos_sale_id: a sale already
    recorded comes back as `duplicate`; a bad one (whatever is wrong with it, the schema included) as `error` with
    its problem, without affecting the others."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]

    def operation() -> tuple[int, dict[str, Any]]:
        results = [_offline_one(ctx, item) for item in payload.sales]
        body = OfflineBatchOut(
            created=sum(r.status == "created" for r in results),
            duplicates=sum(r.status == "duplicate" for r in results),
            errors=sum(r.status == "error" for r in results),
            results=results,
        ).model_dump(mode="json")
        return 200, body

    return _idempotent(request, ctx, operation)


def _item_error(pos_sale_id: str, *, status: int, code: str, title: str, errors: dict[str, str]) -> OfflineItemOut:
    return OfflineItemOut(
        pos_sale_id=pos_sale_id,
        status="error",
        error={"status": status, "code": code, "title": title, "errors": errors},
    )


def _offline_one(ctx: PosContext, item: SaleInSchema | InvalidSale) -> OfflineItemOut:
    """One sale of a batch in its own savepoint: stored, a duplicate, or an error that rolls back only itself."""
    if isinstance(item, InvalidSale):
        return _item_error(
            item.pos_sale_id,
            status=422,
            code="request.invalid",
            title=_("The request is not valid."),
            errors=item.errors,
        )
    if Sale.objects.filter(merchant=ctx.merchant, pos_sale_id=item.pos_sale_id).exists():
        return OfflineItemOut(pos_sale_id=item.pos_sale_id, status="duplicate")
    try:
        with transaction.atomic():
            data, card = _sale_data(ctx, item, offline=True)
            result = sale_services.sale_commit_in_tx(
                data=data, actor=_actor(ctx), merchant=ctx.merchant, store=ctx.store
            )
    except ApplicationError as exc:
        return _item_error(
            item.pos_sale_id,
            status=exc.status,
            code=exc.code,
            title=str(exc.message),
            errors={k: str(v) for k, v in exc.fields.items()},
        )
    except (OperationalError, InterfaceError, InternalError):
        raise  # the connection or the transaction is in trouble: the batch fails as a whole and can be retried
    except Exception:
        # a bug or a constraint hit by this sale alone: its savepoint rolled back, it is logged as a server error
        # would be, and the other sales of the batch still count
        logger.exception("offline sale %s failed", item.pos_sale_id)
        return _item_error(
            item.pos_sale_id, status=500, code="server_error", title=_("Something went wrong on our side."), errors={}
        )
    return OfflineItemOut(
        pos_sale_id=item.pos_sale_id,
        status="created",
        sale=SaleOut.model_validate(_sale_out(item.pos_sale_id, result, card)),
    )


@router.get("/sales/{pos_sale_id}", response={200: SaleSummaryOut, **ERRORS})
def sale_get(request: HttpRequest, pos_sale_id: PathText) -> SaleSummaryOut:
    ctx: PosContext = request.auth  # type: ignore[attr-defined]
    sale = Sale.objects.filter(merchant=ctx.merchant, pos_sale_id=pos_sale_id[:64]).first()
    if sale is None:
        raise NotFoundError(_("No such sale."), code="sale.not_found")
    return SaleSummaryOut(
        pos_sale_id=sale.pos_sale_id,
        occurred_at=sale.occurred_at,
        total_fen=sale.total_fen,
        paid_fen=sale.paid_fen,
        points_earned=sale.points_earned,
        points_used=sale.points_used,
        refunded_fen=sale.refunded_fen,
        status=sale.status,
    )


class HistoryQuery(Schema):
    member: Text64
    limit: int = Field(20, ge=1, le=100)


@router.get("/sales", response={200: list[SaleSummaryOut], **ERRORS})
def member_history(request: HttpRequest, filters: Query[HistoryQuery]) -> list[SaleSummaryOut]:
    """A member's sales at this merchant, newest first."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]
    member = _member(ctx, filters.member)
    assert member is not None
    sales = sale_selectors.sale_list(member_id=member.pk, merchant_id=ctx.merchant.pk)[: filters.limit]
    return [
        SaleSummaryOut(
            pos_sale_id=s.pos_sale_id,
            occurred_at=s.occurred_at,
            total_fen=s.total_fen,
            paid_fen=s.paid_fen,
            points_earned=s.points_earned,
            points_used=s.points_used,
            refunded_fen=s.refunded_fen,
            status=s.status,
        )
        for s in sales
    ]
