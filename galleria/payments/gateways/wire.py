"""Small conversions shared by the adapters: fen ⇄ yuan strings (exact, Decimal, never float), the providers'
times (both gateways work in Beijing time), headers in any case, byte-safe truncation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the providers' zone (not the mall's: that is galleria.core.timeutil's)


def yuan(fen: int) -> str:
    """27000 → '270.00' (Alipay amounts, WeChat bill amounts)."""
    if fen < 0:
        return "-" + yuan(-fen)
    return f"{fen // 100}.{fen % 100:02d}"


def fen(text: str) -> int:
    """'270.00' → 27000, exactly; anything with a fraction of a fen (or not a number) raises ValueError."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    scaled = value * 100
    if not value.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"not a whole number of fen: {text!r}")
    return int(scaled)


def fen_rounded(text: str) -> int:
    """Fees: WeChat writes them with 5 decimals ('1.62000'); rounded half up to the fen."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rfc3339_cn(moment: dt.datetime) -> str:
    """WeChat's times: RFC 3339 in +08:00, whole seconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def parse_rfc3339(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {text!r}")
    return moment.astimezone(dt.UTC)


def alipay_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def parse_cn_time(text: str) -> dt.datetime:
    """'2024-01-01 10:00:05' in Beijing time (Alipay fields, both bills) → aware UTC."""
    return dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


def truncate_utf8(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, never cutting a character in half."""
    return text.encode()[:limit].decode("utf-8", "ignore")


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased, whatever the caller passed: a plain dict in any case, Django's request.headers,
    or request.META (`HTTP_WECHATPAY_SIGNATURE`)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = str(name).lower()
        if key.startswith("http_"):
            key = key[5:].replace("_", "-")
        out[key] = str(value)
    return out
