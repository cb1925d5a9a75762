"""Staff API: console (mall group roles, scoped to their group) and merchant lookup (masked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from galleria.accounts import permissions as perms
from galleria.accounts.models import User
from galleria.accounts.types import Scope
from galleria.audit.services import audit_record, pii_access_record
from galleria.core.errors import NotFoundError, PermissionDeniedError
from galleria.malls.models import Mall
from galleria.members import rules
from galleria.members import selectors as member_selectors
from galleria.members import services as member_services
from galleria.members.exceptions import MemberCodeStaleError, MemberNotFoundError
from galleria.members.models import IdentifierKind, JoinChannel, Member
from galleria.merchants.models import Merchant
from galleria.sales.selectors import sale_quote
from galleria.sales.types import LineIn

from ..common import actor_for
from .auth import api_scope, staff_auth
from .schemas import (
    NO_NUL,
    Identifier,
    IdentifierOut,
    MaskedMemberOut,
    MemberPage,
    ProblemOut,
    RegisterIn,
    StaffMemberDetailOut,
    StaffMemberOut,
)

console = Router(tags=["console"], auth=staff_auth)
merchant = Router(tags=["merchant"], auth=staff_auth)
ERRORS: dict[int, type] = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,
    404: ProblemOut,
    409: ProblemOut,
    422: ProblemOut,
}


def _scope(request: HttpRequest, permission: str) -> Scope:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    scope = api_scope(request, user)  # a staff API token carries only its scopes
    if not scope.can(permission):
        raise PermissionDeniedError(_("Your role does not allow this."), code="auth.forbidden")
    return scope


def _member_out(member: Member, *, scope: Scope, matched_by: str | None = None) -> StaffMemberOut:
    return StaffMemberOut(
        id=member.pk,
        card_no=member.card_no,
        phone=member.phone if scope.can(perms.MEMBERS_VIEW_PII) else rules.mask_phone(member.phone),
        name=member.name if scope.can(perms.MEMBERS_VIEW_PII) else rules.mask_name(member.name),
        gender=member.gender,
        join_channel=member.join_channel,
        join_mall=member.join_mall.name,
        joined_at=member.created_at,
        last_active_at=member.last_active_at,
        matched_by=matched_by,
    )


class MemberQuery(Schema):
    q: str = Field(
        "",
        max_length=64,
        pattern=NO_NUL,
        description="Any identifier (phone, card, dynamic code, plate, WeChat id) or a name fragment",
    )
    channel: str = Field("", max_length=10, pattern=NO_NUL)
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(25, ge=1, le=100)


@console.get("/members", response={200: MemberPage, **ERRORS})
def members_search(request: HttpRequest, filters: Query[MemberQuery]) -> MemberPage:
    scope = _scope(request, perms.MEMBERS_VIEW)
    qs = member_selectors.member_search(mall_group_id=scope.mall_group_id, query=filters.q, channel=filters.channel)
    rows = list(qs[filters.offset : filters.offset + filters.limit])
    if scope.can(perms.MEMBERS_VIEW_PII):
        _log_pii(request, scope, [m for m in rows if m.phone], ("phone",), "api:console.members_search")
    return MemberPage(count=qs.count(), results=[_member_out(m, scope=scope) for m in rows])


def _log_pii(request: HttpRequest, scope: Scope, members: list[Member], fields: tuple[str, ...], source: str) -> None:
    """The access log: these members' unmasked `fields` are in the response (one bulk INSERT)."""
    if members:
        pii_access_record(
            actor=actor_for(request),
            mall_group_id=members[0].mall_group_id if scope.is_platform else scope.mall_group_id,
            member_ids=[m.pk for m in members],
            fields=fields,
            source=source,
        )


@console.get("/members/{member_id}", response={200: StaffMemberDetailOut, **ERRORS})
def member_detail(request: HttpRequest, member_id: int) -> StaffMemberDetailOut:
    """The member 360 record. Reading it is recorded in the audit log (personal data access)."""
    scope = _scope(request, perms.MEMBERS_VIEW)
    if not 0 < member_id < 2**62:
        raise NotFoundError()
    try:  # an absorbed member's id resolves to its survivor (docs/merge.md)
        member = member_selectors.member_get(
            mall_group_id=None if scope.is_platform else scope.mall_group_id, member_id=member_id
        )
    except Member.DoesNotExist:
        raise NotFoundError() from None
    pii = scope.can(perms.MEMBERS_VIEW_PII)
    audit_record(
        actor=actor_for(request),
        action="member.view_pii" if pii else "member.view",
        target_type="member",
        target_id=member.pk,
        target_label=member.card_no,
        mall_group_id=member.mall_group_id,
    )
    if pii:
        shown = ("phone", "birthday", "email", "identifiers")
        _log_pii(
            request,
            scope,
            [member],
            tuple(f for f in shown if f == "identifiers" or getattr(member, f)),
            "api:console.member_detail",
        )
    base = _member_out(member, scope=scope).model_dump()
    identifiers = [
        IdentifierOut(
            id=i.pk, kind=i.kind, value=i.value if pii or i.kind != IdentifierKind.PHONE else rules.mask_phone(i.value)
        )
        for i in member_selectors.member_identifiers(member_id=member.pk)
    ]
    return StaffMemberDetailOut(
        **base,
        birthday=member.birthday if pii else None,
        email=member.email if pii else "",
        identifiers=identifiers,
        consents=member_selectors.member_current_consents(member=member),
    )


