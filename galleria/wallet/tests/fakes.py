"""A test double of a payment gateway for the wallet's own tests (the wallet's bookkeeping, not a gateway
protocol): no network, no state. The real gateways and their sandbox are tested in galleria/payments/tests.

Its intent id encodes the reference and the amount; `pay()` returns the notification a gateway would send once
the member has paid. config/settings/test.py registers it as the refunding gateway "fake"."""

from __future__ import annotations

import re

from galleria.wallet.types import PaymentNotice

_FAKE_ID = re.compile(r"^fake_(?P<reference>[A-Za-z0-9]{1,32})_(?P<amount>[0-9]{1,16})$")


class FakeGateway:
    name = "fake"

    def create_payment(self, *, amount_fen: int, reference: str) -> str:
        if amount_fen <= 0 or not reference.isalnum():
            raise ValueError("bad fake payment")
        return f"fake_{reference}_{amount_fen}"

    def pay(self, intent_id: str, *, amount_fen: int | None = None) -> PaymentNotice:
        """Mark the intent paid: the notification the gateway sends. `amount_fen` overrides the amount paid (to
        test a mismatch); by default the member pays exactly what the intent asked for."""
        match = _FAKE_ID.match(intent_id)
        if match is None:
            raise ValueError("not a fake intent id")
        asked = int(match["amount"])
        return PaymentNotice(
            gateway=self.name,
            gateway_ref=intent_id,
            reference=match["reference"],
            amount_fen=asked if amount_fen is None else amount_fen,
        )

    def refund(self, *, gateway_ref: str, amount_fen: int, total_fen: int, refund_reference: str) -> str:
        """Accept the refund (no state: the same reference gives the same refund id)."""
        match = _FAKE_ID.match(gateway_ref)
        if match is None or not 0 < amount_fen <= total_fen or int(match["amount"]) != total_fen:
            raise ValueError("bad fake refund")
        if not refund_reference.isalnum() or len(refund_reference) > 32:
            raise ValueError("bad fake refund reference")
        return f"fkr_{refund_reference}_{amount_fen}"
