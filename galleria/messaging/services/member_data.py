"""A member's rows in the WeChat and web push channels: erasure (privacy) — the channels keyed by member id."""

from __future__ import annotations

from ..models import PushMessage, PushStatus, PushSubscription, WechatMessage, WechatStatus, WechatSubscription


def channels_member_erase(*, member_id: int) -> int:
    """Erasure: the member's WeChat subscription quotas and browser push subscriptions are deleted; their WeChat and
    push outbox rows keep template, status and times, the recipient (openid), values and texts are dropped, and
    queued ones are not sent. Returns how many rows changed."""
    changed = WechatSubscription.objects.filter(member_id=member_id).delete()[0]
    changed += PushSubscription.objects.filter(member_id=member_id).delete()[0]
    wechat = WechatMessage.objects.filter(member_id=member_id)
    wechat.filter(status=WechatStatus.QUEUED).update(
        status=WechatStatus.FAILED, error_code="erased", error="recipient erased", next_attempt_at=None
    )
    changed += wechat.update(recipient="", params={}, data={}, page="")
    push = PushMessage.objects.filter(member_id=member_id)
    push.filter(status=PushStatus.QUEUED).update(
        status=PushStatus.FAILED, error_code="erased", error="recipient erased", next_attempt_at=None
    )
    changed += push.update(title="", body="", url="")
    return changed
