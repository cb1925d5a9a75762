"""SMS adapter. Real gateways (Aliyun, Tencent Cloud) implement `SmsBackend`; the default writes to the log."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("galleria.sms")


class SmsBackend(Protocol):
    def send(self, *, phone: str, body: str) -> str:
        """Deliver one message; return the provider's reference; raise on failure."""
        ...


class OutboxSmsBackend:
    """Development/demo backend: the message stays in the outbox table and is printed to the console log."""

    keeps_bodies = True  # the outbox is the sandbox's inbox: sign-in codes stay readable there

    def send(self, *, phone: str, body: str) -> str:
        logger.warning("SMS to %s: %s", phone, body)
        return "outbox"


def get_backend() -> SmsBackend:
    backend_cls = import_string(settings.GALLERIA_SMS_BACKEND)
    backend: SmsBackend = backend_cls()
    return backend
