"""Member app API — notifications: the member's WeChat subscribe-message accepts and browser push subscriptions.

Mounted under /api/v1/app next to the member app router, authenticated the same way (the member's app session,
`auth.member_auth`; cookie-authenticated writes need the CSRF token). Errors are problem+json:
`wechat.subscription_invalid`, `wechat.no_openid`, `push.subscription_invalid`, and 422 for a body of the wrong shape.

- `GET  /app/me/wechat/subscriptions`   the subscribe templates the mini-program may ask for, and the accepts left
- `POST /app/me/wechat/subscriptions`   what wx.requestSubscribeMessage answered: `{"results": {"<template id>":
                                        "accept"|"reject"|"ban"|"filter"}}`; each accept allows one message
- `GET  /app/push/key`                  the VAPID public key (applicationServerKey)
- `POST /app/me/push/subscriptions`     PushSubscription.toJSON(): `{"endpoint", "keys": {"p256dh", "auth"}}`
- `POST /app/me/push/unsubscribe`       `{"endpoint"}`: forget that browser
"""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StringConstraints

from galleria.members.selectors import member_wechat_openids
from galleria.messaging import selectors as messaging_selectors
from galleria.messaging import services as messaging_services
from galleria.messaging.exceptions import WechatOpenidMissingError

from .auth import member_auth
from .schemas import ProblemOut

router = Router(tags=["member app: notifications"])
ERRORS: dict[int, type] = {400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
TemplateId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


def _member_id(request: HttpRequest) -> int:
    """The signed-in member's id (member_auth put the member on the request)."""
    return int(request.auth.pk)  # type: ignore[attr-defined]


class WechatQuotaOut(Schema):
    template_ids: list[str]
    remaining: dict[str, int]


class WechatResultsIn(Schema):
    results: dict[TemplateId, Literal["accept", "reject", "ban", "filter"]] = Field(min_length=1, max_length=20)


class VapidKeyOut(Schema):
    public_key: str


class PushKeysIn(Schema):
    p256dh: str = Field(min_length=80, max_length=120)
    auth: str = Field(min_length=16, max_length=40)


class PushSubscriptionIn(Schema):
    endpoint: str = Field(min_length=10, max_length=1000)
    keys: PushKeysIn
    expirationTime: int | None = Field(default=None, ge=0, le=2**53)  # the browser's JSON name


class PushEndpointIn(Schema):
    endpoint: str = Field(min_length=10, max_length=1000)


class PushSubscriptionOut(Schema):
    endpoint: str


@router.get("/me/wechat/subscriptions", response={200: WechatQuotaOut, **ERRORS}, auth=member_auth)
def wechat_subscriptions(request: HttpRequest) -> WechatQuotaOut:
    return WechatQuotaOut(
        template_ids=sorted(messaging_services.wechat_subscribe_template_ids()),
        remaining=messaging_selectors.wechat_quota(member_id=_member_id(request)),
    )


@router.post("/me/wechat/subscriptions", response={200: WechatQuotaOut, **ERRORS}, auth=member_auth)
def wechat_subscriptions_record(request: HttpRequest, data: WechatResultsIn) -> WechatQuotaOut:
    member_id = _member_id(request)
    openid = member_wechat_openids(member_ids=[member_id]).get(member_id, "")
    if not openid:
        raise WechatOpenidMissingError()
    messaging_services.wechat_subscription_record(member_id=member_id, openid=openid, results=dict(data.results))
    return WechatQuotaOut(
        template_ids=sorted(messaging_services.wechat_subscribe_template_ids()),
        remaining=messaging_selectors.wechat_quota(member_id=member_id),
    )


@router.get("/push/key", response={200: VapidKeyOut, **ERRORS}, auth=member_auth)
def push_key(request: HttpRequest) -> VapidKeyOut:
    return VapidKeyOut(public_key=messaging_services.vapid_public())


@router.post("/me/push/subscriptions", response={201: PushSubscriptionOut, **ERRORS}, auth=member_auth)
def push_subscribe(request: HttpRequest, data: PushSubscriptionIn) -> Status:
    sub = messaging_services.push_subscription_save(
        member_id=_member_id(request),
        endpoint=data.endpoint,
        p256dh=data.keys.p256dh,
        auth=data.keys.auth,
        user_agent=request.headers.get("User-Agent", ""),
    )
    return Status(201, PushSubscriptionOut(endpoint=sub.endpoint))


@router.post("/me/push/unsubscribe", response={204: None, **ERRORS}, auth=member_auth)
def push_unsubscribe(request: HttpRequest, data: PushEndpointIn) -> Status:
    messaging_services.push_subscription_delete(member_id=_member_id(request), endpoint=data.endpoint)
    return Status(204, None)
