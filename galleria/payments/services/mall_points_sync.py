"""Reporting 商圈 points back to WeChat (`POST /v3/businesscircle/points/notify`): what a payment earned — or
`earn_points=false` with the reason, shown to the member in WeChat — for every 商圈 payment Galleria applied.

Sent by `mall_points_sync_task` after the payment's transaction commits (never inside it: no I/O under a lock),
and again by `mall_points_sync_due` (the payments sweep) for whatever is still pending: a call the gateway could
not take (network, 5xx, 429) is retried with growing gaps (`RETRY_GAPS_S`, the last one repeated) until WeChat
accepts it. The report is idempotent at WeChat (the same transaction, the same body), so a report sent twice by
two workers does no harm. A business refusal (PARAM_ERROR, …) will not change by itself: it is kept as REFUSED
with WeChat's message for the console, where staff can send it again (`mall_points_resync`).

Only reported transactions get refund notifications from WeChat (MALL_REFUND), so a transaction whose report
is stuck also never hears of its refunds: the console's filter "sync: to report / refused" finds them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import cast

from django.db.models import F
from django.utils import timezone

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.errors import NotFoundError

from ..exceptions import ProviderNotConfiguredError
from ..gateways.base import GatewayRefusedError, GatewayUnavailableError, MallGateway
from ..models import MallNoPoints, MallSyncState, MallTransaction, MallTxnState
from ..selectors_mall import mall_sync_due_ids
from ._gateway import credential_for, gateway_of

log = logging.getLogger("galleria.payments.mall")

RETRY_GAPS_S = (15, 30, 60, 120, 300, 600, 1800, 3600)

# what WeChat shows the member when nothing was earned (no_points_remarks)
REMARKS = {
    MallNoPoints.MEMBER_UNKNOWN: "未关联商场会员",
    MallNoPoints.NOT_AUTHORISED: "未开通商圈积分",
    MallNoPoints.SHOP_UNMAPPED: "该门店暂不参与积分",
    MallNoPoints.MERCHANT_INACTIVE: "该商户暂停积分",
    MallNoPoints.CAP_REACHED: "已达积分上限",
    MallNoPoints.BELOW_MINIMUM: "未达积分最低消费",
    MallNoPoints.NOTHING_EARNED: "本单不产生积分",
    MallNoPoints.REFUSED: "本单暂无法积分",
}


def retry_gap_s(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed report."""
    return RETRY_GAPS_S[min(max(attempts, 1), len(RETRY_GAPS_S)) - 1]


def mall_points_sync(*, mall_txn_id: int) -> int | None:
    """Report one transaction's points to WeChat. None when nothing is left to do (reported, refused, not due);
    otherwise the seconds to wait before the next try."""
    txn = MallTransaction.objects.filter(pk=mall_txn_id).first()
    if txn is None or txn.sync_state != MallSyncState.PENDING or txn.paid_at is None:
        return None
    rows = MallTransaction.objects.filter(pk=txn.pk, sync_state=MallSyncState.PENDING)
    earned = txn.state == MallTxnState.CREDITED and txn.points > 0
    try:
        gateway = cast(MallGateway, gateway_of(credential_for(mall_group_id=txn.mall_group_id, provider="wechat")))
        gateway.mall_points_notify(
            transaction_id=txn.transaction_id,
            openid=txn.openid,
            earned=earned,
            points=txn.points if earned else 0,
            updated_at=txn.booked_at or txn.paid_at,
            no_points_reason="" if earned else REMARKS.get(MallNoPoints(txn.reason or "refused"), ""),
            total_points=txn.points_balance if earned else None,
        )
    except (GatewayUnavailableError, ProviderNotConfiguredError, ValueError) as exc:  # ValueError: incomplete account
        gap = retry_gap_s(txn.sync_attempts + 1)
        rows.update(
            sync_attempts=F("sync_attempts") + 1,
            sync_next_at=timezone.now() + dt.timedelta(seconds=gap),
            sync_error=f"unavailable: {exc}"[:200],
        )
        log.warning("商圈 %s: points report failed (%s); again in %s s", txn.transaction_id, exc, gap)
        return gap
    except GatewayRefusedError as exc:
        rows.update(
            sync_attempts=F("sync_attempts") + 1,
            sync_state=MallSyncState.REFUSED,
            sync_next_at=None,
            sync_error=f"{exc.code}: {exc}"[:200],
        )
        log.error("商圈 %s: WeChat refused the points report: %s", txn.transaction_id, exc)
        return None
    rows.update(
        sync_attempts=F("sync_attempts") + 1,
        sync_state=MallSyncState.SYNCED,
        synced_at=timezone.now(),
        sync_next_at=None,
        sync_error="",
    )
    return None


def mall_points_sync_due(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Report what is due (the payments sweep runs this); returns how many WeChat accepted."""
    moment = now or timezone.now()
    done = 0
    for txn_id in mall_sync_due_ids(now=moment, limit=limit):
        mall_points_sync(mall_txn_id=txn_id)
        done += MallTransaction.objects.filter(pk=txn_id, sync_state=MallSyncState.SYNCED).exists()
    return done


def mall_points_resync(*, mall_group_id: int, txn_id: int, actor: Actor) -> str:
    """Staff send a refused (or still pending) report again at once; returns the new sync state."""
    found = MallTransaction.objects.filter(pk=txn_id, mall_group_id=mall_group_id).first()
    if found is None:
        raise NotFoundError(code="payments.mall_txn_not_found")
    if found.sync_state in (MallSyncState.REFUSED, MallSyncState.PENDING):
        MallTransaction.objects.filter(pk=found.pk).update(
            sync_state=MallSyncState.PENDING, sync_next_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="payments.mall_resync",
            target_type="mall_transaction",
            target_id=found.pk,
            target_label=found.transaction_id,
            mall_group_id=mall_group_id,
            changes={"sync_state": [found.sync_state, MallSyncState.PENDING]},
        )
        mall_points_sync(mall_txn_id=found.pk)
    found.refresh_from_db(fields=["sync_state"])
    return found.sync_state
