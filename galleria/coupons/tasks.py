"""Background work and event handlers of the coupons app (thin: call one service).

List the handlers in settings.GALLERIA_EVENT_HANDLERS: "member.joined" → on_member_joined,
"member.tier_changed" → on_tier_changed.
"""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def on_member_joined(*, member_id: int) -> None:
    services.coupon_issue_on_join(member_id=member_id)


@task()
def on_tier_changed(*, member_id: int, tier_change_id: int, reason: str = "") -> None:
    services.coupon_issue_on_tier_change(member_id=member_id, tier_change_id=tier_change_id, reason=reason)


@task()
def coupon_grant_batch_run_task(*, batch_id: int) -> None:
    services.coupon_grant_batch_run(batch_id=batch_id)
