"""Coupon writes. `templates`: templates and promotions (staff, audited); `issuance`: claims, grants, triggered
issues, expiry, void; `redemption`: the sale integration pair and standalone redemption; `holds`: coupons
reserved by a pending online checkout; `cart`: an online cart's coupons, the cross-shop one in parts.

Public use cases open `transaction.atomic(durable=True)`; `*_in_tx` functions compose into the caller's
transaction (the sale's); event and task handlers (`coupon_issue_on_join`, `coupon_issue_on_tier_change`,
`coupon_grant_batch_run`) use plain `atomic()` so they also run inside the publishing transaction.
"""

from .cart import coupons_redeem_for_cart_in_tx
from .holds import coupons_hold_in_tx, coupons_release_hold_in_tx
from .issuance import (
    coupon_claim,
    coupon_claim_in_tx,
    coupon_expire,
    coupon_grant,
    coupon_grant_batch_create,
    coupon_grant_batch_run,
    coupon_issue_birthdays,
    coupon_issue_in_tx,
    coupon_issue_on_join,
    coupon_issue_on_tier_change,
    coupon_void,
    coupon_void_in_tx,
    coupons_issue_for_sale_in_tx,
    coupons_revoke_for_sale_in_tx,
    coupons_void_for_member_in_tx,
    segment_member_ids,
)
from .redemption import (
    coupon_redeem_standalone,
    coupon_redeem_standalone_in_tx,
    coupons_attach_sale_in_tx,
    coupons_redeem_for_sale_in_tx,
    coupons_refund_for_sale_in_tx,
)
from .templates import (
    coupon_template_activate,
    coupon_template_create,
    coupon_template_end,
    coupon_template_pause,
    coupon_template_update,
    promotion_create,
    promotion_set_status,
)

__all__ = [
    "coupon_claim",
    "coupon_claim_in_tx",
    "coupon_expire",
    "coupon_grant",
    "coupon_grant_batch_create",
    "coupon_grant_batch_run",
    "coupon_issue_birthdays",
    "coupon_issue_in_tx",
    "coupon_issue_on_join",
    "coupon_issue_on_tier_change",
    "coupon_redeem_standalone",
    "coupon_redeem_standalone_in_tx",
    "coupon_template_activate",
    "coupon_template_create",
    "coupon_template_end",
    "coupon_template_pause",
    "coupon_template_update",
    "coupon_void",
    "coupon_void_in_tx",
    "coupons_attach_sale_in_tx",
    "coupons_hold_in_tx",
    "coupons_issue_for_sale_in_tx",
    "coupons_redeem_for_cart_in_tx",
    "coupons_redeem_for_sale_in_tx",
    "coupons_refund_for_sale_in_tx",
    "coupons_release_hold_in_tx",
    "coupons_revoke_for_sale_in_tx",
    "coupons_void_for_member_in_tx",
    "promotion_create",
    "promotion_set_status",
    "segment_member_ids",
]
