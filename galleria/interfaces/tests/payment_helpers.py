"""Test helpers shared by the payments tests of the web layer."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from galleria.ledger import services as ledger
from galleria.ledger.models import AccountKind
from galleria.points import selectors as points_selectors
from galleria.points import services as points_services


def give_points(world, member, points):
    """Mall-funded points credited to the member (as an earn would)."""
    with transaction.atomic():
        accounts = ledger.lock_member_accounts(
            mall_group_id=world.group.pk, member_id=member.pk, kinds=[AccountKind.MEMBER_POINTS]
        )
        points_services.points_credit_in_tx(
            policy=points_selectors.policy_get(mall_group_id=world.group.pk),
            member_id=member.pk,
            points_account=accounts[AccountKind.MEMBER_POINTS],
            points=points,
            kind="earn",
            funder="mall",
            merchant_share_bp=0,
            merchant_id=None,
            occurred_at=timezone.now(),
            tz_name="Asia/Shanghai",
            source="test",
            explanation={},
        )
