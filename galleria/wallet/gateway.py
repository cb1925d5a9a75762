"""Payment gateways for wallet top-ups.

`PaymentGateway` is the whole contract a top-up needs from WeChat Pay, Alipay or the sandbox: create a payment for
an amount under our reference and return the gateway's intent id. The member then pays through the gateway; the
gateway's (verified) notification reaches `services.wallet_topup_confirm(gateway_ref=…, paid_amount_fen=…)`.
Verifying a real gateway's signed notification belongs to its adapter (galleria.payments, later), not here.

`RefundGateway` is what a refund of a top-up to its original channel needs: refund part of a paid intent under our
refund reference (idempotent per reference). A gateway without it (or a top-up from a gateway we no longer have) is
paid back in cash at the service desk (services.balance_refunds).

`SandboxGateway` is for the demo and tests: no network, no state (so any process can "pay" an intent another
process created). Its intent id encodes the reference and the amount; `pay()` returns the notification a real
gateway would send once the member has paid.
"""

from __future__ import annotations

import re
from typing import Protocol

from .types import PaymentNotice


class PaymentGateway(Protocol):
    name: str  # stored on the TopUp ("sandbox", "wechat", "alipay"); at most 20 characters

    def create_payment(self, *, amount_fen: int, reference: str) -> str:
        """Create a payment of `amount_fen` for our `reference` (unique, ≤ 32 characters) and return the gateway's
        intent id (≤ 64 characters, unique at that gateway). May raise any exception when the gateway is down;
        the caller turns it into GatewayUnavailableError. Must be idempotent per reference."""
        ...


class RefundGateway(Protocol):
    name: str

    def refund(self, *, gateway_ref: str, amount_fen: int, total_fen: int, refund_reference: str) -> str:
        """Refund `amount_fen` of the paid intent `gateway_ref` (which was for `total_fen`) under our
        `refund_reference` (unique, ≤ 32 characters) and return the gateway's refund id (≤ 64 characters). Must be
        idempotent per refund reference. May raise any exception when the gateway refuses or is down."""
        ...


_SANDBOX_ID = re.compile(r"^sbx_(?P<reference>[A-Za-z0-9]{1,32})_(?P<amount>[0-9]{1,16})$")


class SandboxGateway:
    name = "sandbox"

    def create_payment(self, *, amount_fen: int, reference: str) -> str:
        if amount_fen <= 0 or not reference.isalnum():
            raise ValueError("bad sandbox payment")
        return f"sbx_{reference}_{amount_fen}"

    def pay(self, intent_id: str, *, amount_fen: int | None = None) -> PaymentNotice:
        """Mark the intent paid: the notification the gateway sends. `amount_fen` overrides the amount paid (to
        test a mismatch); by default the member pays exactly what the intent asked for."""
        match = _SANDBOX_ID.match(intent_id)
        if match is None:
            raise ValueError("not a sandbox intent id")
        asked = int(match["amount"])
        return PaymentNotice(
            gateway=self.name,
            gateway_ref=intent_id,
            reference=match["reference"],
            amount_fen=asked if amount_fen is None else amount_fen,
        )

    def refund(self, *, gateway_ref: str, amount_fen: int, total_fen: int, refund_reference: str) -> str:
        """Accept the refund (no state: the same reference gives the same refund id)."""
        match = _SANDBOX_ID.match(gateway_ref)
        if match is None or not 0 < amount_fen <= total_fen or int(match["amount"]) != total_fen:
            raise ValueError("bad sandbox refund")
        if not refund_reference.isalnum() or len(refund_reference) > 32:
            raise ValueError("bad sandbox refund reference")
        return f"sbr_{refund_reference}_{amount_fen}"


def gateway_get(name: str = "sandbox") -> PaymentGateway:
    """The gateway called `name`. Only the sandbox exists so far; WeChat Pay and Alipay adapters plug in here."""
    if name == SandboxGateway.name:
        return SandboxGateway()
    raise LookupError(f"no payment gateway {name!r}")


def refund_gateway_get(name: str) -> RefundGateway | None:
    """The gateway that refunds top-ups made at `name`, or None when there is none (the money goes back in cash)."""
    if name == SandboxGateway.name:
        return SandboxGateway()
    return None
