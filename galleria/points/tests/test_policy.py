"""The points policy refuses a redeem multiple that is not worth whole fen, whoever saves it (not only the console
form): otherwise max_points would offer amounts that check_redemption refuses."""

import pytest

from galleria.audit.types import Actor
from galleria.core.errors import ValidationError
from galleria.points.models import PointsPolicy
from galleria.points.services import points_policy_save

ACTOR = Actor.system()


def test_a_multiple_not_worth_whole_fen_is_refused_and_nothing_is_saved(world):
    points_policy_save(mall_group_id=world.group.pk, values={"redeem_points_per_yuan": 100}, actor=ACTOR)
    with pytest.raises(ValidationError) as err:
        points_policy_save(
            mall_group_id=world.group.pk,
            values={"redeem_points_per_yuan": 300, "redeem_multiple": 100},
            actor=ACTOR,
        )
    assert err.value.code == "points.policy_multiple_not_whole_fen"
    policy = PointsPolicy.objects.get(mall_group_id=world.group.pk)
    assert (policy.redeem_points_per_yuan, policy.redeem_multiple) == (100, 100)


def test_a_multiple_worth_whole_fen_is_saved(world):
    policy = points_policy_save(
        mall_group_id=world.group.pk, values={"redeem_points_per_yuan": 300, "redeem_multiple": 3}, actor=ACTOR
    )
    assert (policy.redeem_points_per_yuan, policy.redeem_multiple) == (300, 3)
