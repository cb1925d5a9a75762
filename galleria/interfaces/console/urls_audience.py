"""Console URLs: audience — the RFM and lifecycle overview, segments (builder, live count, persona, export) and tags
(docs/marketing.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import audience as v

urlpatterns: list[URLPattern] = [
    path("audience/", v.overview, name="audience"),
    path("audience/settings/", v.settings_save, name="audience_settings"),
    path("audience/rebuild/", v.rebuild, name="audience_rebuild"),
    path("audience/segments/", v.segments, name="audience_segments"),
    path("audience/segments/new/", v.segment_new, name="audience_segment_new"),
    path("audience/segments/count/", v.segment_count, name="audience_segment_count"),
    path("audience/segments/<int:segment_id>/", v.segment_detail, name="audience_segment"),
    path("audience/segments/<int:segment_id>/edit/", v.segment_edit, name="audience_segment_edit"),
    path("audience/segments/<int:segment_id>/export/", v.segment_export, name="audience_segment_export"),
    path("audience/segments/<int:segment_id>/archive/", v.segment_archive, name="audience_segment_archive"),
    path("audience/segments/<int:segment_id>/tag/", v.segment_tag, name="audience_segment_tag"),
    path("audience/tags/", v.tags, name="audience_tags"),
    path("audience/tags/groups/", v.tag_group_new, name="audience_tag_group_new"),
    path("audience/tags/<int:tag_id>/", v.tag_detail, name="audience_tag"),
    path("audience/tags/<int:tag_id>/archive/", v.tag_archive, name="audience_tag_archive"),
    path("members/<int:member_id>/tags/", v.member_tag, name="member_tag"),
]
