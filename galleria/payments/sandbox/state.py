"""What the sandbox gateway remembers: trades, refunds, 商圈 transactions, 分账 orders, bill extras — plain dicts
(JSON-ready) under one lock, optionally kept in a JSON file across restarts (`--state`). Pending notification
deliveries are not persisted (a restarted sandbox forgets them; the merchant's query path covers that, as with the
real gateway).

Business time is the wall clock plus an offset (`/sandbox/control/clock`), so tests can put trades on another
Asia/Shanghai day; signature timestamps always use the real clock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PERSISTED = (
    "wx_trades",
    "wx_refunds",
    "wx_prepay",
    "wx_codes",
    "ali_trades",
    "ali_orders",
    "ali_refunds",
    "mall_txns",
    "mall_auth",
    "ps_orders",
    "ps_receivers",
    "bill_extra",
    "clock_offset_s",
)

Record = dict[str, Any]


class Store:
    def __init__(self, path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.path = path
        self.wx_trades: dict[str, Record] = {}  # out_trade_no → trade
        self.wx_refunds: dict[str, Record] = {}  # out_refund_no → refund
        self.wx_prepay: dict[str, str] = {}  # prepay_id → out_trade_no
        self.wx_codes: dict[str, str] = {}  # native code_url `pr` → out_trade_no
        self.ali_trades: dict[str, Record] = {}  # out_trade_no → trade (exists once the buyer saw the cashier)
        self.ali_orders: dict[str, Record] = {}  # out_trade_no → signed wap/page order (cashier not opened yet)
        self.ali_refunds: dict[str, Record] = {}  # "out_trade_no/out_request_no" → refund
        self.mall_txns: dict[str, Record] = {}  # transaction_id → 商圈 payment at a participating shop
        self.mall_auth: dict[str, Record] = {}  # openid → authorisation
        self.ps_orders: dict[str, Record] = {}  # out_order_no → 分账 order
        self.ps_receivers: dict[str, Record] = {}  # "TYPE:account" → receiver
        self.bill_extra: list[Record] = []  # rows injected into bills (reconciliation tests)
        self.bill_tokens: dict[str, Record] = {}  # download token → {"data": bytes, "expires": ts} (not persisted)
        self.fail_next: list[Record] = []  # injected failures for the next API calls (not persisted)
        self.clock_offset_s = 0.0
        if path is not None and path.exists():
            self._load(path)

    # --- time ---------------------------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """Business time (aware UTC)."""
        return dt.datetime.fromtimestamp(time.time() + self.clock_offset_s, dt.UTC)

    def now_cn(self) -> dt.datetime:
        return self.now().astimezone(SHANGHAI)

    # --- persistence --------------------------------------------------------------------------------------------
    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        for name in _PERSISTED:
            if name in data:
                setattr(self, name, data[name])

    def save(self) -> None:
        if self.path is None:
            return
        with self.lock:
            data = {name: getattr(self, name) for name in _PERSISTED}
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)

    # --- injected failures --------------------------------------------------------------------------------------
    def take_failure(self, path: str) -> Record | None:
        """Consume one injected failure matching `path` (prefix), if any."""
        with self.lock:
            for failure in self.fail_next:
                if path.startswith(failure["prefix"]) and failure["count"] > 0:
                    failure["count"] -= 1
                    if failure["count"] == 0:
                        self.fail_next.remove(failure)
                    return failure
        return None


# --- time formats on the wire ---------------------------------------------------------------------------------------


def rfc3339_cn(moment: dt.datetime) -> str:
    """WeChat's times: RFC 3339 in +08:00, whole seconds."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def alipay_time(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def parse_rfc3339(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("RFC 3339 time without an offset")
    return moment


def parse_alipay_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def fen_from_yuan(text: str) -> int:
    """Exact: '270.00' → 27000; anything that is not a 2-decimal amount raises ValueError."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    fen = value * 100
    if not value.is_finite() or fen != fen.to_integral_value():
        raise ValueError(f"not an amount in fen: {text!r}")
    return int(fen)
