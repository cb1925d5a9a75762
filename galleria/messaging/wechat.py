"""WeChat configuration: the installation's apps (mini-program, official account, WeCom corp) and the template map,
read from settings (`GALLERIA_WECHAT`, `GALLERIA_WECHAT_TEMPLATES`; docs/messaging.md "WeChat"), and the access-token
store the adapters share across processes (the `WechatToken` table).

`GALLERIA_WECHAT_TEMPLATES` maps a Galleria template (`templates.py`: `otp`, `marketing_notice`, …) per channel to
WeChat's template id and its keyword fields, each keyword naming the Galleria parameter that fills it:

    {"marketing_notice": {"subscribe": {"id": "<template id>", "fields": {"thing1": "title", "thing2": "detail"}},
                          "template": {"id": "<template id>", "fields": {"thing1": "title", "time2": "sent_at"}}}}
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone

from .models import WechatToken
from .providers.wechat import MiniProgramAuth, WechatApp, WechatError, WechatSender
from .rules import wechat_fit, wechat_value_problem

APP_OF_CHANNEL = {"subscribe": "mini", "template": "mp", "wecom": "wecom"}


class DbTokenStore:
    """Access tokens in the `WechatToken` table: every process and machine uses the same token until it is replaced.
    A token refreshed by two processes at once is harmless: the stable-token API hands both the same token."""

    def get(self, key: str) -> str | None:
        row = WechatToken.objects.filter(key=key, expires_at__gt=timezone.now()).values_list("token", flat=True)
        return row.first()

    def set(self, key: str, token: str, ttl_s: int) -> None:
        WechatToken.objects.update_or_create(
            key=key, defaults={"token": token, "expires_at": timezone.now() + dt.timedelta(seconds=ttl_s)}
        )

    def delete(self, key: str) -> None:
        WechatToken.objects.filter(key=key).delete()


def wechat_app(channel: str) -> WechatApp:
    """The configured app of a channel; a final WechatError when it is not configured."""
    conf = settings.GALLERIA_WECHAT
    kind = APP_OF_CHANNEL[channel]
    prefix = {"mini": "MINI", "mp": "MP", "wecom": "WECOM"}[kind]
    appid = str(conf.get(f"{prefix}_APPID") or "")
    secret = str(conf.get(f"{prefix}_SECRET") or "")
    if not appid or not secret:
        raise WechatError("config.app_missing", f"GALLERIA_WECHAT_{prefix}_APPID/_SECRET not set", retryable=False)
    base = str(conf["WECOM_BASE_URL"] if kind == "wecom" else conf["API_BASE_URL"])
    return WechatApp(kind=kind, appid=appid, secret=secret, base_url=base)


@lru_cache(maxsize=8)
def _sender(app: WechatApp, timeout_s: float) -> WechatSender:
    return WechatSender(app=app, tokens=DbTokenStore(), timeout_s=timeout_s)


def wechat_sender(channel: str) -> WechatSender:
    """The adapter of a channel, built once per process and configuration."""
    return _sender(wechat_app(channel), float(settings.GALLERIA_WECHAT_TIMEOUT_S))


def sender_cache_clear() -> None:
    _sender.cache_clear()


def template_spec(template: str, channel: str) -> dict[str, Any] | None:
    """{"id", "fields"} of a Galleria template on a channel, or None when the installation has not mapped it."""
    entry = (settings.GALLERIA_WECHAT_TEMPLATES.get(template) or {}).get(channel)
    if not isinstance(entry, dict) or not entry.get("id") or not isinstance(entry.get("fields"), dict):
        return None
    return entry


def template_data(spec: dict[str, Any], params: dict[str, Any]) -> dict[str, str]:
    """The keyword values to send: each keyword filled from its Galleria parameter, fitted to WeChat's limits
    (text shortened with "…"); a final WechatError `config.field_invalid` when a value cannot be sent as it is."""
    data: dict[str, str] = {}
    for keyword, param in spec["fields"].items():
        value = wechat_fit(keyword, str(params.get(param, "")))
        problem = wechat_value_problem(keyword, value)
        if problem:
            raise WechatError("config.field_invalid", problem, retryable=False)
        data[keyword] = value
    return data


def server_token(app: str) -> str:
    """The token configured for an app's server URL (消息推送), which signs its event pushes."""
    return str(settings.GALLERIA_WECHAT.get({"mini": "MINI_TOKEN", "mp": "MP_TOKEN"}[app]) or "")


def wechat_miniprogram_auth() -> MiniProgramAuth:
    """Mini-program sign-in (code2Session, the phone-number API) through the configured mini-program app; a final
    WechatError when it is not configured (docs/api.md, "Mini-program sign-in")."""
    return MiniProgramAuth(sender=wechat_sender("subscribe"))
