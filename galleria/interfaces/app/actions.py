"""The member app's writes, shared by its pages and its JSON API: daily check-in and sandbox top-ups.

Each calls one domain service; this module only decides what to tell the member when the service has nothing to do
(already checked in, no check-in rule) and keeps the sandbox payment away from anything but sandbox top-ups.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.points.selectors import points_balance
from galleria.points.services import points_checkin
from galleria.wallet import exceptions as wallet_exceptions
from galleria.wallet.gateway import SandboxGateway
from galleria.wallet.services import wallet_topup_confirm, wallet_topup_start
from galleria.wallet.types import TopUpIntent, TopUpResult

from . import presenters

CHECKIN_AWARDED = "awarded"
CHECKIN_ALREADY = "already"
CHECKIN_UNAVAILABLE = "unavailable"
CHECKIN_LIMIT = "limit"


@dataclass(frozen=True)
class CheckinOutcome:
    status: str  # awarded | already | unavailable | limit
    points: int  # points awarded now (0 unless awarded)
    balance: int
    state: presenters.CheckinState

    @property
    def awarded(self) -> bool:
        return self.status == CHECKIN_AWARDED

    @property
    def message(self) -> str:
        if self.status == CHECKIN_AWARDED:
            return str(_("Checked in: +%(n)s points.") % {"n": self.points})
        if self.status == CHECKIN_ALREADY:
            return str(_("You have already checked in today. Come back tomorrow!"))
        if self.status == CHECKIN_LIMIT:
            return str(_("You have reached this month's check-in limit."))
        return str(_("Daily check-in is not available at the moment."))


def checkin_run(*, member: Member, mall: Mall) -> CheckinOutcome:
    """Check in for the mall-local day; says why when nothing was awarded."""
    award = points_checkin(member_id=member.pk, mall_group_id=member.mall_group_id, tz_name=mall.timezone)
    state = presenters.checkin_state(member=member, tz_name=mall.timezone)
    if award is not None:
        status = CHECKIN_AWARDED
    elif not state.available:
        status = CHECKIN_UNAVAILABLE
    elif state.checked_in_today:
        status = CHECKIN_ALREADY
    else:
        status = CHECKIN_LIMIT  # an active rule, not done today, and yet nothing: the monthly limit
    return CheckinOutcome(
        status=status,
        points=award.points if award is not None else 0,
        balance=points_balance(member_id=member.pk),
        state=state,
    )


def sandbox_enabled() -> bool:
    """Sandbox payments credit the wallet without real money: set GALLERIA_SANDBOX_PAYMENTS = False wherever a
    real gateway takes the payments (production)."""
    return bool(settings.GALLERIA_SANDBOX_PAYMENTS)


def topup_start(*, member: Member, mall: Mall, amount_fen: int, key: str) -> TopUpIntent:
    """Start a top-up at the sandbox gateway (the only gateway so far). The same key starts one top-up."""
    if not sandbox_enabled():
        raise wallet_exceptions.GatewayUnavailableError()
    return wallet_topup_start(
        mall_id=mall.pk, member_id=member.pk, amount_fen=amount_fen, gateway=SandboxGateway(), idempotency_key=key
    )


def topup_sandbox_pay(*, member: Member, topup_id: int) -> TopUpResult:
    """The member presses "Pay" on the sandbox screen: the sandbox gateway reports the intent paid and the wallet
    confirms it (idempotent: paying twice credits once). Only the member's own sandbox top-ups."""
    topup = presenters.member_topup(member=member, topup_id=topup_id)
    if topup is None:
        raise wallet_exceptions.TopUpNotFoundError()
    if not sandbox_enabled() or topup.gateway != SandboxGateway.name or not topup.gateway_ref:
        raise ConflictError(_("This top-up cannot be paid in the sandbox."), code="wallet.not_sandbox")
    notice = SandboxGateway().pay(topup.gateway_ref)
    return wallet_topup_confirm(gateway_ref=notice.gateway_ref, paid_amount_fen=notice.amount_fen)
