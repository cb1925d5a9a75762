"""Member app API (the mini-program's backend): SMS sign-in/join, profile, plates, dynamic member code; points,
daily check-in, tier, wallet with top-ups through WeChat Pay or Alipay, purchases."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Literal

import segno
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from galleria.audit.types import Actor
from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.core.money import MAX_AMOUNT_FEN
from galleria.malls.models import Mall
from galleria.malls.selectors import mall_for_app
from galleria.members import selectors as member_selectors
from galleria.members import services as member_services
from galleria.members.exceptions import MemberNotFoundError
from galleria.members.models import IdentifierKind, Member, MemberIdentifier
from galleria.payments import selectors as payment_selectors
from galleria.payments import services as payment_services
from galleria.tiers.types import TierView
from galleria.wallet.selectors import wallet_balance

from ..app import actions as app_actions
from ..app import presenters as app_presenters
from ..app.pay_flow import pay_device
from ..app.views import SESSION_MALL as APP_SESSION_MALL
from ..common import client_ip
from .auth import MEMBER_SESSION_KEY, member_auth
from .schemas import (
    MemberCodeOut,
    MemberSelfOut,
    OtpRequestIn,
    OtpRequestOut,
    OtpVerifyIn,
    PathText,
    PlateIn,
    ProblemOut,
    ProfileIn,
)

router = Router(tags=["member app"])
TOPUP_KEY_MAX = 64  # TopUp.idempotency_key
ERRORS: dict[int, type] = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,  # a cookie-authenticated write without the CSRF token
    404: ProblemOut,
    409: ProblemOut,
    422: ProblemOut,
    429: ProblemOut,
}


def _member(request: HttpRequest) -> Member:
    member = request.auth  # type: ignore[attr-defined]
    assert isinstance(member, Member)
    return member


def _actor(request: HttpRequest, member: Member) -> Actor:
    return Actor(user_id=None, label=f"member:{member.pk}", ip=client_ip(request))


def _self_out(member: Member, *, is_new: bool = False) -> MemberSelfOut:
    return MemberSelfOut(
        id=member.pk,
        card_no=member.card_no,
        phone=member.phone,
        name=member.name,
        gender=member.gender,
        birthday=member.birthday,
        email=member.email,
        joined_at=member.created_at,
        plates=member_selectors.member_plates(member_id=member.pk),
        is_new=is_new,
    )


@router.post("/otp/request", response={200: OtpRequestOut, **ERRORS}, auth=None)
def otp_request(request: HttpRequest, payload: OtpRequestIn) -> OtpRequestOut:
    """Send a one-time code by SMS. Limited per phone and per IP; refused while the phone is locked."""
    mall = mall_for_app(code=payload.mall)
    challenge = member_services.otp_request(mall_group_id=mall.group_id, phone=payload.phone, ip=client_ip(request))
    ttl = int((challenge.expires_at - challenge.created_at).total_seconds())
    return OtpRequestOut(sent=True, expires_in=ttl, resend_after=int(settings.GALLERIA_OTP["RESEND_INTERVAL_SECONDS"]))


@router.post("/otp/verify", response={200: MemberSelfOut, **ERRORS}, auth=None)
def otp_verify(request: HttpRequest, payload: OtpVerifyIn) -> MemberSelfOut:
    """Verify the code and sign in; a new phone joins as a member (terms must be accepted)."""
    if not payload.accept_terms:
        raise ValidationError(
            _("Accept the membership terms and privacy policy to continue."),
            code="members.terms_required",
            fields={"accept_terms": "required"},
        )
    mall = mall_for_app(code=payload.mall)
    member, created = member_services.member_login_or_join(
        mall=mall, phone=payload.phone, code=payload.code, ip=client_ip(request)
    )
    request.session.cycle_key()
    request.session[MEMBER_SESSION_KEY] = member.pk
    return _self_out(member, is_new=created)


@router.post("/logout", response={204: None, 401: ProblemOut, 403: ProblemOut}, auth=member_auth)
def logout(request: HttpRequest) -> Status:
    request.session.flush()
    return Status(204, None)


@router.get("/me", response={200: MemberSelfOut, 401: ProblemOut}, auth=member_auth)
def me(request: HttpRequest) -> MemberSelfOut:
    return _self_out(_member(request))


@router.patch("/me", response={200: MemberSelfOut, **ERRORS}, auth=member_auth)
def me_update(request: HttpRequest, payload: ProfileIn) -> MemberSelfOut:
    member = _member(request)
    values = payload.model_dump(exclude_unset=True)
    member = member_services.member_profile_update(member_id=member.pk, actor=_actor(request, member), values=values)
    return _self_out(member)


@router.get("/me/code", response={200: MemberCodeOut, 401: ProblemOut}, auth=member_auth)
def me_code(request: HttpRequest) -> MemberCodeOut:
    """The dynamic member code (rotates every 60 s) with its QR as SVG, and the static card number."""
    code = member_selectors.member_code_current(member=_member(request))
    qr = segno.make(code.code, error="m")
    return MemberCodeOut(
        code=code.code, card_no=code.card_no, expires_in=code.expires_in, qr_svg=qr.svg_inline(scale=4)
    )


@router.post("/me/plates", response={200: MemberSelfOut, **ERRORS}, auth=member_auth)
def plate_add(request: HttpRequest, payload: PlateIn) -> MemberSelfOut:
    member = _member(request)
    member_services.member_identifier_add(
        member_id=member.pk, actor=_actor(request, member), kind=IdentifierKind.PLATE, value=payload.plate
    )
    return _self_out(member)


@router.delete("/me/plates/{plate}", response={200: MemberSelfOut, **ERRORS}, auth=member_auth)
def plate_remove(request: HttpRequest, plate: PathText) -> MemberSelfOut:
    member = _member(request)
    row = MemberIdentifier.objects.filter(member=member, kind=IdentifierKind.PLATE, value=plate[:16]).first()
    if row is None:
        raise MemberNotFoundError(_("This plate is not bound to you."), code="members.plate_not_bound")
    member_services.member_identifier_remove(member_id=member.pk, actor=_actor(request, member), identifier_id=row.pk)
    return _self_out(member)


# ---------------------------------------------------------------- loyalty: points, tier, wallet, purchases
#
# The same words as the app's pages (galleria.interfaces.app.presenters); amounts in fen, points as integers,
# times as aware ISO 8601. Every read and write is the signed-in member's own.


class PageQuery(Schema):
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=app_presenters.PAGE_SIZE, ge=1, le=100)


class PageOut(Schema):
    page: int
    pages: int
    count: int
    page_size: int


class EarnExplanationOut(Schema):
    text: str = Field(description="The whole explanation in plain words, in the request's language.")
    formula: str = Field(description='e.g. "¥128.00 paid × 1 point per ¥1 × 1.2 (银卡) × 2 (会员日) = 307 points"')
    notes: list[str]
    points: int
    uncapped: int
    capped_by: str | None = Field(description="per_sale_cap | daily_cap | min_spend | null")
    base_fen: int
    rate: dict[str, Any]
    tier: dict[str, Any]
    campaign: dict[str, Any] | None
    excluded_lines: list[int]
    funding: dict[str, int] | None


class PointsHistoryItemOut(Schema):
    id: int
    transaction_id: int
    occurred_at: dt.datetime
    kind: str = Field(description="earn | spend | refund | expire | adjust | behaviour | reversal")
    title: str
    detail: str
    points: int = Field(description="Signed: + credit, − debit")
    merchant: str
    explanation: EarnExplanationOut | None = Field(description="For earn credits: how the points were calculated")


class ExpiringLotOut(Schema):
    expires_on: dt.date = Field(description="Last mall-local day the points are valid")
    points: int


class ExpiringOut(Schema):
    points: int
    within_days: int
    until: dt.date
    lots: list[ExpiringLotOut]


class CheckinStateOut(Schema):
    available: bool
    points: int
    checked_in_today: bool
    today: dt.date


class PointsOut(Schema):
    balance: int
    value_fen: int = Field(description="What the balance is worth when paying with points")
    expiring: ExpiringOut
    checkin: CheckinStateOut
    history: list[PointsHistoryItemOut]
    page: PageOut


class CheckinOut(Schema):
    points: int
    balance: int
    date: dt.date
    message: str


class BenefitOut(Schema):
    key: str
    label: str
    value: int | bool | str
    is_new: bool


class TierOut(Schema):
    code: str
    name: str
    rank: int
    threshold: int
    points_multiplier_bp: int
    discount_bp: int
    free_parking_hours: int
    birthday_gift: str
    lounge_access: bool
    priority_registration: bool
    benefits: list[BenefitOut]


class TierHistoryOut(Schema):
    at: dt.datetime
    from_name: str
    to_code: str
    to_name: str
    reason: str
    reason_label: str
    note: str


class MeTierOut(Schema):
    has_tiers: bool
    current: TierOut | None = None
    next: TierOut | None = None
    qualify_by: str = ""
    qualifying_amount: int = Field(default=0, description="fen (qualify_by=spend) or points, over the rolling window")
    amount_needed: int = 0
    amount_to_keep: int = 0
    progress_pct: int = 0
    window_start: dt.date | None = None
    window_end: dt.date | None = None
    grace_until: dt.date | None = None
    override_until: dt.date | None = None
    summary: str = ""
    history: list[TierHistoryOut] = []


class WalletBalanceOut(Schema):
    principal_fen: int
    bonus_fen: int
    total_fen: int


class BonusOfferOut(Schema):
    min_amount_fen: int
    bonus_fen: int
    label: str


class WalletHistoryItemOut(Schema):
    transaction_id: int
    occurred_at: dt.datetime
    kind: str
    title: str
    detail: str
    principal_fen: int
    bonus_fen: int
    total_fen: int


class PendingTopUpOut(Schema):
    id: int
    amount_fen: int
    bonus_fen: int
    created_at: dt.datetime


class WalletOut(Schema):
    balance: WalletBalanceOut
    bonus_offers: list[BonusOfferOut]
    pending_topups: list[PendingTopUpOut]
    history: list[WalletHistoryItemOut]
    page: int
    has_next: bool
    providers: list[str] = Field(description="Gateways the member can top up with: wechat, alipay (configured ones)")


class TopUpIn(Schema):
    amount_fen: int = Field(ge=1, le=MAX_AMOUNT_FEN, description="What the member pays, in fen")
    provider: Literal["wechat", "alipay"] = Field(description="The gateway that takes the payment")
    return_url: str = Field(
        default="", max_length=500, description="Where the gateway's cashier sends the browser back (H5/WAP)"
    )


class TopUpIntentOut(Schema):
    topup_id: int
    reference: str
    gateway: str
    gateway_ref: str
    amount_fen: int
    bonus_fen: int
    status: str
    pay_kind: str = Field(description="jsapi (WeixinJSBridge parameters), h5 / wap (open `payload.h5_url` / `url`)")
    payload: dict[str, str] = Field(description="What the device needs to pay (see pay_kind)")


class PurchaseOut(Schema):
    id: int
    merchant: str
    store: str
    occurred_at: dt.datetime
    receipt: str
    total_fen: int
    paid_fen: int
    points_earned: int
    points_used: int
    points_value_fen: int
    refunded_fen: int
    status: str
    status_label: str


class PurchasesOut(Schema):
    results: list[PurchaseOut]
    page: PageOut


def _mall(request: HttpRequest, member: Member) -> Mall:
    """The mall the member uses the app for: the app session's mall when it is in the member's group, else the
    mall they joined at, else the group's first mall."""
    malls = Mall.objects.filter(group_id=member.mall_group_id).select_related("group")
    mall_id = request.session.get(APP_SESSION_MALL)
    mall = malls.filter(pk=mall_id).first() if isinstance(mall_id, int) else None
    mall = mall or malls.filter(pk=member.join_mall_id).first() or malls.order_by("pk").first()
    if mall is None:
        raise NotFoundError(_("No mall is set up for this membership."), code="app.mall_unknown")
    return mall


