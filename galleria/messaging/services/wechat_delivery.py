"""The WeChat outbox: queue in the caller's transaction, deliver from a task, retry with backoff; subscription quota
of mini-program subscribe messages; the events WeChat pushes back (docs/messaging.md "WeChat").

Contract:
- `wechat_queue` writes the row and enqueues its delivery in the caller's transaction. A subscribe message takes one
  of the member's accepts of that template *there*, with one conditional UPDATE (remaining > 0): two sends racing
  for the last accept cannot both have it. Without an accept the row is `skipped` (`quota.none`) and no task runs;
  without a mapped template it is `skipped` (`config.template_missing`); without a recipient `skipped`
  (`recipient.none`).
- `wechat_deliver` claims an attempt with one conditional UPDATE (queued, attempt count unchanged, due) before any
  I/O, as `sms_deliver` does: a task that runs twice, or two workers, send a row at most once. An invalid or expired
  token is refreshed and the call retried once (the adapter); -1 (system busy), frequency limits, 5xx and network
  errors are retried with backoff; every other errcode is final (43101 refused / no quota, 40003 invalid openid,
  47003 bad data, 40037 unknown template …). A final failure that WeChat says did not use the accept (anything but
  43101) gives the accept back.
- WeChat has no idempotency key and no lookup of sent messages: an attempt whose answer was lost (a timeout) is
  retried and may reach the user twice — for subscribe messages WeChat's own quota (one send per accept) refuses
  the second with 43101, which then counts as sent.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Least
from django.utils import timezone

from galleria.core.tasks import enqueue

from .. import wechat as conf
from ..exceptions import WechatSubscriptionInvalidError
from ..models import WechatChannel, WechatMessage, WechatStatus, WechatSubscription
from ..providers.wechat import WechatError, parse_events
from ..rules import retry_delay_s, wechat_signature

log = logging.getLogger("galleria.messaging")
TASK = "galleria.messaging.tasks.wechat_deliver_task"
ACCEPT_RESULTS = frozenset({"accept", "reject", "ban", "filter"})
MAX_ACCEPTS = 1000


def _log_entry(now: dt.datetime, outcome: str, code: str = "") -> dict[str, str]:
    return {"at": now.isoformat(timespec="seconds"), "outcome": outcome, "code": code}


def _take_accept(*, member_id: int, template_id: str) -> str:
    """One accept of the member's for the template, taken atomically; the openid that gave it, or "" for none."""
    row = (
        WechatSubscription.objects.filter(member_id=member_id, template_id=template_id, remaining__gt=0)
        .order_by("-accepted_at")
        .values_list("pk", "openid")
        .first()
    )
    if row is None:
        return ""
    took = WechatSubscription.objects.filter(pk=row[0], remaining__gt=0).update(remaining=F("remaining") - 1)
    return row[1] if took else _take_accept(member_id=member_id, template_id=template_id)


def wechat_queue(
    *,
    channel: str,
    template: str,
    params: dict[str, Any],
    member_id: int | None = None,
    recipient: str = "",
    page: str = "",
    sender: str = "",
) -> WechatMessage:
    """Write one WeChat message to the outbox and enqueue its delivery, in the caller's transaction.

    - `channel`: `WechatChannel.SUBSCRIBE` (mini-program 订阅消息: `member_id` required; the openid is the one that
      accepted the template, so `recipient` may be left empty), `TEMPLATE` (official account 模板消息: `recipient`
      = the member's openid in the official account — resolve it with members' `member_wechat_openids`) or `WECOM`
      (企业微信: `recipient` = the customer's external_userid, `sender` = the staff member's userid, who confirms
      the send in WeCom; `params["text"]` is the text).
    - `template`: a Galleria template name mapped for that channel in GALLERIA_WECHAT_TEMPLATES; `params` are the
      values of its parameters (text is shortened to WeChat's limits: thing ≤ 20 characters …).
    - `page`: the mini-program page a subscribe message opens, or the URL a template message links to.

    Returns the row: `queued`, or `skipped` with `error_code` (`quota.none`, `config.template_missing`,
    `recipient.none`) when it cannot be sent at all — nothing is enqueued then. Consent, quiet hours and caps are
    the caller's."""
    now = timezone.now()
    values: dict[str, Any] = {
        "channel": channel,
        "template": template[:40],
        "params": {k: str(v) for k, v in params.items()},
        "member_id": member_id,
        "recipient": recipient[:128],
        "page": page[:500],
        "sender": sender[:64],
    }
    skip = ""
    if channel == WechatChannel.WECOM:
        if not recipient or not sender:
            skip = "recipient.none"
    else:
        spec = conf.template_spec(template, channel)
        if spec is None:
            skip = "config.template_missing"
        else:
            values["template_id"] = str(spec["id"])[:128]
            if channel == WechatChannel.SUBSCRIBE:
                openid = _take_accept(member_id=member_id, template_id=values["template_id"]) if member_id else ""
                if openid:
                    values.update(recipient=openid[:128], quota_taken=True)
                else:
                    skip = "quota.none"
            elif not recipient:
                skip = "recipient.none"
    if skip:
        values.update(status=WechatStatus.SKIPPED, error_code=skip, attempt_log=[_log_entry(now, "skipped", skip)])
        return WechatMessage.objects.create(**values)
    message = WechatMessage.objects.create(**values)
    enqueue(TASK, message_id=message.pk)
    return message