@console.post("/members", response={201: StaffMemberOut, **ERRORS})
def member_register(request: HttpRequest, payload: RegisterIn) -> Status:
    """Register a member at the service desk."""
    scope = _scope(request, perms.MEMBERS_EDIT)
    mall_qs = Mall.objects.all() if scope.is_platform else Mall.objects.filter(group_id=scope.mall_group_id)
    mall = mall_qs.filter(pk=payload.mall_id).first()
    if mall is None:
        raise NotFoundError(_("Unknown mall."), code="malls.not_found", fields={"mall_id": "unknown"})
    member = member_services.member_register(
        mall=mall,
        phone=payload.phone,
        channel=JoinChannel.DESK,
        actor=actor_for(request),
        profile={"name": payload.name, "gender": payload.gender, "birthday": payload.birthday, "email": payload.email},
    )
    if scope.can(perms.MEMBERS_VIEW_PII):
        _log_pii(request, scope, [member], ("phone",), "api:console.member_register")
    return Status(201, _member_out(member, scope=scope))


@merchant.get("/members/lookup", response={200: MaskedMemberOut, **ERRORS})
def member_lookup(request: HttpRequest, code: Query[Identifier]) -> MaskedMemberOut:
    """Identify a shopper at the till by any identifier. Merchants see a masked view only."""
    scope = _scope(request, perms.PORTAL_MEMBER_LOOKUP)
    merchant_obj = Merchant.objects.select_related("mall").get(pk=scope.merchant_id or 0)
    hit = member_selectors.member_resolve(mall_group_id=merchant_obj.mall.group_id, raw=code)
    if hit is None:
        if rules.looks_like_dynamic_code(code.replace(" ", "")):
            raise MemberCodeStaleError()
        raise MemberNotFoundError()
    audit_record(
        actor=actor_for(request),
        action="member.lookup",
        target_type="member",
        target_id=hit.member.pk,
        target_label=hit.member.card_no,
        mall_group_id=hit.member.mall_group_id,
        changes={"merchant": [None, merchant_obj.name]},
    )
    return MaskedMemberOut(
        card_no=hit.member.card_no,
        phone=rules.mask_phone(hit.member.phone),
        name=rules.mask_name(hit.member.name),
        joined_at=hit.member.created_at,
        matched_by=hit.kind,
    )


class SimLine(Schema):
    sku: str = Field("SKU", min_length=1, max_length=64, pattern=NO_NUL)
    category: str = Field("", max_length=40, pattern=NO_NUL)
    amount_fen: int = Field(ge=0, le=10**12)


class SimulateIn(Schema):
    merchant_id: int = Field(ge=1, le=2**62)
    member: str | None = Field(None, max_length=64, pattern=NO_NUL, description="Any member identifier (optional)")
    at: dt.datetime | None = Field(None, description="Simulate at this instant (default: now)")
    lines: list[SimLine] = Field(min_length=1, max_length=200)
    points_to_use: int = Field(0, ge=0, le=10**9)


class SimulateOut(Schema):
    points_to_earn: int
    explanation: dict[str, Any]
    max_points_usable: int
    points_balance: int
    tier_code: str


@console.post("/points/simulate", response={200: SimulateOut, **ERRORS})
def points_simulate(request: HttpRequest, payload: SimulateIn) -> SimulateOut:
    """What a member (or a non-member) would earn for a basket at a merchant, now or at time T. Writes nothing."""
    scope = _scope(request, perms.MEMBERS_VIEW)
    merchants = Merchant.objects.select_related("mall")
    if not scope.is_platform:
        merchants = merchants.filter(mall__group_id=scope.mall_group_id)
    merchant_obj = merchants.filter(pk=payload.merchant_id).first()
    if merchant_obj is None:
        raise NotFoundError(_("Unknown merchant."), code="merchants.not_found", fields={"merchant_id": "unknown"})
    member_id = None
    if payload.member:
        hit = member_selectors.member_resolve(mall_group_id=merchant_obj.mall.group_id, raw=payload.member)
        if hit is None:
            raise MemberNotFoundError()
        member_id = hit.member.pk
    lines = [
        LineIn(
            sku=x.sku, name=x.sku, quantity=1, unit_price_fen=x.amount_fen, amount_fen=x.amount_fen, category=x.category
        )
        for x in payload.lines
    ]
    quote = sale_quote(
        merchant_id=merchant_obj.pk,
        member_id=member_id,
        lines=lines,
        payments=[],
        points_to_use=payload.points_to_use,
        at=payload.at,
    )
    return SimulateOut(
        points_to_earn=quote.points_to_earn if member_id else _as_int(quote.explanation.get("points")),
        explanation=quote.explanation,
        max_points_usable=quote.max_points_usable,
        points_balance=quote.points_balance,
        tier_code=quote.tier_code,
    )


def _as_int(value: object) -> int:
    return value if isinstance(value, int) else 0
