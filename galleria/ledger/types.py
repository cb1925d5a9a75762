from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Leg:
    account_id: int
    asset: str
    amount: int


@dataclass(frozen=True)
class Drift:
    account_id: int
    cached: int | None
    derived: int


@dataclass(frozen=True)
class CheckReport:
    accounts_checked: int
    transactions_checked: int
    drifts: tuple[Drift, ...]
    unbalanced: tuple[int, ...]  # transaction ids whose legs do not sum to zero per asset
    negative: tuple[int, ...]  # member accounts whose derived balance is negative
    held_drifts: tuple[Drift, ...] = ()  # accounts whose `held` is not the sum of their open holds

    @property
    def ok(self) -> bool:
        return not (self.drifts or self.unbalanced or self.negative or self.held_drifts)


@dataclass(frozen=True)
class HoldResult:
    """A hold as placed (or found again by its key): what it reserves and the account's `held` afterwards (None
    when the hold was found again, not placed now)."""

    hold_id: int
    account_id: int
    amount: int
    held: int | None
    placed: bool
