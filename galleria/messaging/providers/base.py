"""What every SMS adapter takes, returns and raises, and the one classification of provider errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SmsRequest:
    phone: str  # E.164, e.g. +8613812345678
    sign_name: str  # the approved 签名, without 【】
    template_id: str  # the provider's approved template code (Aliyun SMS_…) or ID (Tencent, digits)
    params: tuple[tuple[str, str], ...]  # template parameters in Galleria's order (Tencent's {1}, {2} … follow it)
    out_id: str  # Galleria's id of the message: Aliyun OutId, Tencent SessionContext


@dataclass(frozen=True)
class Found:
    """A message the provider already has (a lookup after an attempt whose answer was lost)."""

    ref: str  # Aliyun BizId / Tencent SerialNo ("" when the provider's listing does not carry it)
    delivered: bool | None = None  # the receipt, when there already is one
    code: str = ""


class SmsProviderError(Exception):
    """A send that did not (or may not have) happened.

    `retryable`: another attempt later may succeed (throttling, network, 5xx). `in_doubt`: the provider may have
    accepted the message (a timeout, a lost answer, a 5xx): look it up before sending again."""

    def __init__(self, code: str, detail: str = "", *, retryable: bool, in_doubt: bool = False) -> None:
        super().__init__(f"{code}: {detail}"[:300])
        self.code = code[:80]
        self.detail = detail
        self.retryable = retryable
        self.in_doubt = in_doubt


class SmsProvider(Protocol):
    name: str

    def send(self, request: SmsRequest) -> str:
        """Send one message; return the provider's reference; raise SmsProviderError."""
        ...

    def lookup(self, *, phone: str, out_id: str, since: dt.datetime) -> Found | None:
        """The message sent with this out_id since `since`, if the provider has it; raise SmsProviderError."""
        ...


# Codes worth another attempt later. Everything else the provider refuses is final: an invalid number, a template or
# sign name not approved, wrong parameters, a bad signature or unknown key (configuration), a daily cap, no balance.
RETRYABLE_CODES = frozenset(
    {
        # Aliyun
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "Throttling.Concurrent",
        "ServiceUnavailable",
        "InternalError",
        "isp.SYSTEM_ERROR",
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number minute/hour flow control
        # Tencent Cloud
        "RequestLimitExceeded",
        "RequestLimitExceeded.UinLimitExceeded",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "InternalError.Timeout",
        "InternalError.RequestTimeException",
        "InternalError.SendAndRecvFail",
        "ServerNetworkError",
        "ClientNetworkError",
    }
)


def classify(code: str, detail: str = "", *, status: int | None = None) -> SmsProviderError:
    """The error for a provider's code (and HTTP status, when the answer was an HTTP error)."""
    server_side = status is not None and status >= 500
    retryable = code in RETRYABLE_CODES or server_side
    in_doubt = server_side or code in {"InternalError", "isp.SYSTEM_ERROR", "ServerNetworkError", "ClientNetworkError"}
    return SmsProviderError(code or f"http_{status}", detail, retryable=retryable, in_doubt=in_doubt)


def network_error(detail: str) -> SmsProviderError:
    """No answer (refused, reset, timed out): retryable, and in doubt — the request may have reached the provider."""
    return SmsProviderError("network", detail, retryable=True, in_doubt=True)