def _page_out(paging: app_presenters.Paging) -> PageOut:
    return PageOut(page=paging.page, pages=paging.pages, count=paging.count, page_size=paging.page_size)


def _explanation_out(exp: app_presenters.EarnExplanation | None) -> EarnExplanationOut | None:
    if exp is None:
        return None
    data = exp.data
    funding = data.get("funding")
    excluded = data.get("excluded_lines")
    campaign = data.get("campaign")
    return EarnExplanationOut(
        text=exp.text,
        formula=exp.formula,
        notes=list(exp.notes),
        points=exp.points,
        uncapped=exp.uncapped,
        capped_by=exp.capped_by,
        base_fen=int(data.get("base_fen") or 0),
        rate=dict(data.get("rate") or {}),
        tier=dict(data.get("tier") or {}),
        campaign=dict(campaign) if isinstance(campaign, dict) else None,
        excluded_lines=[int(i) for i in excluded] if isinstance(excluded, list) else [],
        funding={str(k): int(v) for k, v in funding.items()} if isinstance(funding, dict) else None,
    )


def _balance_out(member: Member) -> WalletBalanceOut:
    balance = wallet_balance(member_id=member.pk)
    return WalletBalanceOut(
        principal_fen=balance.principal_fen, bonus_fen=balance.bonus_fen, total_fen=balance.total_fen
    )


