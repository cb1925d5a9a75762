"""Fixtures of the reconcile tests: the sandbox gateway as a separate process, the world's group paying through it,
a business date of its own for each test, and pay-at-store payments placed for profit sharing.

- `gateway` (module): the sandbox process (30 % 分账 limit, retry gaps × 0.001).
- `pay`: the world's group with sandbox credentials; notifications go to `receiver` (a small HTTP server standing
  in for the notify view; `deliver(receiver)` hands what it got to `notice_receive`, as the view does).
- `day`: the sandbox's business clock set to noon (Beijing) of a past date no other test uses, so each test's
  bill holds only its own trades; the date is returned, and the clock put back afterwards.
- `sharing`: pay-at-store starts ask WeChat Pay to freeze the funds for 分账 (`settle_info.profit_sharing`) — what
  `payments.services.store_pay_start` must do for 分账 to work (see docs/reconcile.md: today it does not).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.payments import services as payment_services
from galleria.payments.gateways import gateway_cache_clear
from galleria.payments.testing import NotifyReceiver, SandboxProcess, sandbox_start

ACTOR = Actor.system("test")
SHANGHAI = ZoneInfo("Asia/Shanghai")
_days_back = itertools.count(30, 3)  # D+1 of one test is never another test's day
_phones = itertools.count(13800138000)


@pytest.fixture(scope="module")
def gateway() -> Iterator[SandboxProcess]:
    proc = sandbox_start(time_scale=0.001)
    yield proc
    proc.stop()


@pytest.fixture
def receiver() -> Iterator[NotifyReceiver]:
    rec = NotifyReceiver(answer=lambda r: (500, "application/json", b'{"code":"FAIL","message":"held"}'))
    yield rec
    rec.close()


def install(world: Any, proc: SandboxProcess, receiver: NotifyReceiver, settings: Any) -> Any:
    settings.GALLERIA_PUBLIC_URL = receiver.url.removesuffix("/notify")
    gateway_cache_clear()
    payment_services.sandbox_credentials_install(
        mall_group_id=world.group.pk, keys=proc.keys, base_url=proc.base_url, actor=ACTOR
    )
    return world


@pytest.fixture
def pay(world, gateway, receiver, settings):
    return install(world, gateway, receiver, settings)


def set_day(proc: SandboxProcess, day: dt.date) -> None:
    noon = dt.datetime.combine(day, dt.time(12, 0), tzinfo=SHANGHAI)
    proc.control.clock(offset_s=noon.timestamp() - time.time())


@pytest.fixture
def day(gateway) -> Iterator[dt.date]:
    today = dt.datetime.now(SHANGHAI).date()
    chosen = today - dt.timedelta(days=next(_days_back))
    set_day(gateway, chosen)
    yield chosen
    gateway.control.clock(offset_s=0)


class _SharingGateway:
    """The payments adapter, except that a WeChat Pay pay_start freezes the funds for 分账."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def pay_start(self, **kwargs: Any) -> Any:
        wechat = self._inner.config.provider == "wechat"
        return self._inner.pay_start(**{**kwargs, "profit_sharing": wechat})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def sharing():
    """Pay-at-store payments at a merchant with a 分账 receiver ask WeChat Pay to hold the money for profit sharing
    (payments.services.starts): nothing to arrange any more; kept so the tests say what they rely on."""
    return None


def member(world: Any) -> Any:
    return member_register(mall=world.mall, phone=str(next(_phones)), channel="desk", actor=ACTOR)


def store_payment(world: Any, proc: SandboxProcess, *, total: int = 30_000, provider: str = "wechat", sync=True):
    """A member pays `total` fen at 喜茶 through the sandbox; applied with attempt_sync (the payment page's query)
    unless sync=False (then the gateway has it paid and we do not know yet). Returns the attempt id."""
    m = member(world)
    started = payment_services.store_pay_start(
        member_id=m.pk,
        mall_group_id=world.group.pk,
        store_id=world.store.pk,
        total_fen=total,
        points_to_use=0,
        coupon_ids=None,
        provider=provider,
        kind="h5" if provider == "wechat" else "wap",
        idempotency_key=f"k{m.pk}",
        client_ip="10.0.0.8",
    )
    proc.control.pay(provider=provider, out_trade_no=started.out_trade_no, url=started.payload.get("url", ""))
    if sync:
        payment_services.attempt_sync(attempt_id=started.attempt_id)
    return started.attempt_id


def deliver(receiver: NotifyReceiver, *, at_least: int = 1, done: set[int] | None = None) -> int:
    """Hand every notification the receiver got so far to notice_receive (idempotent); returns how many."""
    got = receiver.wait_for(at_least)
    handled = 0
    for n, item in enumerate(got):
        if done is not None and n in done:
            continue
        provider, credential_id = item.path.strip("/").split("/")[-2:]
        payment_services.notice_receive(
            provider=provider, credential_id=int(credential_id), headers=item.headers, body=item.body
        )
        if done is not None:
            done.add(n)
        handled += 1
    return handled
