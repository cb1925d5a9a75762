"""WeChat Pay 智慧商圈 (business-circle points, 无感积分): payments members make at participating shops with
their own WeChat Pay reach the mall as MALL_* notifications; a payment credits points through the checkout
pipeline (channel `payment_link`), a refund reverses them, and the points are reported back to WeChat."""

from __future__ import annotations

from ..gateways.base import Notice
from ..models import NoticeOutcome


def mall_notice_apply_in_tx(*, notice: Notice, mall_group_id: int) -> str:
    """Not wired yet: the notice is logged (by the caller) and acknowledged."""
    return NoticeOutcome.IGNORED
