"""Points test data (not used by production code): kept apart from galleria.testing, which the tests of apps below
points import too."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from galleria.ledger import services as ledger
from galleria.points import selectors as points_selectors
from galleria.points import services as points_services
from galleria.testing import World


def give_points(world: World, member: Any, points: int) -> None:
    """Mall-funded points credited to the member, as an earn would (with its lot), outside any sale."""
    with transaction.atomic():
        accounts = ledger.lock_member_accounts(
            mall_group_id=world.group.pk, member_id=member.pk, kinds=["member_points"]
        )
        points_services.points_credit_in_tx(
            policy=points_selectors.policy_get(mall_group_id=world.group.pk),
            member_id=member.pk,
            points_account=accounts["member_points"],
            points=points,
            kind="earn",
            funder="mall",
            merchant_share_bp=0,
            merchant_id=None,
            occurred_at=timezone.now(),
            tz_name=world.mall.timezone,
            source="test",
            explanation={},
        )
