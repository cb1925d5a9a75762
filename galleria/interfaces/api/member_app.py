"""Member app API (the mini-program's backend): SMS sign-in/join, profile, plates, dynamic member code."""

from __future__ import annotations

import segno
from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from galleria.audit.types import Actor
from galleria.core.errors import ValidationError
from galleria.malls.selectors import mall_for_app
from galleria.members import selectors as member_selectors
from galleria.members import services as member_services
from galleria.members.exceptions import MemberNotFoundError
from galleria.members.models import IdentifierKind, Member, MemberIdentifier

from ..common import client_ip
from .auth import MEMBER_SESSION_KEY, member_auth
from .schemas import (
    MemberCodeOut,
    MemberSelfOut,
    OtpRequestIn,
    OtpRequestOut,
    OtpVerifyIn,
    PlateIn,
    ProblemOut,
    ProfileIn,
)

router = Router(tags=["member app"])
ERRORS: dict[int, type] = {
    400: ProblemOut,
    401: ProblemOut,
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
            "Accept the membership terms and privacy policy to continue.",
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


@router.post("/logout", response={204: None}, auth=member_auth)
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
def plate_remove(request: HttpRequest, plate: str) -> MemberSelfOut:
    member = _member(request)
    row = MemberIdentifier.objects.filter(member=member, kind=IdentifierKind.PLATE, value=plate[:16]).first()
    if row is None:
        raise MemberNotFoundError("This plate is not bound to you.", code="members.plate_not_bound")
    member_services.member_identifier_remove(member_id=member.pk, actor=_actor(request, member), identifier_id=row.pk)
    return _self_out(member)
