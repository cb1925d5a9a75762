"""Campaign background work: a scheduled campaign's run (docs/marketing.md, "Campaigns")."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def campaign_run_task(*, campaign_id: int) -> None:
    services.campaign_run(campaign_id=campaign_id)