def _retry_conf(name: str) -> float:
    return float(settings.GALLERIA_MESSAGING_RETRY[name])


def _claim(message: WechatMessage, now: dt.datetime) -> bool:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    lease = now + dt.timedelta(seconds=2 * float(settings.GALLERIA_WECHAT_TIMEOUT_S) + 30)
    return bool(
        WechatMessage.objects.filter(due, pk=message.pk, status=WechatStatus.QUEUED, attempts=message.attempts).update(
            attempts=F("attempts") + 1, next_attempt_at=lease
        )
    )


def _send(message: WechatMessage) -> str:
    channel = message.channel
    sender = conf.wechat_sender(channel)
    if channel == WechatChannel.WECOM:
        text = str(message.params.get("text") or "")
        if not text:
            raise WechatError("config.params_missing", "text", retryable=False)
        return sender.wecom_add_msg_template(sender=message.sender, external_userids=[message.recipient], text=text)
    spec = conf.template_spec(message.template, channel)
    if spec is None:
        raise WechatError("config.template_missing", message.template, retryable=False)
    data = message.data or conf.template_data(spec, message.params)
    WechatMessage.objects.filter(pk=message.pk).update(data=data)
    if channel == WechatChannel.SUBSCRIBE:
        return sender.send_subscribe(
            openid=message.recipient, template_id=message.template_id, data=data, page=message.page
        )
    link = {"url": message.page} if message.page.startswith("http") else {}
    mini = None
    if message.page and not link and settings.GALLERIA_WECHAT.get("MINI_APPID"):
        mini = {"appid": settings.GALLERIA_WECHAT["MINI_APPID"], "pagepath": message.page}
    return sender.send_template(
        openid=message.recipient, template_id=message.template_id, data=data, miniprogram=mini, **link
    )


def wechat_deliver(*, message_id: int) -> float | None:
    """One delivery attempt of a queued message (module docstring). Returns the seconds until its retry is due, or
    None when there is nothing more to do (sent, failed for good, not due, or another worker has it)."""
    message = WechatMessage.objects.filter(pk=message_id).first()
    now = timezone.now()
    if message is None or message.status != WechatStatus.QUEUED or not message.recipient:
        return None
    if message.next_attempt_at and message.next_attempt_at > now:
        return None
    if not _claim(message, now):
        return None
    attempts = message.attempts + 1
    try:
        ref = _send(message)
    except WechatError as exc:
        return _record_failure(message, attempts=attempts, error=exc)
    except Exception as exc:  # an adapter bug or an unexpected transport error
        log.exception("WeChat message %s: unexpected error", message.pk)
        return _record_failure(message, attempts=attempts, error=WechatError("unexpected", repr(exc), retryable=True))
    done = timezone.now()
    WechatMessage.objects.filter(pk=message.pk, attempts=attempts).update(
        status=WechatStatus.SENT,
        sent_at=done,
        provider_ref=ref[:80],
        next_attempt_at=None,
        error="",
        error_code="",
        attempt_log=[*message.attempt_log, _log_entry(done, "sent")],
    )
    return None


def _record_failure(message: WechatMessage, *, attempts: int, error: WechatError) -> float | None:
    now = timezone.now()
    values: dict[str, Any] = {
        "error": str(error)[:200],
        "error_code": error.code,
        "attempt_log": [*message.attempt_log, _log_entry(now, "retry" if error.retryable else "refused", error.code)],
    }
    delay: float | None = None
    if error.retryable and attempts < int(_retry_conf("MAX_ATTEMPTS")):
        delay = retry_delay_s(attempt=attempts, base_s=_retry_conf("BASE_SECONDS"), max_s=_retry_conf("MAX_SECONDS"))
        values["next_attempt_at"] = now + dt.timedelta(seconds=delay)
    else:
        values.update(status=WechatStatus.FAILED, next_attempt_at=None)
    with transaction.atomic():
        changed = WechatMessage.objects.filter(pk=message.pk, attempts=attempts).update(**values)
        if changed and delay is None and message.quota_taken and error.code != "43101":
            # WeChat did not use the member's accept: give it back
            WechatSubscription.objects.filter(
                openid=message.recipient, template_id=message.template_id, remaining__lt=MAX_ACCEPTS
            ).update(remaining=F("remaining") + 1)
    log.warning(
        "WeChat message %s attempt %s failed: %s%s",
        message.pk,
        attempts,
        error.code,
        "" if delay is None else f" (retry in {delay:.0f} s)",
    )
    return delay


