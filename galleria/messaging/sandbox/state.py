"""What the sandbox remembers (in memory, per process): the messages it accepted, the requests it received (signed
or rejected), the nonces it has seen, the failures a test asked for, and the receipts still to push."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Message:
    """One accepted SMS, as its provider records it."""

    id: int
    provider: str  # aliyun | tencent
    ref: str  # Aliyun BizId / Tencent SerialNo
    phone: str  # as the request gave it
    sign_name: str
    template: str  # the provider's template code / ID
    params: Any  # Aliyun: dict; Tencent: list
    text: str  # 【sign】 + the rendered template: what the phone shows
    out_id: str  # Aliyun OutId / Tencent SessionContext
    accepted_at: float
    report_due: float
    delivered: bool  # the receipt will say delivered (True) or failed (False)
    receipt_code: str
    receipt_pushes: int = 0
    receipt_acked_at: float | None = None

    def reported(self, now: float) -> bool:
        return now >= self.report_due

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "ref": self.ref,
            "phone": self.phone,
            "sign_name": self.sign_name,
            "template": self.template,
            "params": self.params,
            "text": self.text,
            "out_id": self.out_id,
            "accepted_at": self.accepted_at,
            "receipt": (
                {
                    "delivered": self.delivered,
                    "code": self.receipt_code,
                    "pushes": self.receipt_pushes,
                    "acked": self.receipt_acked_at is not None,
                }
                if self.reported(now)
                else None
            ),
        }


@dataclass
class Fault:
    """A failure injected by a test: the next `count` requests of `provider` ("*" = either) fail as `mode`."""

    provider: str
    mode: str  # throttle | limit | unavailable | timeout_after_accept
    count: int
    delay: float = 0.0


@dataclass
class Store:
    report_delay: float = 1.0
    per_phone_per_minute: int = 5
    messages: list[Message] = field(default_factory=list)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=500))
    faults: list[Fault] = field(default_factory=list)
    nonces: dict[str, float] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def now(self) -> float:
        return time.time()

    def nonce_fresh(self, key: str) -> bool:
        """True the first time a nonce is seen (kept 20 minutes, longer than any accepted timestamp skew)."""
        now = self.now()
        with self.lock:
            for old in [k for k, at in self.nonces.items() if at < now - 1200]:
                del self.nonces[old]
            if key in self.nonces:
                return False
            self.nonces[key] = now
            return True

    def take_fault(self, provider: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.provider in (provider, "*") and fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def recent_count(self, phone: str, seconds: float) -> int:
        cutoff = self.now() - seconds
        with self.lock:
            return sum(1 for m in self.messages if m.phone == phone and m.accepted_at >= cutoff)

    def accept(self, **values: Any) -> Message:
        with self.lock:
            n = next(self._ids)
            now = self.now()
            provider = values["provider"]
            ref = values.pop("ref", "") or (
                f"{int(now * 1000)}{n:06d}^0" if provider == "aliyun" else f"2645:{uuid.uuid4().int % 10**20}"
            )
            # a number ending in 0000 stands for one that does not exist: accepted, then a failed receipt (空号)
            delivered = not values["phone"].endswith("0000")
            message = Message(
                id=n,
                ref=ref,
                accepted_at=now,
                report_due=now + self.report_delay,
                delivered=delivered,
                receipt_code=("DELIVERED" if provider == "aliyun" else "DELIVRD") if delivered else "MN:0001",
                **values,
            )
            self.messages.append(message)
            return message

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append({"at": self.now(), **entry})
