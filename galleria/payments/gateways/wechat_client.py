"""The wechatpayv3 client one WeChat Pay account needs, and how its answers become results or errors.

Built in platform **public-key mode** only (`public_key` + `public_key_id`): without them the SDK's constructor
downloads certificates from the network. Pointed at `config.base_url` through the private `_core._gate_way` (there
is no constructor argument; `test_sdk_pins.py` fails if it disappears). `timeout` is always set (the SDK's default
waits forever). Construction costs ~100 ms of RSA key loading: build one per account per process
(`galleria.payments.gateways.gateway_for` caches it).

The SDK returns `(status, text)` and never raises on 4xx/5xx; it raises for a 2xx answer whose signature does not
verify (that is reported as GatewayUnavailableError code `answer_signature`: the outcome is unknown, query later).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from wechatpayv3 import WeChatPay, WeChatPayType

from . import retry
from .base import GatewayConfig, GatewayRefusedError, GatewayUnavailableError, Provider

log = logging.getLogger("galleria.payments.gateways")

CONNECT_TIMEOUT_S = 3.0
PRODUCTION_BASE_URL = "https://api.mch.weixin.qq.com"

Answer = tuple[int, Any]


class WechatClient:
    config: GatewayConfig

    def __init__(self, config: GatewayConfig) -> None:
        if config.provider != Provider.WECHAT:
            raise ValueError("WechatGateway needs a WeChat Pay config")
        missing = [
            name
            for name in (
                "app_id",
                "mch_id",
                "private_key",
                "cert_serial_no",
                "platform_public_key",
                "platform_public_key_id",
                "apiv3_key",
            )
            if not getattr(config, name)
        ]
        if missing:  # never construct without the platform public key: the SDK would go to the network
            raise ValueError(f"WeChat Pay config lacks {', '.join(missing)}")
        if len(config.apiv3_key.encode()) != 32:
            raise ValueError("the APIv3 key must be 32 ASCII characters")
        self.config = config
        self._wx = WeChatPay(
            wechatpay_type=WeChatPayType.JSAPI,
            mchid=config.mch_id,
            private_key=config.private_key,
            cert_serial_no=config.cert_serial_no,
            appid=config.app_id,
            apiv3_key=config.apiv3_key,
            notify_url=config.notify_url or None,
            public_key=config.platform_public_key,
            public_key_id=config.platform_public_key_id,
            timeout=(CONNECT_TIMEOUT_S, config.timeout_s),
        )
        self._wx._core._gate_way = (config.base_url or PRODUCTION_BASE_URL).rstrip("/")
        platform_key = load_pem_public_key(config.platform_public_key.encode())
        if not isinstance(platform_key, rsa.RSAPublicKey):
            raise ValueError("the WeChat Pay platform public key must be RSA")
        self._platform_key = platform_key

    @property
    def sdk(self) -> WeChatPay:
        """The SDK client (for tests and for calls the adapter does not wrap)."""
        return self._wx

    def _request(self, call: Callable[[], Answer], *, what: str) -> Answer:
        """One outbound call under the retry policy: 5xx/429 and network errors are retried, then reported as
        GatewayUnavailableError; everything else comes back as (status, body) for the caller to judge."""

        def attempt() -> Answer:
            try:
                status, body = call()
            except Exception as exc:
                if retry.is_retryable(exc):
                    raise
                if "failed to verify the signature" in str(exc) or "does not support this algorithm" in str(exc):
                    log.error("WeChat Pay answer to %s does not verify: forged or misconfigured key", what)
                    raise GatewayUnavailableError(f"{what}: answer signature", code="answer_signature") from exc
                raise
            if retry.transient_status(status):
                raise retry.TransientAnswerError(status, body if isinstance(body, str) else "")
            return status, body

        return retry.call(attempt, what=f"wechat.{what}")

    @staticmethod
    def _json(body: Any) -> dict[str, Any]:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if not body:
            return {}
        try:
            data = json.loads(body)
        except ValueError:
            return {"message": str(body)[:200]}
        return data if isinstance(data, dict) else {}

    def _refused(self, status: int, body: Any, *, what: str) -> GatewayRefusedError:
        data = self._json(body)
        code = str(data.get("code") or f"HTTP_{status}")
        return GatewayRefusedError(f"wechat.{what}: {status} {code} {data.get('message', '')}", code=code)

    def _ok(self, answer: Answer, *, what: str, expect: tuple[int, ...] = (200,)) -> dict[str, Any]:
        status, body = answer
        if status not in expect:
            raise self._refused(status, body, what=what)
        return self._json(body)
