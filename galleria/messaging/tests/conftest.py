"""Fixtures of the messaging tests.

- `sms_sandbox` (session): the SMS sandbox as a separate process on a free port, fresh keys, receipts not pushed
  (tests that want pushes start their own), no per-number flow control.
- `use_sandbox(provider)` (function): settings pointing Galleria's SMS backend at it (short timeout, quick retries),
  the backend cache cleared before and after.
- `use_wechat` / `use_push` (function): the WeChat adapters pointed at the same sandbox process (it speaks WeChat
  and Web Push too), quick retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from galleria.messaging.sms import backend_cache_clear
from galleria.messaging.testing import SmsSandboxProcess, sandbox_settings, sms_sandbox_start


@pytest.fixture(scope="session")
def sms_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSandboxProcess]:
    proc = sms_sandbox_start(workdir=tmp_path_factory.mktemp("sms-sandbox"))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def use_sandbox(settings: Any, sms_sandbox: SmsSandboxProcess) -> Iterator[Callable[..., SmsSandboxProcess]]:
    def apply(provider: str = "aliyun", **overrides: Any) -> SmsSandboxProcess:
        for name, value in sandbox_settings(sms_sandbox.keys, endpoint=sms_sandbox.endpoint, provider=provider).items():
            setattr(settings, name, value)
        settings.GALLERIA_SMS_TIMEOUT_S = 1.0
        settings.GALLERIA_MESSAGING_RETRY = {
            "MAX_ATTEMPTS": 4,
            "BASE_SECONDS": 30.0,
            "MAX_SECONDS": 600.0,
            "IN_DOUBT_MIN_SECONDS": 60.0,
        }
        for name, value in overrides.items():
            setattr(settings, name, value)
        backend_cache_clear()
        return sms_sandbox

    backend_cache_clear()
    yield apply
    backend_cache_clear()


@pytest.fixture
def use_wechat(settings: Any, sms_sandbox: SmsSandboxProcess) -> Iterator[SmsSandboxProcess]:
    """Settings pointing the WeChat adapters at the (session's) sandbox, quick retries; the sender cache cleared."""
    from galleria.messaging.testing import wechat_sandbox_values
    from galleria.messaging.wechat import sender_cache_clear

    for name, value in wechat_sandbox_values(sms_sandbox.keys, base_url=sms_sandbox.base_url).items():
        setattr(settings, name, value)
    settings.GALLERIA_WECHAT_TIMEOUT_S = 2.0
    settings.GALLERIA_MESSAGING_RETRY = {
        "MAX_ATTEMPTS": 4,
        "BASE_SECONDS": 30.0,
        "MAX_SECONDS": 600.0,
        "IN_DOUBT_MIN_SECONDS": 60.0,
    }
    sender_cache_clear()
    yield sms_sandbox
    sender_cache_clear()


@pytest.fixture
def use_push(settings: Any, sms_sandbox: SmsSandboxProcess) -> SmsSandboxProcess:
    """Web push settings for the tests (the sandbox is the push service; a short timeout, quick retries)."""
    settings.GALLERIA_WEBPUSH = {**settings.GALLERIA_WEBPUSH, "TIMEOUT_S": 2.0, "SUBJECT": "mailto:ops@example.com"}
    settings.GALLERIA_MESSAGING_RETRY = {
        "MAX_ATTEMPTS": 4,
        "BASE_SECONDS": 30.0,
        "MAX_SECONDS": 600.0,
        "IN_DOUBT_MIN_SECONDS": 60.0,
    }
    return sms_sandbox
