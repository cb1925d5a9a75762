"""A running journey in one call, for the tests of the apps whose events start journeys."""

from __future__ import annotations

from typing import Any

from galleria.audit.types import Actor
from galleria.journeys import services
from galleria.journeys.models import Enrollment, Journey

ACTOR = Actor.system("test")


def running(world: Any, trigger: str, *, days: int = 7, reentry: str = "every") -> Journey:
    j = services.journey_save(
        mall_group_id=world.group.pk,
        actor=ACTOR,
        values={
            "name": f"旅程 {trigger}",
            "trigger": trigger,
            "trigger_days": days,
            "reentry": reentry,
            "draft": {"steps": [{"id": "m", "kind": "message", "inbox": True, "title": "您好", "body": "……"}]},
        },
    )
    return services.journey_publish(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR)


def entered(world: Any, trigger: str) -> set[tuple[int, str]]:
    """(member, occurrence key) of everyone who entered the group's journeys with this trigger."""
    return set(
        Enrollment.objects.filter(journey__mall_group=world.group, journey__trigger=trigger).values_list(
            "member_id", "key"
        )
    )
