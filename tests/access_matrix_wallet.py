"""Access matrix entries of the wallet area (merged into MATRIX by tests/access_matrix.py): the service desk's
wallet refund on the member 360 page and the approval queue of refunds above the threshold."""

from __future__ import annotations

from .access_matrix import ROOT, Entry, action, console, page, r
from .evidence_world import EvidenceWorld

REFUNDERS = {"admin", "service", ROOT}  # wallet.refund
REFUND_APPROVERS = {"admin", "finance", ROOT}  # wallet.refund_approve


def member_id(ew: EvidenceWorld) -> int:
    return ew.member.pk


def _pending_refund(ew: EvidenceWorld) -> int:
    """A pending wallet refund of the evidence member (made on first use, without an audit trace)."""
    from galleria.wallet.models import BalanceRefund, BalanceRefundStatus

    refund, _created = BalanceRefund.objects.get_or_create(
        member=ew.member,
        status=BalanceRefundStatus.PENDING,
        defaults={"mall_group": ew.world.group, "amount_fen": 100, "reason": "evidence"},
    )
    return refund.pk


MATRIX_WALLET: dict[str, Entry] = {
    "console:member_wallet_refund": page(
        console(REFUNDERS, scoped=True),
        data=lambda ew: {
            "what": "amount",
            "amount": "1",
            "payout": "original",
            "reason": "evidence",
            "action": "preview",
        },
        note="POST previews the plan (the refund itself is the same view with action=refund)",
    )(r("console:member_wallet_refund", member_id)),
    "console:wallet_refunds": page(console(REFUND_APPROVERS))(r("console:wallet_refunds")),
    "console:wallet_refund_decide": action(
        console(REFUND_APPROVERS, scoped=True), data=lambda ew: {"decision": "reject", "note": "evidence"}
    )(r("console:wallet_refund_decide", _pending_refund)),
}
