"""Fulfilers of other apps: what a paid attempt of a purpose payments does not handle itself is for.

Payments sits below the apps that sell through it (parking is above payments in the layer contract), so it cannot
import them; instead each registers one function per purpose in its AppConfig.ready():

    from galleria.payments.services.fulfilment import register
    register(Purpose.PARKING, parking_fulfil)

`notices._apply_payment` calls it for an attempt of that purpose once the money arrived in full, inside the
notification's durable transaction, with the attempt row locked (lock order: the attempt, then whatever the fulfiler
locks) and inside a savepoint. The fulfiler records what was paid for (through the checkout pipeline) and returns
`Fulfilled`; when it cannot honour the payment any more it raises an ApplicationError: its writes are rolled back
and the attempt is refunded in full at the gateway, exactly as a pay-at-store basket the pipeline refuses. The
attempt's state under its lock is what makes a payment count once: a fulfiler is called at most once per attempt.
A fulfiler does no I/O (side effects are tasks or on_commit)."""

from __future__ import annotations

from collections.abc import Callable

from ..types import Fulfilled, PaidAttempt, Purpose

Fulfiler = Callable[[PaidAttempt], Fulfilled]

_fulfilers: dict[str, Fulfiler] = {}
BUILT_IN = frozenset({Purpose.TOPUP, Purpose.STORE})  # fulfilled by payments itself (notices.py)


def register(purpose: Purpose | str, fulfil: Fulfiler) -> None:
    """The fulfiler of `purpose` (registering again replaces it: ready() may run more than once in tests)."""
    key = Purpose(purpose).value
    if key in BUILT_IN:
        raise ValueError(f"payments fulfils {key} itself")
    _fulfilers[key] = fulfil


def fulfiler_for(purpose: str) -> Fulfiler | None:
    return _fulfilers.get(purpose)


__all__ = ["BUILT_IN", "Fulfiler", "fulfiler_for", "register"]
