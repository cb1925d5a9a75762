"""SMS backends: what `services.sms_deliver` hands a message to.

`GALLERIA_SMS_BACKEND` chooses: `outbox` (the default: the text goes to the log, nothing is sent — demo and tests
without the sandbox), `aliyun` / `tencent` (the adapters in `providers/`, configured from `GALLERIA_SMS_ALIYUN` /
`GALLERIA_SMS_TENCENT`, the sign name and `GALLERIA_SMS_TEMPLATES`), or the dotted path of a class implementing
`SmsBackend`. Secrets come from the environment and are never logged: the adapters hold them, errors carry only
the provider's code and message.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .providers.base import Found, SmsProvider, SmsProviderError, SmsRequest
from .templates import SMS_TEMPLATES

logger = logging.getLogger("galleria.sms")

ALIASES = {
    "outbox": "galleria.messaging.sms.OutboxSmsBackend",
    "aliyun": "galleria.messaging.sms.AliyunBackend",
    "tencent": "galleria.messaging.sms.TencentBackend",
}


class SmsBackend(Protocol):
    name: str

    def send(self, request: SmsRequest, *, body: str) -> str:
        """Deliver one message; return the provider's reference; raise SmsProviderError (or anything: in doubt)."""
        ...

    def lookup(self, *, phone: str, out_id: str, since: dt.datetime) -> Found | None:
        """The message already at the provider under `out_id`, if any (None when the backend cannot tell)."""
        ...


class OutboxSmsBackend:
    """Development/demo backend: the message stays in the outbox table and is printed to the console log."""

    name = "outbox"
    keeps_bodies = True  # the outbox is the sandbox's inbox: sign-in codes stay readable there

    def send(self, request: SmsRequest, *, body: str) -> str:
        logger.warning("SMS to %s: %s", request.phone, body)
        return "outbox"

    def lookup(self, *, phone: str, out_id: str, since: dt.datetime) -> Found | None:
        return None


class ProviderBackend:
    """A provider adapter with Galleria's template and sign-name configuration around it."""

    name = "provider"
    keeps_bodies = False

    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider
        self.name = provider.name

    def send(self, request: SmsRequest, *, body: str) -> str:
        ref = self.provider.send(request)
        if settings.GALLERIA_SMS_ECHO:  # the demo: codes show in its terminal (the redact filter masks the phone)
            logger.warning("SMS to %s: %s", request.phone, body)
        return ref

    def lookup(self, *, phone: str, out_id: str, since: dt.datetime) -> Found | None:
        return self.provider.lookup(phone=phone, out_id=out_id, since=since)


def _aliyun() -> SmsProvider:
    from .providers.aliyun import AliyunSms

    conf = settings.GALLERIA_SMS_ALIYUN
    return AliyunSms(
        access_key_id=conf["ACCESS_KEY_ID"],
        access_key_secret=conf["ACCESS_KEY_SECRET"],
        endpoint=conf["ENDPOINT"],
        protocol=conf["PROTOCOL"],
        region_id=conf["REGION"],
        timeout_s=settings.GALLERIA_SMS_TIMEOUT_S,
    )


def _tencent() -> SmsProvider:
    from .providers.tencent import TencentSms

    conf = settings.GALLERIA_SMS_TENCENT
    return TencentSms(
        secret_id=conf["SECRET_ID"],
        secret_key=conf["SECRET_KEY"],
        sdk_app_id=conf["SDK_APP_ID"],
        endpoint=conf["ENDPOINT"],
        protocol=conf["PROTOCOL"],
        region=conf["REGION"],
        timeout_s=settings.GALLERIA_SMS_TIMEOUT_S,
    )


class AliyunBackend(ProviderBackend):
    def __init__(self) -> None:
        super().__init__(_aliyun())


class TencentBackend(ProviderBackend):
    def __init__(self) -> None:
        super().__init__(_tencent())


@lru_cache(maxsize=4)
def _backend(path: str, fingerprint: str) -> SmsBackend:
    backend: SmsBackend = import_string(path)()
    return backend


def get_backend() -> SmsBackend:
    """The configured backend, built once per process and configuration (building an SDK client is not free)."""
    path = ALIASES.get(settings.GALLERIA_SMS_BACKEND, settings.GALLERIA_SMS_BACKEND)
    fingerprint = repr((settings.GALLERIA_SMS_ALIYUN, settings.GALLERIA_SMS_TENCENT, settings.GALLERIA_SMS_TIMEOUT_S))
    return _backend(path, fingerprint)


def backend_cache_clear() -> None:
    _backend.cache_clear()


def provider_template(template: str) -> tuple[str, str]:
    """(template code/ID, sign name) of a Galleria template in this installation's settings; raises a final
    SmsProviderError when it is not configured (a configuration error: no attempt can succeed)."""
    entry: Any = settings.GALLERIA_SMS_TEMPLATES.get(template)
    if isinstance(entry, str):
        entry = {"id": entry}
    if not isinstance(entry, dict) or not entry.get("id"):
        raise SmsProviderError("config.template_missing", f"no provider template for {template!r}", retryable=False)
    sign = str(entry.get("sign") or settings.GALLERIA_SMS_SIGN_NAME)
    if not sign:
        raise SmsProviderError("config.sign_missing", "GALLERIA_SMS_SIGN_NAME is not set", retryable=False)
    return str(entry["id"]), sign


def build_request(*, backend: SmsBackend, phone: str, template: str, params: dict[str, Any], out_id: str) -> SmsRequest:
    """The provider request for an outbox row: the template's parameters in Galleria's order."""
    spec = SMS_TEMPLATES.get(template)
    names = spec.params if spec is not None else tuple(params)
    missing = [n for n in names if n not in params]
    if isinstance(backend, ProviderBackend):
        if spec is None:
            raise SmsProviderError("config.template_unknown", f"unknown template {template!r}", retryable=False)
        if missing:
            raise SmsProviderError("config.params_missing", f"missing {', '.join(missing)}", retryable=False)
        template_id, sign = provider_template(template)
    else:
        template_id, sign = template, str(settings.GALLERIA_SMS_SIGN_NAME)
    values = tuple((n, str(params.get(n, ""))) for n in names)
    return SmsRequest(phone=phone, sign_name=sign, template_id=template_id, params=values, out_id=out_id)
