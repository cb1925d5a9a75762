"""The member app's writes, shared by its pages and its JSON API: daily check-in and top-ups through a gateway.

Each calls one domain service; this module only decides what to tell the member when the service has nothing to do
(already checked in, no check-in rule) and how the member's device pays (payments.pay_kind_for).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from galleria.games.services import check_in as games_check_in
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.payments.services import topup_pay_start
from galleria.payments.types import PaymentStarted
from galleria.points.selectors import points_balance

from . import presenters
from .pay_flow import PayDevice, pay_kind_for

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
    # games records the day for the check-in calendar and streak rewards, and awards the daily points (points' rule)
    day = games_check_in(member_id=member.pk, mall_group_id=member.mall_group_id, tz_name=mall.timezone)
    state = presenters.checkin_state(member=member, tz_name=mall.timezone)
    if day.awarded:
        status = CHECKIN_AWARDED
    elif not state.available:
        status = CHECKIN_UNAVAILABLE
    elif state.checked_in_today:
        status = CHECKIN_ALREADY
    else:
        status = CHECKIN_LIMIT  # an active rule, not done today, and yet nothing: the monthly limit
    return CheckinOutcome(
        status=status,
        points=day.points,
        balance=points_balance(member_id=member.pk),
        state=state,
    )


def topup_start(
    *, member: Member, mall: Mall, amount_fen: int, key: str, provider: str, device: PayDevice
) -> PaymentStarted:
    """Start a top-up at WeChat Pay or Alipay. The same key starts one top-up (and one payment)."""
    return topup_pay_start(
        mall_id=mall.pk,
        mall_group_id=mall.group_id,
        member_id=member.pk,
        amount_fen=amount_fen,
        provider=provider,
        kind=pay_kind_for(provider, device),
        idempotency_key=key,
        description=str(_("%(mall)s wallet top-up") % {"mall": mall.name})[:60],
        payer=device.openid,
        client_ip=device.client_ip,
        return_url=device.return_url,
    )
