"""Delivery receipts (状态报告) from the SMS providers: authenticated by the installation's token, applied once.

The providers push receipts to `POST /hooks/sms/<provider>/<token>/` (galleria/interfaces/hooks/sms.py), which
hands the raw body here. Neither provider signs its pushes, so the URL carries a secret (`GALLERIA_SMS_RECEIPT_TOKEN`,
compared in constant time; empty = every receipt refused). A receipt is matched to its message by the provider's
reference (Aliyun BizId, Tencent SerialNo) or by Galleria's out_id (Aliyun echoes OutId), and applied only to a
message that has no receipt yet: the providers push again until acknowledged, and a repeat changes nothing. A
receipt also settles a message still queued in doubt (its answer was lost, the provider had it): it is not sent
again.
"""

from __future__ import annotations

import hmac
import logging
import re

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import SmsMessage, SmsStatus
from ..providers import receipts as wire

log = logging.getLogger("galleria.messaging")
PROVIDERS = ("aliyun", "tencent")
OUT_ID_RE = re.compile(r"^gsms-(\d{1,18})$")


def sms_receipt_token_ok(token: str) -> bool:
    secret = str(settings.GALLERIA_SMS_RECEIPT_TOKEN or "")
    return bool(secret) and hmac.compare_digest(token.encode(), secret.encode())


def sms_receipts_apply(*, provider: str, receipts: list[wire.Receipt]) -> int:
    """Apply each receipt to its message, once. Returns how many messages changed."""
    now = timezone.now()
    changed = 0
    for receipt in receipts:
        match = Q(pk__in=[])
        if receipt.ref:
            match |= Q(provider=provider, provider_ref=receipt.ref)
        out = OUT_ID_RE.match(receipt.out_id)
        if out:
            match |= Q(pk=int(out.group(1)))
        rows = SmsMessage.objects.filter(match, reported_at__isnull=True)
        values = {
            "status": SmsStatus.DELIVERED if receipt.delivered else SmsStatus.FAILED,
            "reported_at": receipt.reported_at or now,
            "receipt_code": receipt.code,
            "delivered_at": (receipt.reported_at or now) if receipt.delivered else None,
            "in_doubt": False,
            "next_attempt_at": None,
        }
        if receipt.ref:
            rows.filter(provider_ref="").update(provider_ref=receipt.ref)
        if not receipt.delivered:
            values["error_code"] = receipt.code
        changed += rows.update(**values)
    return changed


def sms_receipts_receive(*, provider: str, token: str, body: bytes) -> tuple[int, bytes]:
    """(HTTP status, body) answering one push. 404 for an unknown provider, 403 for a wrong token, 400 for a body
    that is not the provider's format; otherwise the provider's acknowledgement."""
    if provider not in PROVIDERS:
        return 404, b""
    if not sms_receipt_token_ok(token):
        log.warning("SMS receipt push for %s refused: wrong token", provider)
        return 403, b""
    try:
        receipts = wire.parse(provider, body)
    except wire.ReceiptFormatError as exc:
        log.warning("SMS receipt push for %s refused: %s", provider, exc)
        return 400, wire.ack(provider, False)
    changed = sms_receipts_apply(provider=provider, receipts=receipts)
    log.info("SMS receipts from %s: %s received, %s applied", provider, len(receipts), changed)
    return 200, wire.ack(provider, True)
