"""Pure rules of the messaging channels (no database): retry timing, how SMTP failures classify, WeChat's keyword
limits and server-URL signature, Web Push's Retry-After."""

from __future__ import annotations

import email.utils
import hashlib
import random
import re
import smtplib


def retry_delay_s(*, attempt: int, base_s: float, max_s: float, jitter: float = 0.2) -> float:
    """Exponential backoff after failed attempt number `attempt` (1-based): base × 2^(attempt-1), capped at max_s,
    spread by ±jitter so a burst of throttled messages does not come back at the same second."""
    delay = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return max(0.0, delay * (1 + random.uniform(-jitter, jitter)))


def smtp_classify(exc: BaseException) -> tuple[str, bool]:
    """(code, retryable) of an SMTP failure: 4xx replies and lost connections are worth another attempt; 5xx
    replies (an unknown mailbox, a refused sender, a rejected message) and a failed login are final."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return f"smtp_{codes[0] if codes else 550}", all(400 <= c < 500 for c in codes) and bool(codes)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "smtp_auth", False
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"smtp_{exc.smtp_code}", 400 <= exc.smtp_code < 500
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)):
        return "smtp_network", True
    return "smtp_error", False


# WeChat subscribe/template keyword types (the prefix of `thing1`, `time2` …) and their length limits, as WeChat
# documents them for subscribe messages (订阅消息参数值内容限制). Text types are shortened to fit (with "…"); the
# others must fit as they are or the send fails for good (WeChat answers 47003).
WECHAT_TEXT_LIMITS = {"thing": 20, "name": 10, "phrase": 5}
WECHAT_STRICT_LIMITS = {
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "amount": 10,
    "phone_number": 17,
    "car_number": 8,
    "time": 40,
    "date": 40,
    "const": 20,
}
_KEYWORD_RE = re.compile(r"^([a-z_]+?)(\d+)$")


def wechat_keyword_type(key: str) -> str:
    """`thing1` → `thing`; `character_string12` → `character_string`; anything else → "" (unknown)."""
    match = _KEYWORD_RE.match(key)
    return match.group(1) if match else ""


def wechat_value_problem(key: str, value: str) -> str:
    """Why `value` cannot be sent as keyword `key` ("" when it can): WeChat's per-type rules (length; digits for
    number; letters for letter; the phone and plate shapes are left to WeChat)."""
    kind = wechat_keyword_type(key)
    limit = WECHAT_TEXT_LIMITS.get(kind) or WECHAT_STRICT_LIMITS.get(kind)
    if limit is None:
        return f"unknown keyword type of {key!r}"
    if not value:
        return f"{key} is empty"
    if len(value) > limit:
        return f"{key} is longer than {limit}"
    if kind == "number" and not re.fullmatch(r"[0-9.]+", value):
        return f"{key} is not a number"
    if kind == "letter" and not re.fullmatch(r"[A-Za-z]+", value):
        return f"{key} is not letters"
    return ""


def wechat_fit(key: str, value: str) -> str:
    """The value as it will be sent: text types shortened to their limit (ending "…"), others unchanged."""
    limit = WECHAT_TEXT_LIMITS.get(wechat_keyword_type(key))
    value = " ".join(str(value).split())
    if limit is not None and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def wechat_signature(*, token: str, timestamp: str, nonce: str) -> str:
    """WeChat's server-URL signature: sha1 of the token, timestamp and nonce sorted and joined (hex)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode(), usedforsecurity=False).hexdigest()


def push_retry_after_s(value: str | None, *, now: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
