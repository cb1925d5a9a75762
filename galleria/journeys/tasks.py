"""Journey background work: domain events that start journeys, and running a journey's due steps
(docs/marketing.md, "Journeys"). The minute sweep (`galleria journeys_run`) catches whatever a lost task missed."""

from __future__ import annotations

from django_tasks import task

from . import services
from .types import Trigger


@task()
def journeys_advance_task(*, journey_id: int) -> None:
    services.journeys_advance(journey_id=journey_id)


@task()
def on_member_joined(*, member_id: int) -> None:
    services.on_trigger(trigger=Trigger.JOINED, member_id=member_id, key="joined")


@task()
def on_tier_changed(*, member_id: int, tier_change_id: int, reason: str = "") -> None:
    services.on_tier_changed(tier_change_id=tier_change_id)


@task()
def on_event_registered(*, member_id: int, registration_id: int) -> None:
    services.on_trigger(trigger=Trigger.EVENT_REGISTERED, member_id=member_id, key=f"registration:{registration_id}")


@task()
def on_event_attended(*, member_id: int, registration_id: int) -> None:
    services.on_trigger(trigger=Trigger.EVENT_ATTENDED, member_id=member_id, key=f"attended:{registration_id}")


@task()
def on_receipt_rejected(*, member_id: int, receipt_id: int) -> None:
    services.on_trigger(trigger=Trigger.RECEIPT_REJECTED, member_id=member_id, key=f"receipt:{receipt_id}")