def _tier_out(view: TierView, benefits: list[app_presenters.BenefitRow]) -> TierOut:
    return TierOut(
        code=view.code,
        name=view.name,
        rank=view.rank,
        threshold=view.threshold,
        points_multiplier_bp=view.points_multiplier_bp,
        discount_bp=view.discount_bp,
        free_parking_hours=view.free_parking_hours,
        birthday_gift=view.birthday_gift,
        lounge_access=view.lounge_access,
        priority_registration=view.priority_registration,
        benefits=[BenefitOut(key=b.key, label=b.label, value=b.value, is_new=b.is_new) for b in benefits],
    )


@router.get("/me/points", response={200: PointsOut, **ERRORS}, auth=member_auth)
def me_points(request: HttpRequest, query: Query[PageQuery]) -> PointsOut:
    """Points balance, points expiring within 30 days (by date), today's check-in and the points history (newest
    first, paged); each earn credit carries its explanation in plain words."""
    member = _member(request)
    mall = _mall(request, member)
    summary = app_presenters.points_summary(member=member, tz_name=mall.timezone)
    rows, paging = app_presenters.points_history(
        member=member, tz_name=mall.timezone, page=query.page, page_size=query.page_size
    )
    state = summary.checkin
    return PointsOut(
        balance=summary.balance,
        value_fen=summary.value_fen,
        expiring=ExpiringOut(
            points=summary.expiring,
            within_days=app_presenters.EXPIRING_WITHIN_DAYS,
            until=summary.expiring_until,
            lots=[ExpiringLotOut(expires_on=lot.expires_on, points=lot.points) for lot in summary.expiring_lots],
        ),
        checkin=CheckinStateOut(
            available=state.available, points=state.points, checked_in_today=state.checked_in_today, today=state.today
        ),
        history=[
            PointsHistoryItemOut(
                id=row.entry_id,
                transaction_id=row.transaction_id,
                occurred_at=row.occurred_at,
                kind=row.kind,
                title=row.title,
                detail=row.detail,
                points=row.points,
                merchant=row.merchant,
                explanation=_explanation_out(row.explanation),
            )
            for row in rows
        ],
        page=_page_out(paging),
    )


