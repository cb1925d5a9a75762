"""Member API tokens (docs/api.md, "Tokens"): a device (a mini-program, a native app, a script) signs in with an SMS
code and gets a short-lived bearer access token and a refresh token; refreshing rotates both (a used refresh token
signs the device out); the member lists and signs out their devices. Every /api/v1/app/ operation accepts the
access token (`Authorization: Bearer gat_…`, no CSRF) as well as the web app's session cookie."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from galleria.apiauth import selectors as token_selectors
from galleria.apiauth import services as token_services
from galleria.apiauth.types import TokenPair
from galleria.core.errors import ApplicationError, NotFoundError, ValidationError
from galleria.malls.selectors import mall_for_app
from galleria.members import services as member_services
from galleria.messaging.providers.wechat import WechatError
from galleria.messaging.wechat import wechat_miniprogram_auth

from ..common import client_ip
from .auth import member_auth
from .schemas import Code, MallCode, Phone, ProblemOut, ShortText

router = Router(tags=["member tokens"])
ERRORS: dict[int, type] = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,
    404: ProblemOut,
    422: ProblemOut,
    429: ProblemOut,
}


class WechatUnavailableError(ApplicationError):
    code = "wechat.unavailable"
    status = 503

    def default_message(self) -> str:
        return str(_("WeChat sign-in is not available right now: try again shortly."))


class WechatNotConfiguredError(NotFoundError):
    code = "wechat.not_configured"

    def default_message(self) -> str:
        return str(_("This mall has no WeChat mini-program sign-in."))


class TokenSignInIn(Schema):
    phone: Phone
    code: Code
    mall: MallCode | None = None
    accept_terms: bool = Field(description="The member accepts the membership terms and privacy policy.")
    device_name: ShortText = Field(default="", description="Shown in the member's device list, e.g. 'iPhone 15'.")


class WechatSignInIn(Schema):
    code: str = Field(min_length=1, max_length=128, description="The code from wx.login().")
    phone_code: str = Field(
        default="",
        max_length=128,
        description="The code from a getPhoneNumber button; needed when this WeChat user is not a member yet.",
    )
    mall: MallCode | None = None
    accept_terms: bool = Field(description="The member accepts the membership terms and privacy policy.")
    device_name: ShortText = Field(default="", description="Shown in the member's device list.")


class RefreshIn(Schema):
    refresh_token: str = Field(min_length=10, max_length=100)


class TokenOut(Schema):
    token_type: str = "Bearer"
    access_token: str
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_token: str
    refresh_expires_at: dt.datetime
    device_id: int
    member_id: int
    is_new: bool = False


class DeviceOut(Schema):
    id: int
    name: str
    signed_in_with: str
    signed_in_at: dt.datetime
    last_used_at: dt.datetime
    current: bool


def token_out(pair: TokenPair, *, member_id: int, is_new: bool = False) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        expires_in=max(0, int((pair.access_expires_at - dt.datetime.now(dt.UTC)).total_seconds())),
        refresh_token=pair.refresh_token,
        refresh_expires_at=pair.refresh_expires_at,
        device_id=pair.device_id,
        member_id=member_id,
        is_new=is_new,
    )


@router.post("/auth/token", response={200: TokenOut, **ERRORS}, auth=None)
def token_sign_in(request: HttpRequest, payload: TokenSignInIn) -> TokenOut:
    """Sign a device in with the SMS code (from /app/otp/request); a new phone joins as a member (terms accepted).
    Returns a bearer access token (15 minutes) and a refresh token (30 days, one use)."""
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
    pair = token_services.device_sign_in(
        member_id=member.pk, mall_group_id=member.mall_group_id, name=payload.device_name or "API", via="otp"
    )
    return token_out(pair, member_id=member.pk, is_new=created)


@router.post("/auth/wechat", response={200: TokenOut, **ERRORS, 503: ProblemOut}, auth=None)
def token_wechat(request: HttpRequest, payload: WechatSignInIn) -> TokenOut:
    """Mini-program sign-in: the wx.login code goes to WeChat's code2Session (openid, unionid); the member is the one
    with that WeChat identity, else the one with the phone number WeChat verified (getPhoneNumber code), else a new
    member with it. Unknown WeChat user without `phone_code`: 422 `members.wechat_phone_required`."""
    if not payload.accept_terms:
        raise ValidationError(
            _("Accept the membership terms and privacy policy to continue."),
            code="members.terms_required",
            fields={"accept_terms": "required"},
        )
    mall = mall_for_app(code=payload.mall)
    try:
        auth = wechat_miniprogram_auth()
        session = auth.code2session(js_code=payload.code)
        phone = auth.phone_number(code=payload.phone_code) if payload.phone_code else None
    except WechatError as exc:
        if exc.code.startswith("config."):
            raise WechatNotConfiguredError() from exc
        if exc.retryable:
            raise WechatUnavailableError() from exc
        raise ValidationError(
            _("WeChat did not accept the code: sign in again."), code="wechat.code_invalid", fields={"code": exc.code}
        ) from exc
    member, created = member_services.member_wechat_sign_in(
        mall=mall, openid=session.openid, unionid=session.unionid, phone=phone, ip=client_ip(request)
    )
    pair = token_services.device_sign_in(
        member_id=member.pk, mall_group_id=member.mall_group_id, name=payload.device_name or "WeChat", via="wechat"
    )
    return token_out(pair, member_id=member.pk, is_new=created)


@router.post("/auth/refresh", response={200: TokenOut, **ERRORS}, auth=None)
def token_refresh(request: HttpRequest, payload: RefreshIn) -> TokenOut:
    """New access and refresh tokens; the refresh token sent stops working. Sending a refresh token a second time
    signs its device out (`auth.refresh_reused`): it was copied."""
    pair = token_services.device_refresh(refresh_token=payload.refresh_token)
    return token_out(pair, member_id=pair.member_id)


def _member_id(request: HttpRequest) -> int:
    """The signed-in member's id (member_auth put the member on the request)."""
    return int(request.auth.pk)  # type: ignore[attr-defined]


@router.get("/me/devices", response={200: list[DeviceOut], **ERRORS}, auth=member_auth)
def devices(request: HttpRequest) -> list[DeviceOut]:
    """The devices signed in to the member's account with tokens, most recently used first."""
    current = getattr(request, "galleria_device_id", None)
    return [
        DeviceOut(
            id=d.pk,
            name=d.name,
            signed_in_with=d.via,
            signed_in_at=d.created_at,
            last_used_at=d.last_used_at,
            current=d.pk == current,
        )
        for d in token_selectors.member_devices(member_id=_member_id(request))[:50]
    ]


@router.delete("/me/devices/{device_id}", response={204: None, **ERRORS}, auth=member_auth)
def device_sign_out(request: HttpRequest, device_id: int) -> Status:
    """Sign a device out: its access and refresh tokens stop working at once."""
    token_services.device_revoke(member_id=_member_id(request), device_id=device_id)
    return Status(204, None)
