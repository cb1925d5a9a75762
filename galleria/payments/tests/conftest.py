"""Fixtures around the sandbox gateway, for any test under galleria/payments/tests/.

- `sandbox` (session): the sandbox as a separate process (`python -m galleria.payments.sandbox serve`) on a free
  port with freshly generated keys and retry gaps × 0.001. Attributes: `base_url`, `keys` (keys.json as a dict),
  `keys_path`, `control` (a SandboxControl for /sandbox/control/…), `log_path`. Shared by the whole session: use
  unique out_trade_no values (`unique_no`) and filter what you read by them.
- `receiver` (function): a factory of NotifyReceiver HTTP servers standing in for Galleria's notify views,
  closed after the test: `rec = receiver(answer)` where `answer(received) -> (status, content_type, body)`.
- `wechat_keys_config` / `alipay_keys_config`: `(notify_url) -> GatewayConfig` for the sandbox's accounts.
- `unique_no`: `unique_no("GA")` → a fresh out_trade_no (≤ 32 characters).

Tests elsewhere can use them with `from galleria.payments.tests.conftest import sandbox  # noqa: F401`, or the
helpers in galleria.payments.testing directly (sandbox_start / wechat_config / alipay_config / NotifyReceiver).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator

import pytest

from galleria.payments.gateways import gateway_cache_clear
from galleria.payments.gateways.base import GatewayConfig
from galleria.payments.testing import (
    Answer,
    NotifyReceiver,
    Received,
    SandboxProcess,
    alipay_config,
    sandbox_start,
    wechat_config,
)

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    proc = sandbox_start(workdir=tmp_path_factory.mktemp("sandbox"), time_scale=0.001)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def receiver() -> Iterator[Callable[..., NotifyReceiver]]:
    made: list[NotifyReceiver] = []

    def make(answer: Callable[[Received], Answer] | None = None) -> NotifyReceiver:
        rec = NotifyReceiver(answer)
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.close()


@pytest.fixture
def wechat_keys_config(sandbox: SandboxProcess) -> Callable[[str], GatewayConfig]:
    return lambda notify_url: wechat_config(sandbox.keys, sandbox.base_url, notify_url=notify_url)


@pytest.fixture
def alipay_keys_config(sandbox: SandboxProcess) -> Callable[[str], GatewayConfig]:
    return lambda notify_url: alipay_config(sandbox.keys, sandbox.base_url, notify_url=notify_url)


@pytest.fixture
def unique_no() -> Callable[[str], str]:
    def make(prefix: str = "GA") -> str:
        return f"{prefix}{next(_counter):04d}{secrets.token_hex(6)}"

    return make


@pytest.fixture(autouse=True)
def _fresh_gateway_cache() -> Iterator[None]:
    gateway_cache_clear()
    yield
    gateway_cache_clear()