@router.post("/me/checkin", response={200: CheckinOut, **ERRORS}, auth=member_auth)
def me_checkin(request: HttpRequest) -> CheckinOut:
    """Daily check-in: once per mall-local day. Already checked in → 409 `points.checkin_already`; no active
    check-in rule → 404 `points.checkin_unavailable`; monthly limit reached → 409 `points.checkin_limit`."""
    member = _member(request)
    outcome = app_actions.checkin_run(member=member, mall=_mall(request, member))
    if outcome.status == app_actions.CHECKIN_ALREADY:
        raise ConflictError(outcome.message, code="points.checkin_already")
    if outcome.status == app_actions.CHECKIN_LIMIT:
        raise ConflictError(outcome.message, code="points.checkin_limit")
    if outcome.status == app_actions.CHECKIN_UNAVAILABLE:
        raise NotFoundError(outcome.message, code="points.checkin_unavailable")
    return CheckinOut(points=outcome.points, balance=outcome.balance, date=outcome.state.today, message=outcome.message)


@router.get("/me/tier", response={200: MeTierOut, **ERRORS}, auth=member_auth)
def me_tier(request: HttpRequest) -> MeTierOut:
    """The member's tier and its benefits, progress to the next tier over the rolling 12-month window (amount still
    needed), what the next tier brings, and the tier history with reasons."""
    member = _member(request)
    page = app_presenters.tier_page(member=member, tz_name=_mall(request, member).timezone)
    if page is None:
        return MeTierOut(has_tiers=False)
    return MeTierOut(
        has_tiers=True,
        current=_tier_out(page.current, page.current_benefits),
        next=_tier_out(page.next, page.next_benefits) if page.next else None,
        qualify_by=page.qualify_by,
        qualifying_amount=page.qualifying_amount,
        amount_needed=page.amount_needed,
        amount_to_keep=page.amount_to_keep,
        progress_pct=page.progress_pct,
        window_start=page.window_start,
        window_end=page.window_end,
        grace_until=page.grace_until,
        override_until=page.override_until,
        summary=page.needed_sentence,
        history=[
            TierHistoryOut(
                at=h.at,
                from_name=h.from_name,
                to_code=h.to_code,
                to_name=h.to_name,
                reason=h.reason,
                reason_label=h.reason_label,
                note=h.note,
            )
            for h in page.history
        ],
    )


