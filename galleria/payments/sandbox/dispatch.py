"""Asynchronous notification delivery with the gateways' real retry schedules, compressed by `--time-scale`.

One dispatcher thread holds the pending deliveries and POSTs each when due. Every attempt is built afresh by the
delivery's `build()` (WeChat: the same body and event id, re-signed with a fresh timestamp and nonce); the answer
is recorded in the delivery log. Success is HTTP 200/204 for WeChat, the body `success` for Alipay; anything else
(or no answer within 5 s) schedules the next attempt after the next gap of the schedule × time scale, until the
schedule is exhausted (state `failed`). Time scale 0 means manual: nothing is sent until `deliver_due()`
(`POST /sandbox/control/deliver-due`), one attempt per pending delivery per call.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

log = logging.getLogger("galleria.payments.sandbox")

# Gaps (seconds) after each failed attempt. Sources and caveats: docs/design/payments-gateways.md §4.
WECHAT_SCHEDULE: tuple[float, ...] = (
    15,
    15,
    30,
    180,
    600,
    1200,
    1800,
    1800,
    1800,
    3600,
    10800,
    10800,
    10800,
    21600,
    21600,
)
WECHAT_AUTH_SCHEDULE: tuple[float, ...] = (1, 10, 10, 10, 10, 10, 60, 60, 60, 60)
ALIPAY_SCHEDULE: tuple[float, ...] = (240, 600, 600, 3600, 7200, 21600, 54000)
ATTEMPT_TIMEOUT_S = 5.0

Builder = Callable[[], tuple[dict[str, str], bytes]]


@dataclass
class Delivery:
    id: int
    event_id: str
    provider: str  # "wechat" | "alipay"
    event_type: str  # TRANSACTION.SUCCESS, REFUND.SUCCESS, MALL_…, trade_status_sync
    url: str
    schedule: tuple[float, ...]
    build: Builder
    ref: dict[str, Any]
    due_at: float
    state: str = "pending"  # pending | delivered | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)
    in_flight: bool = False
    planned_gap_s: float = 0.0  # the wait (after scaling) before the next attempt

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "provider": self.provider,
            "event_type": self.event_type,
            "url": self.url,
            "state": self.state,
            "schedule_s": list(self.schedule),
            "attempts": list(self.attempts),
            "ref": self.ref,
        }


def accepted(provider: str, status: int, body: bytes) -> bool:
    if provider == "wechat":
        return status in (200, 204)
    return status == 200 and body == b"success"


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
    """(status, body, error) — status 0 when the receiver could not be reached."""
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=ATTEMPT_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as exc:
        return 0, b"", f"{type(exc).__name__}: {exc}"[:300]
    return answer.status_code, answer.content, ""


class Dispatcher:
    def __init__(self, *, time_scale: float) -> None:
        self.time_scale = time_scale
        self._cond = threading.Condition()
        self._deliveries: dict[int, Delivery] = {}
        self._next_id = 1
        self._stopped = False
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.time_scale > 0:
            self._thread = threading.Thread(target=self._run, name="sandbox-dispatcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # --- scheduling ---------------------------------------------------------------------------------------------
    def schedule(
        self,
        *,
        event_id: str,
        provider: str,
        event_type: str,
        url: str,
        schedule: tuple[float, ...],
        build: Builder,
        ref: dict[str, Any],
        delay_s: float = 0.0,
    ) -> Delivery:
        with self._cond:
            delivery = Delivery(
                id=self._next_id,
                event_id=event_id,
                provider=provider,
                event_type=event_type,
                url=url,
                schedule=schedule,
                build=build,
                ref=ref,
                due_at=time.time() + delay_s * self.time_scale,
                planned_gap_s=delay_s * self.time_scale,
            )
            self._next_id += 1
            self._deliveries[delivery.id] = delivery
            self._cond.notify_all()
        return delivery

    def find(self, event_id: str) -> Delivery | None:
        with self._cond:
            for delivery in self._deliveries.values():
                if delivery.event_id == event_id:
                    return delivery
        return None

    def log(self, event_id: str = "") -> list[dict[str, Any]]:
        with self._cond:
            rows = [d.public() for d in self._deliveries.values() if not event_id or d.event_id == event_id]
        return rows

    # --- sending ------------------------------------------------------------------------------------------------
    def _claim_due(self, *, everything: bool) -> list[Delivery]:
        now = time.time()
        claimed = []
        for delivery in self._deliveries.values():
            if delivery.state == "pending" and not delivery.in_flight and (everything or delivery.due_at <= now):
                delivery.in_flight = True
                claimed.append(delivery)
        return claimed

    def _attempt(self, delivery: Delivery, *, replay: bool = False) -> dict[str, Any]:
        headers, body = delivery.build()
        started = time.time()
        status, answer, error = post(delivery.url, headers, body)
        ok = accepted(delivery.provider, status, answer)
        record = {
            "n": len(delivery.attempts) + 1,
            "at": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(),
            "at_ts": started,
            "planned_gap_s": 0.0 if replay else delivery.planned_gap_s,
            "status": status,
            "answer": answer[:300].decode("utf-8", "replace"),
            "error": error,
            "accepted": ok,
            "replay": replay,
        }
        with self._cond:
            delivery.attempts.append(record)
            if replay:
                return record
            delivery.in_flight = False
            failures = sum(1 for a in delivery.attempts if not a["accepted"] and not a["replay"])
            if ok:
                delivery.state = "delivered"
            elif failures > len(delivery.schedule):
                delivery.state = "failed"
            else:
                delivery.planned_gap_s = delivery.schedule[failures - 1] * self.time_scale
                delivery.due_at = time.time() + delivery.planned_gap_s
            self._cond.notify_all()
        log.info("notify %s %s → %s %s", delivery.event_type, delivery.url, status or error, "ok" if ok else "retry")
        return record

    def deliver_due(self, *, everything: bool = False) -> list[dict[str, Any]]:
        """One attempt for each pending delivery that is due (or for every pending one), sent now, in this thread."""
        with self._cond:
            claimed = self._claim_due(everything=everything)
        results = []
        for delivery in claimed:
            record = self._attempt(delivery)
            results.append({"event_id": delivery.event_id, **record})
        return results

    def replay(self, event_id: str) -> dict[str, Any] | None:
        delivery = self.find(event_id)
        if delivery is None:
            return None
        return self._attempt(delivery, replay=True)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                claimed = self._claim_due(everything=False)
                if not claimed:
                    pending = [d.due_at for d in self._deliveries.values() if d.state == "pending" and not d.in_flight]
                    wait = min(pending) - time.time() if pending else 1.0
                    self._cond.wait(timeout=max(0.001, min(wait, 1.0)))
                    continue
            for delivery in claimed:
                threading.Thread(target=self._attempt_safely, args=(delivery,), daemon=True).start()

    def _attempt_safely(self, delivery: Delivery) -> None:
        try:
            self._attempt(delivery)
        except Exception:  # a bug in a builder must not kill delivery of the others
            log.exception("notification %s failed to build", delivery.event_id)
            with self._cond:
                delivery.in_flight = False
                delivery.state = "failed"
