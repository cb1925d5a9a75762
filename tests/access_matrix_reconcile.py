"""Access matrix entries of the reconcile pages (merged into tests/access_matrix.MATRIX): the console's
reconciliation runs, a day's findings with their fix-ups, and the 分账 orders. Reading needs `payments.view`
(admin, finance, viewer, root), fix-ups and actions `payments.manage` (admin, root). The objects are made on first
use in the evidence world's group and need no gateway: the finding is one a person resolves (no automatic action),
and the order action is refused before any gateway call."""

from __future__ import annotations

import datetime as dt

from .access_matrix import ROOT, Entry, action, console, page, r
from .evidence_world import EvidenceWorld

VIEWERS = {"admin", "finance", "viewer", ROOT}  # payments.view
MANAGERS = {"admin", ROOT}  # payments.manage
DAY = dt.date(2026, 1, 5)


def _finding(ew: EvidenceWorld) -> int:
    """An open 'not known here' finding of the 星河 group's WeChat Pay bill of DAY."""
    from galleria.reconcile.models import Finding, ReconcileRun

    run, _ = ReconcileRun.objects.get_or_create(mall_group=ew.world.group, provider="wechat", bill_date=DAY)
    finding, _ = Finding.objects.get_or_create(
        run=run,
        kind="payment",
        out_trade_no="EXTRA-EVIDENCE-1",
        out_refund_no="",
        defaults={
            "mall_group": ew.world.group,
            "provider": "wechat",
            "bill_date": DAY,
            "outcome": "extra",
            "gateway_fen": 1234,
        },
    )
    return finding.pk


def _share(ew: EvidenceWorld) -> int:
    """A 分账 order of the evidence payment (payments' matrix makes it: a paid pay-at-store payment at 喜茶)."""
    from galleria.reconcile.models import ShareOrder

    from .access_matrix_payments import _attempt

    attempt_id = _attempt(ew)
    order, _ = ShareOrder.objects.get_or_create(
        attempt_id=attempt_id,
        defaults={
            "mall_group": ew.world.group,
            "merchant": ew.world.merchant,
            "out_trade_no": "SEVIDENCE0000000000001",
            "transaction_id": "4200000000000000000000000009",
            "out_order_no": "PSSEVIDENCE0000000000001",
            "state": "finished",
            "paid_fen": 1000,
            "base_fen": 1000,
            "commission_bp": 800,
            "commission_fen": 80,
            "part_fen": 920,
            "limit_bp": 3000,
            "limit_fen": 300,
            "amount_fen": 300,
            "capped_fen": 620,
            "cap_reason": "limit",
        },
    )
    return order.pk


MATRIX_RECONCILE: dict[str, Entry] = {
    "console:reconcile": page(console(VIEWERS))(r("console:reconcile")),
    "console:reconcile_run": action(console(MANAGERS), data=lambda ew: {"date": "not-a-date"}, note="422: bad date")(
        r("console:reconcile_run")
    ),
    "console:reconcile_day": page(console(VIEWERS))(
        r("console:reconcile_day", lambda ew: "wechat", lambda ew: "2026-01-05")
    ),
    "console:reconcile_finding": action(
        console(MANAGERS, scoped=True), data=lambda ew: {"action": "resolve", "note": "checked with the gateway"}
    )(r("console:reconcile_finding", _finding)),
    "console:profit_shares": page(console(VIEWERS))(r("console:profit_shares")),
    "console:profit_share": action(
        console(MANAGERS, scoped=True), data=lambda ew: {"action": "query"}, note="a finished order: refused, 302"
    )(r("console:profit_share", _share)),
}
