"""Payment gateways for wallet top-ups.

`PaymentGateway` is the whole contract a top-up needs from WeChat Pay, Alipay or the sandbox: create a payment for
an amount under our reference and return the gateway's intent id. The member then pays through the gateway; the
gateway's (verified) notification reaches `services.wallet_topup_confirm(gateway_ref=…, paid_amount_fen=…)`.
Verifying a real gateway's signed notification belongs to its adapter (galleria.payments, later), not here.

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


def gateway_get(name: str = "sandbox") -> PaymentGateway:
    """The gateway called `name`. Only the sandbox exists so far; WeChat Pay and Alipay adapters plug in here."""
    if name == SandboxGateway.name:
        return SandboxGateway()
    raise LookupError(f"no payment gateway {name!r}")
