"""What the reconcile services share: the group's gateway adapter and history entries."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from galleria.audit.types import Actor
from galleria.payments import selectors as payment_selectors
from galleria.payments.exceptions import ProviderNotConfiguredError
from galleria.payments.gateways.base import Gateway
from galleria.payments.services import gateway_of

MAX_NOTE = 2000


def group_gateway(*, mall_group_id: int, provider: str) -> tuple[Gateway, str]:
    """The group's adapter for `provider` and its merchant number; ProviderNotConfiguredError when the group has no
    active credential for it."""
    credential = payment_selectors.credential_get(mall_group_id=mall_group_id, provider=provider)
    if credential is None or not credential.is_active:
        raise ProviderNotConfiguredError(extra={"provider": provider})
    return gateway_of(credential), credential.mch_id


def entry(*, actor: Actor | None, action: str, result: str = "", note: str = "", **extra: Any) -> dict[str, Any]:
    """One line of a finding's or order's history."""
    line: dict[str, Any] = {
        "at": timezone.now().isoformat(timespec="seconds"),
        "by": actor.label if actor else "system",
        "action": action,
    }
    if result:
        line["result"] = result[:300]
    if note:
        line["note"] = note[:MAX_NOTE]
    line.update(extra)
    return line