@router.get("/me/wallet", response={200: WalletOut, **ERRORS}, auth=member_auth)
def me_wallet(request: HttpRequest, query: Query[PageQuery]) -> WalletOut:
    """Wallet balance (principal and bonus), the top-up bonuses open today, unpaid top-ups and the history."""
    member = _member(request)
    mall = _mall(request, member)
    rows, has_next = app_presenters.wallet_rows(
        member=member, tz_name=mall.timezone, page=query.page, page_size=query.page_size
    )
    return WalletOut(
        balance=_balance_out(member),
        bonus_offers=[
            BonusOfferOut(min_amount_fen=o.min_amount_fen, bonus_fen=o.bonus_fen, label=o.label)
            for o in app_presenters.bonus_offers(mall=mall)
        ],
        pending_topups=[
            PendingTopUpOut(id=p.id, amount_fen=p.amount_fen, bonus_fen=p.bonus_fen, created_at=p.created_at)
            for p in app_presenters.pending_topups(member=member, tz_name=mall.timezone)
        ],
        history=[
            WalletHistoryItemOut(
                transaction_id=r.transaction_id,
                occurred_at=r.occurred_at,
                kind=r.kind,
                title=r.title,
                detail=r.detail,
                principal_fen=r.principal_fen,
                bonus_fen=r.bonus_fen,
                total_fen=r.total_fen,
            )
            for r in rows
        ],
        page=query.page,
        has_next=has_next,
        providers=payment_selectors.providers_available(mall_group_id=mall.group_id),
    )


