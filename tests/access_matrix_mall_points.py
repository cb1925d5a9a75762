"""Access matrix entries of the 智慧商圈 (payment-linked points) pages (merged into tests/access_matrix.MATRIX): the
member app's WeChat Pay points page, linking WeChat and its return, and the console's 商圈 transactions (payments.view),
one transaction, reporting it again and the web-authorisation settings (payments.manage)."""

from __future__ import annotations

from .access_matrix import NOT_ALLOWED, ROOT, Entry, action, app, console, page, public, r
from .evidence_world import EvidenceWorld

VIEWERS = {"admin", "finance", "viewer", ROOT}  # payments.view
MANAGERS = {"admin", ROOT}  # payments.manage
TXN = "4200000000EVIDENCE0000000001"


def _txn(ew: EvidenceWorld) -> int:
    """A 商圈 payment of the evidence member at 喜茶 that earned nothing and whose report WeChat refused (so the
    "report again" action has something to do: it fails again against an unreachable gateway, harmlessly)."""
    from django.utils import timezone

    from galleria.payments.models import MallTransaction

    txn, _created = MallTransaction.objects.get_or_create(
        mall_group=ew.world.group,
        transaction_id=TXN,
        defaults={
            "state": "no_points",
            "reason": "not_authorised",
            "openid": "oEvidence000000000000000000",
            "mchid": "1900000109",
            "shop_number": "EVIDENCE",
            "shop_name": "喜茶 星河广场店",
            "amount_fen": 1000,
            "paid_at": timezone.now(),
            "merchant": ew.world.merchant,
            "member": ew.member,
            "sync_state": "refused",
            "sync_error": "PARAM_ERROR: evidence",
        },
    )
    return txn.pk


GET_ONLY = public(NOT_ALLOWED)

MATRIX_MALL_POINTS: dict[str, Entry] = {
    "app:mall_points": page(app())(r("app:mall_points")),
    "app:mall_points_link": page(app(), post=GET_ONLY, note="GET only: off to WeChat, or back with an error")(
        r("app:mall_points_link")
    ),
    "app:mall_points_return": page(app(), post=GET_ONLY, note="GET only: no state in the session is refused")(
        r("app:mall_points_return")
    ),
    "console:mall_points": page(console(VIEWERS))(r("console:mall_points")),
    "console:mall_point": page(console(VIEWERS, scoped=True))(r("console:mall_point", _txn)),
    "console:mall_point_resync": action(console(MANAGERS, scoped=True))(r("console:mall_point_resync", _txn)),
    "console:mall_points_settings": page(console(MANAGERS), data=lambda ew: {"app_secret": "short"}, note="422")(
        r("console:mall_points_settings")
    ),
}
