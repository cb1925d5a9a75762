"""Access matrix entries of campaigns (merged into tests/access_matrix.MATRIX): the list and marketing settings, the
editor, a campaign's page, scheduling and cancelling. The evidence campaign is a draft to an evidence segment; the
POSTs carry no data (the editor answers 422, settings a message) or act on a draft (cancel: it becomes cancelled,
schedule then answers with a message)."""

from __future__ import annotations

from .access_matrix import ROOT, Entry, action, console, page, r
from .access_matrix_audience import segment_id
from .evidence_world import EvidenceWorld

VIEWERS = {"admin", "marketing", "finance", "viewer", ROOT}  # campaigns.view
MANAGERS = {"admin", "marketing", ROOT}  # campaigns.manage


def campaign_id(ew: EvidenceWorld) -> int:
    from django.utils import timezone

    from galleria.campaigns.models import Campaign

    campaign, _created = Campaign.objects.get_or_create(
        mall_group=ew.world.group,
        name="证据活动",
        defaults={
            "segment_id": segment_id(ew),
            "title": "证据标题",
            "body": "证据正文",
            "scheduled_at": timezone.now(),
        },
    )
    return int(campaign.pk)


MATRIX_CAMPAIGNS: dict[str, Entry] = {
    "console:marketing_campaigns": page(console(VIEWERS), post=console(VIEWERS))(r("console:marketing_campaigns")),
    "console:marketing_settings": action(console(MANAGERS), note="without data: a message")(
        r("console:marketing_settings")
    ),
    "console:marketing_campaign_new": page(console(MANAGERS), note="POST without data: 422")(
        r("console:marketing_campaign_new")
    ),
    "console:marketing_campaign": page(console(VIEWERS, scoped=True))(r("console:marketing_campaign", campaign_id)),
    "console:marketing_campaign_edit": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:marketing_campaign_edit", campaign_id)
    ),
    "console:marketing_campaign_schedule": action(
        console(MANAGERS, scoped=True), note="refused with a message unless a draft"
    )(r("console:marketing_campaign_schedule", campaign_id)),
    "console:marketing_campaign_cancel": action(console(MANAGERS, scoped=True))(
        r("console:marketing_campaign_cancel", campaign_id)
    ),
}
