"""Access matrix entries of the audience area (merged into tests/access_matrix.MATRIX): the RFM and lifecycle
overview and its settings, segments (builder, live count, persona, export, archive, tagging), tags and tag groups, and
a member's manual tags. POSTs carry no data: the views refuse them with a message or save nothing new."""

from __future__ import annotations

from typing import Any

from .access_matrix import ROOT, Entry, action, console, page, r
from .evidence_world import EvidenceWorld

VIEWERS = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # audience.view
MANAGERS = {"admin", "marketing", ROOT}  # audience.manage
EXPORTERS = {"admin", "marketing", ROOT}  # audience.export
TAGGERS = {"admin", "marketing", "service", ROOT}  # audience.tag


def member_id(ew: EvidenceWorld) -> int:
    return int(ew.member.pk)


def _segment(ew: EvidenceWorld) -> Any:
    from galleria.audience.models import Segment

    segment, _created = Segment.objects.get_or_create(
        mall_group=ew.world.group,
        name="证据分群",
        defaults={"definition": {"match": "all", "conditions": [{"field": "gender", "in": ["female"]}]}},
    )
    return segment


def segment_id(ew: EvidenceWorld) -> int:
    return int(_segment(ew).pk)


def tag_id(ew: EvidenceWorld) -> int:
    from galleria.audience.models import Tag

    tag, _created = Tag.objects.get_or_create(mall_group=ew.world.group, name="证据标签", defaults={"kind": "manual"})
    return int(tag.pk)


MATRIX_AUDIENCE: dict[str, Entry] = {
    "console:audience": page(console(VIEWERS))(r("console:audience")),
    "console:audience_settings": action(console(MANAGERS), note="without data: refused with a message")(
        r("console:audience_settings")
    ),
    "console:audience_rebuild": action(console(MANAGERS), note="queues a recomputation")(r("console:audience_rebuild")),
    "console:audience_segments": page(console(VIEWERS))(r("console:audience_segments")),
    "console:audience_segment_new": page(console(MANAGERS), note="POST without a name: 422")(
        r("console:audience_segment_new")
    ),
    "console:audience_segment_count": action(console(VIEWERS), note="an empty definition: everyone")(
        r("console:audience_segment_count")
    ),
    "console:audience_segment": page(console(VIEWERS, scoped=True))(r("console:audience_segment", segment_id)),
    "console:audience_segment_edit": page(console(MANAGERS, scoped=True), note="POST without a name: 422")(
        r("console:audience_segment_edit", segment_id)
    ),
    "console:audience_segment_export": page(console(EXPORTERS, scoped=True))(
        r("console:audience_segment_export", segment_id)
    ),
    "console:audience_segment_archive": action(console(MANAGERS, scoped=True))(
        r("console:audience_segment_archive", segment_id)
    ),
    "console:audience_segment_tag": action(console(MANAGERS, scoped=True), note="no tag chosen: a message")(
        r("console:audience_segment_tag", segment_id)
    ),
    "console:audience_tags": page(console(VIEWERS), post=console(MANAGERS), note="POST without a name: a message")(
        r("console:audience_tags")
    ),
    "console:audience_tag_group_new": action(console(MANAGERS), note="without a name: a message")(
        r("console:audience_tag_group_new")
    ),
    "console:audience_tag": page(
        console(VIEWERS, scoped=True), post=console(MANAGERS, scoped=True), note="POST: an empty import"
    )(r("console:audience_tag", tag_id)),
    "console:audience_tag_archive": action(console(MANAGERS, scoped=True))(r("console:audience_tag_archive", tag_id)),
    "console:member_tag": action(console(TAGGERS, scoped=True), note="no tag chosen: a message")(
        r("console:member_tag", member_id)
    ),
}
