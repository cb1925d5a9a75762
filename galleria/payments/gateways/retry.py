"""The one retry policy for outbound gateway calls (stamina): only what may succeed on a second try is retried —
connection errors, timeouts, `URLError` (Alipay's urllib), and answers 5xx / 429 — a few attempts with a short
exponential backoff and a total time cap. A refusal (any other 4xx, a business code) is never retried.

Only idempotent calls go through here (the same out_trade_no / out_refund_no / out_order_no at the gateway), and
each attempt must rebuild its payload (see `WechatGateway.profit_share`: the SDK encrypts in place). Tests switch
waiting off with `stamina.set_testing(True, attempts=n)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar
from urllib.error import HTTPError, URLError

import requests
import stamina

from .base import GatewayUnavailableError

log = logging.getLogger("galleria.payments.gateways")

T = TypeVar("T")

ATTEMPTS = 4
TOTAL_TIMEOUT_S = 30.0
WAIT_INITIAL_S = 0.2
WAIT_MAX_S = 2.0
WAIT_JITTER_S = 0.2


class TransientAnswerError(Exception):
    """The gateway answered 5xx or 429: worth another attempt."""

    def __init__(self, status: int, body: str = "") -> None:
        super().__init__(f"gateway answered {status}: {body[:200]}")
        self.status = status


def transient_status(status: int) -> bool:
    return status >= 500 or status == 429


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, HTTPError):  # a URLError subclass: only 5xx / 429 are worth retrying
        return transient_status(exc.code)
    return isinstance(
        exc, (TransientAnswerError, requests.ConnectionError, requests.Timeout, URLError, TimeoutError, ConnectionError)
    )


def call(fn: Callable[[], T], *, what: str) -> T:
    """Run `fn` under the policy; when the retries are spent, raise GatewayUnavailableError from the last cause."""
    try:
        for attempt in stamina.retry_context(
            on=is_retryable,
            attempts=ATTEMPTS,
            timeout=TOTAL_TIMEOUT_S,
            wait_initial=WAIT_INITIAL_S,
            wait_max=WAIT_MAX_S,
            wait_jitter=WAIT_JITTER_S,
        ):
            with attempt:
                return fn()
    except Exception as exc:
        if is_retryable(exc):
            log.warning("gateway call %s gave up: %s", what, exc)
            raise GatewayUnavailableError(f"{what}: {exc}", code="unavailable") from exc
        raise
    raise AssertionError("unreachable")  # pragma: no cover - retry_context always runs at least once
