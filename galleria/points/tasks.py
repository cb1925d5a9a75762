from __future__ import annotations

from django_tasks import task

from . import services
from .models import BehaviourEvent


@task()
def on_member_joined(*, member_id: int) -> None:
    services.behaviour_award_once(member_id=member_id, event=BehaviourEvent.SIGNUP)


@task()
def on_profile_updated(*, member_id: int) -> None:
    services.behaviour_award_once(member_id=member_id, event=BehaviourEvent.PROFILE_COMPLETE)