@router.post("/me/wallet/topups", response={200: TopUpIntentOut, **ERRORS, 503: ProblemOut}, auth=member_auth)
def me_topup_start(request: HttpRequest, payload: TopUpIn) -> TopUpIntentOut:
    """Start a top-up; the bonus is fixed now. An `Idempotency-Key` header (1–64 characters) is required: the same
    key and amount return the same top-up, the same key with another amount is 409 `wallet.idempotency_conflict`.
    The answer says how the device pays (`pay_kind`, `payload`); the wallet is credited when the gateway's
    notification arrives (GET /me/wallet shows it). A gateway that cannot be reached is 503
    `payments.gateway_unavailable` (nothing was charged: retry with the same key)."""
    member = _member(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > TOPUP_KEY_MAX or not key.isprintable():
        raise ValidationError(
            _("An Idempotency-Key header (1–64 printable characters) is required."),
            code="idempotency.key_required",
            fields={"Idempotency-Key": "required"},
        )
    device = pay_device(request, member_id=member.pk, key=key)
    if payload.return_url:
        device = replace(device, return_url=payload.return_url)
    started = app_actions.topup_start(
        member=member,
        mall=_mall(request, member),
        amount_fen=payload.amount_fen,
        key=key,
        provider=payload.provider,
        device=device,
    )
    attempt = payment_selectors.member_attempt(member_id=member.pk, key=key)
    topup = (
        app_presenters.member_topup(member=member, topup_id=attempt.topup_id) if attempt and attempt.topup_id else None
    )
    if topup is None:
        raise NotFoundError(code="wallet.topup_not_found")
    return TopUpIntentOut(
        topup_id=topup.pk,
        reference=topup.reference,
        gateway=topup.gateway,
        gateway_ref=topup.gateway_ref or "",
        amount_fen=topup.amount_fen,
        bonus_fen=topup.bonus_fen,
        status=topup.status,
        pay_kind=started.pay_kind,
        payload=dict(started.payload),
    )


class PaymentOut(Schema):
    out_trade_no: str
    provider: str
    purpose: str = Field(description="topup | store")
    state: str = Field(description="created | paying | paid | failed | closed")
    fulfilment: str = Field(description="pending | done | refunded (could not be honoured) | review")
    amount_fen: int
    refunded_fen: int
    sale_id: int | None
    topup_id: int | None


@router.get("/me/payments/{key}", response={200: PaymentOut, **ERRORS}, auth=member_auth)
def me_payment(request: HttpRequest, key: str) -> PaymentOut:
    """A payment the member started with this Idempotency-Key (a top-up or a pay-at-store payment). While it
    waits, the gateway is asked (a member back from the cashier before the notification sees the result)."""
    member = _member(request)
    attempt = payment_selectors.member_attempt(member_id=member.pk, key=key)
    if attempt is None:
        raise NotFoundError(code="payments.not_found")
    if attempt.state in ("created", "paying"):
        payment_services.attempt_sync(attempt_id=attempt.pk)
        attempt.refresh_from_db()
    return PaymentOut(
        out_trade_no=attempt.out_trade_no,
        provider=attempt.provider,
        purpose=attempt.purpose,
        state=attempt.state,
        fulfilment=attempt.fulfilment,
        amount_fen=attempt.amount_fen,
        refunded_fen=attempt.refunded_fen,
        sale_id=attempt.sale_id,
        topup_id=attempt.topup_id,
    )


@router.get("/me/purchases", response={200: PurchasesOut, **ERRORS}, auth=member_auth)
def me_purchases(request: HttpRequest, query: Query[PageQuery]) -> PurchasesOut:
    """The member's purchases, newest first: merchant, amounts, points earned and used, status."""
    member = _member(request)
    rows, paging = app_presenters.purchases(
        member=member, tz_name=_mall(request, member).timezone, page=query.page, page_size=query.page_size
    )
    return PurchasesOut(
        results=[
            PurchaseOut(
                id=p.id,
                merchant=p.merchant,
                store=p.store,
                occurred_at=p.occurred_at,
                receipt=p.receipt,
                total_fen=p.total_fen,
                paid_fen=p.paid_fen,
                points_earned=p.points_earned,
                points_used=p.points_used,
                points_value_fen=p.points_value_fen,
                refunded_fen=p.refunded_fen,
                status=p.status,
                status_label=p.status_label,
            )
            for p in rows
        ],
        page=_page_out(paging),
    )