def wechat_retry_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Attempt every queued message whose retry (or lost attempt's lease) is due, and any queued message whose task
    never ran; returns how many were attempted (the `messaging_retry` command)."""
    now = now or timezone.now()
    stale = now - dt.timedelta(minutes=5)
    ids = list(
        WechatMessage.objects.filter(status=WechatStatus.QUEUED)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=stale))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        wechat_deliver(message_id=pk)
    return len(ids)


# ---------------------------------------------------------------------------------------------- subscriptions


def wechat_subscribe_template_ids() -> set[str]:
    """The subscribe-message template ids this installation sends (what the mini-program may ask members for)."""
    return {
        str(channels["subscribe"]["id"])
        for channels in settings.GALLERIA_WECHAT_TEMPLATES.values()
        if isinstance(channels, dict)
        and isinstance(channels.get("subscribe"), dict)
        and channels["subscribe"].get("id")
    }


def wechat_subscription_record(*, member_id: int, openid: str, results: dict[str, str]) -> dict[str, int]:
    """Record what wx.requestSubscribeMessage answered: each template the member accepted allows one more send
    (one-time subscription); reject/ban/filter change nothing. Unknown template ids or results are refused whole
    (`WechatSubscriptionInvalidError`). Returns template id → accepts now left (for the templates in `results`)."""
    known = wechat_subscribe_template_ids()
    unknown = sorted(t for t in results if t not in known)
    bad = sorted(t for t, r in results.items() if r not in ACCEPT_RESULTS)
    if unknown or bad or not openid:
        problems = [f"unknown template id {t}" for t in unknown] + [f"unknown result for {t}" for t in bad]
        raise WechatSubscriptionInvalidError(fields={"results": "; ".join(problems)[:300]})
    now = timezone.now()
    left: dict[str, int] = {}
    with transaction.atomic():
        for template_id, result in sorted(results.items()):
            row, _ = WechatSubscription.objects.get_or_create(
                openid=openid, template_id=template_id, defaults={"member_id": member_id, "accepted_at": now}
            )
            rows = WechatSubscription.objects.filter(pk=row.pk)
            if result == "accept":  # one conditional UPDATE: concurrent accepts each count
                rows.update(
                    remaining=Least(F("remaining") + 1, MAX_ACCEPTS),
                    accepted_at=now,
                    member_id=member_id,
                    updated_at=now,
                )
            else:
                rows.update(member_id=member_id, updated_at=now)
            left[template_id] = rows.values_list("remaining", flat=True).get()
    return left


# ------------------------------------------------------------------------------------------------------ events


def wechat_event_signature_ok(*, app: str, signature: str, timestamp: str, nonce: str) -> bool:
    token = conf.server_token(app) if app in ("mini", "mp") else ""
    if not token or not signature:
        return False
    expected = wechat_signature(token=token, timestamp=timestamp, nonce=nonce)
    return hmac.compare_digest(expected.encode(), signature.encode())


def wechat_events_receive(*, app: str, query: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """(HTTP status, body) answering one push to the app's server URL: 404 unknown app, 403 bad signature, 400 a body
    that is not WeChat's XML; events other than the two receipts are acknowledged and ignored. A receipt is applied
    to its message (by msgid) once: a repeat changes nothing and is acknowledged."""
    if app not in ("mini", "mp"):
        return 404, b""
    if not wechat_event_signature_ok(
        app=app,
        signature=query.get("signature", ""),
        timestamp=query.get("timestamp", ""),
        nonce=query.get("nonce", ""),
    ):
        log.warning("WeChat event push for %s refused: bad signature", app)
        return 403, b""
    try:
        events = parse_events(body)
    except ValueError as exc:
        log.warning("WeChat event push for %s refused: %s", app, exc)
        return 400, b""
    now = timezone.now()
    channel = WechatChannel.SUBSCRIBE if app == "mini" else WechatChannel.TEMPLATE
    for event in events:
        values: dict[str, Any] = {"reported_at": now, "receipt_code": event.status[:80]}
        if event.delivered:
            values.update(status=WechatStatus.DELIVERED, delivered_at=now)
        else:
            values.update(status=WechatStatus.FAILED, error_code=event.status[:80])
        WechatMessage.objects.filter(
            channel=channel,
            provider_ref=event.msgid,
            reported_at__isnull=True,
            status__in=[WechatStatus.SENT, WechatStatus.QUEUED],
        ).update(**values)
    return 200, b"success"


def wechat_echo(*, app: str, query: dict[str, str]) -> tuple[int, bytes]:
    """The GET WeChat sends when the server URL is configured: echo `echostr` when the signature is right."""
    if app not in ("mini", "mp"):
        return 404, b""
    if not wechat_event_signature_ok(
        app=app,
        signature=query.get("signature", ""),
        timestamp=query.get("timestamp", ""),
        nonce=query.get("nonce", ""),
    ):
        return 403, b""
    return 200, query.get("echostr", "")[:200].encode()
