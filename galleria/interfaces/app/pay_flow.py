"""How the member's device pays, and what the app shows of a payment — no views here.

- **The device.** Inside WeChat (its browser says `MicroMessenger`) a member known by their WeChat openid pays
  with JSAPI (WeixinJSBridge); elsewhere WeChat Pay is H5 (the gateway's cashier page, then back to the app) and
  Alipay is WAP. The return URL is the app's payment page for the form key, so the member lands on the result.
- **The result.** The payment page polls; while the attempt still waits it asks the gateway (payments.attempt_sync),
  so a member back before the notification sees the result at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from galleria.members.selectors import member_identifiers
from galleria.payments.gateways.base import PayKind

from ..common import client_ip

PROVIDER_LABELS = {"wechat": _("WeChat Pay"), "alipay": _("Alipay"), "wallet": _("Wallet")}


@dataclass(frozen=True)
class PayDevice:
    in_wechat: bool
    openid: str
    client_ip: str
    return_url: str


def pay_device(request: HttpRequest, *, member_id: int, key: str) -> PayDevice:
    in_wechat = "MicroMessenger" in request.headers.get("User-Agent", "")
    openid = ""
    if in_wechat:
        openid = next((i.value for i in member_identifiers(member_id=member_id) if i.kind == "wechat_openid"), "")
    return PayDevice(
        in_wechat=in_wechat,
        openid=openid,
        client_ip=client_ip(request) or "127.0.0.1",
        return_url=request.build_absolute_uri(reverse("app:payment", args=[key])),
    )


def pay_kind_for(provider: str, device: PayDevice) -> str:
    if provider == "wechat":
        return PayKind.JSAPI if device.in_wechat and device.openid else PayKind.H5
    return PayKind.WAP


def redirect_url(*, pay_kind: str, payload: Mapping[str, str]) -> str | None:
    """Where to send the browser to pay, or None when the page pays itself (JSAPI) or shows a QR (Native)."""
    if pay_kind == PayKind.H5:
        return payload.get("h5_url")
    if pay_kind in (PayKind.WAP, PayKind.PAGE):
        return payload.get("url")
    return None


@dataclass(frozen=True)
class PayChoice:
    """The pay-at-store form, checked: the amount typed, whether to use points, which coupons, how to pay."""

    total_fen: int
    use_points: bool
    coupon_ids: tuple[int, ...] | None  # None: the best combination
    method: str  # wechat | alipay | wallet
    key: str


def parse_coupon_choice(value: str) -> tuple[int, ...] | None:
    """ "best" (or empty) → None, "none" → (), a coupon id → (id,)."""
    if value in ("", "best"):
        return None
    if value == "none":
        return ()
    return (int(value),) if value.isdigit() else None
