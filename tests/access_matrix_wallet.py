"""Access matrix entries of the wallet area (merged into MATRIX by tests/access_matrix.py): the service desk's
wallet refund and cash top-up on the member 360 page, and the approval queues of refunds and of cash top-ups above
their thresholds."""

from __future__ import annotations

from .access_matrix import ROOT, Entry, action, console, page, r
from .evidence_world import EvidenceWorld

REFUNDERS = {"admin", "service", ROOT}  # wallet.refund
REFUND_APPROVERS = {"admin", "finance", ROOT}  # wallet.refund_approve (also decides cash top-ups)
CASH_DESK = {"admin", "service", ROOT}  # wallet.cash_topup


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


def _pending_cash_topup(ew: EvidenceWorld) -> int:
    """A cash top-up of the evidence member awaiting approval (made on first use, without an audit trace; taken by
    nobody in particular, so every approver may decide it)."""
    from galleria.wallet.models import TopUp

    topup, _created = TopUp.objects.get_or_create(
        member=ew.member,
        reference="TUevidencecash",
        defaults={
            "mall_group": ew.world.group,
            "mall": ew.world.mall,
            "amount_fen": 300_000,
            "gateway": "cash",
            "gateway_ref": "cash_TUevidencecash",
            "approval_required": True,
        },
    )
    return topup.pk


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
    "console:member_wallet_cash_topup": page(
        console(CASH_DESK, scoped=True),
        data=lambda ew: {"mall": str(ew.world.mall.pk), "amount": "1", "note": "evidence", "action": "preview"},
        note="POST previews the bonus (recording the top-up is the same view with action=topup)",
    )(r("console:member_wallet_cash_topup", member_id)),
    "console:wallet_cash_topups": page(console(REFUND_APPROVERS))(r("console:wallet_cash_topups")),
    "console:wallet_cash_topup_decide": action(
        console(REFUND_APPROVERS, scoped=True), data=lambda ew: {"decision": "reject", "note": "evidence"}
    )(r("console:wallet_cash_topup_decide", _pending_cash_topup)),
}
