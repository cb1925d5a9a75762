"""Console URLs: campaigns — the list and marketing settings, the editor, scheduling, cancelling and the report
(docs/marketing.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import campaigns as v

urlpatterns: list[URLPattern] = [
    path("campaigns/", v.campaigns, name="marketing_campaigns"),
    path("campaigns/settings/", v.marketing_settings, name="marketing_settings"),
    path("campaigns/new/", v.campaign_new, name="marketing_campaign_new"),
    path("campaigns/<int:campaign_id>/", v.campaign_detail, name="marketing_campaign"),
    path("campaigns/<int:campaign_id>/edit/", v.campaign_edit, name="marketing_campaign_edit"),
    path("campaigns/<int:campaign_id>/schedule/", v.campaign_schedule, name="marketing_campaign_schedule"),
    path("campaigns/<int:campaign_id>/cancel/", v.campaign_cancel, name="marketing_campaign_cancel"),
]
