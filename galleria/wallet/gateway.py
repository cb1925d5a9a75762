"""What the wallet needs from a payment gateway, and where it finds the gateway that refunds a top-up.

`PaymentGateway` is the whole contract a top-up needs from WeChat Pay or Alipay: create a payment for an amount
under our reference and return the gateway's intent id. The member then pays through the gateway; the gateway's
verified notification reaches `services.wallet_topup_confirm_in_tx` through the payments app (docs/payments.md),
which sits above the wallet and implements this protocol on its adapters.

`RefundGateway` is what a refund of a top-up to its original channel needs: refund part of a paid intent under our
refund reference (idempotent per reference). The wallet cannot import the payments app (it sits below it), so the
refunding gateways are named in settings, as the privacy erasure handlers are:
`GALLERIA_WALLET_REFUND_GATEWAYS = {"wechat": "galleria.payments.services.TopUpRefundGateway", …}` — a class
taking no arguments. A top-up from a gateway without an entry (cash at the service desk, or a gateway no longer
configured) is paid back in cash at the service desk (services.balance_refunds).
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class PaymentGateway(Protocol):
    name: str  # stored on the TopUp ("wechat", "alipay", "cash"); at most 20 characters

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


def refund_gateway_get(name: str) -> RefundGateway | None:
    """The gateway that refunds top-ups made at `name`, or None when there is none (the money goes back in cash)."""
    path = settings.GALLERIA_WALLET_REFUND_GATEWAYS.get(name)
    if not path:
        return None
    gateway: RefundGateway = import_string(path)()
    return gateway
