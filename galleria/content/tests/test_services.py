"""Draft edits, publishing (versioned, audited, stale revisions refused) and image uploads."""

from __future__ import annotations

import pytest

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.content import rules, selectors, services
from galleria.content.exceptions import ImageInvalidError, LayoutInvalidError, LayoutStaleError, NothingToPublishError
from galleria.content.models import ContentImage, HomeLayoutVersion

from .test_rules import png

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, label="editor")


def notice(text="Car park B2 closed on Monday"):
    return {"id": rules.new_block_id(), "type": "section", "kind": "notice", "title": "", "text": text}


def test_no_layout_means_the_default(world):
    assert selectors.layout_live_blocks(mall_group_id=world.group.pk) == rules.default_blocks()
    draft = selectors.layout_draft(mall_group_id=world.group.pk)
    assert draft.revision == 0 and draft.live_version is None


def test_edit_then_publish_makes_versions_and_audits(world):
    gid = world.group.pk
    block = notice()
    draft = services.layout_draft_edit(mall_group_id=gid, revision=0, edit=lambda b: [*b, block], actor=ACTOR)
    assert draft.revision == 1
    # not live yet: the app still shows the default
    assert selectors.layout_live_blocks(mall_group_id=gid) == rules.default_blocks()
    version = services.layout_publish(mall_group_id=gid, revision=1, actor=ACTOR)
    assert version.version == 1
    assert selectors.layout_live_blocks(mall_group_id=gid)[-1]["text"] == block["text"]
    assert AuditEvent.objects.filter(action="content.layout_publish", target_id=str(version.pk)).count() == 1
    with pytest.raises(NothingToPublishError):
        services.layout_publish(mall_group_id=gid, revision=1, actor=ACTOR)
    services.layout_draft_edit(
        mall_group_id=gid, revision=1, edit=lambda b: rules.remove_block(b, block["id"]), actor=ACTOR
    )
    assert services.layout_publish(mall_group_id=gid, revision=2, actor=ACTOR).version == 2
    assert list(HomeLayoutVersion.objects.filter(mall_group=world.group).values_list("version", flat=True)) == [2, 1]


def test_stale_revision_is_refused_and_nothing_changes(world):
    gid = world.group.pk
    services.layout_draft_edit(mall_group_id=gid, revision=0, edit=lambda b: [*b, notice()], actor=ACTOR)
    with pytest.raises(LayoutStaleError):
        services.layout_draft_edit(mall_group_id=gid, revision=0, edit=lambda b: [], actor=ACTOR)
    with pytest.raises(LayoutStaleError):
        services.layout_publish(mall_group_id=gid, revision=0, actor=ACTOR)
    assert len(selectors.layout_draft(mall_group_id=gid).blocks) == 4


def test_invalid_edit_writes_nothing(world):
    gid = world.group.pk
    with pytest.raises(LayoutInvalidError):
        services.layout_draft_edit(mall_group_id=gid, revision=0, edit=lambda b: [*b, notice("")], actor=ACTOR)
    assert selectors.layout_draft(mall_group_id=gid).revision == 0


def test_references_must_be_the_groups_own(world):
    gid = world.group.pk
    foreign = services.image_upload(mall_group_id=world.other_group.pk, data=png(), name="x.png", actor=ACTOR)
    bad_image = {"id": "ban001", "type": "banner", "image_id": foreign.pk, "alt": "a", "link_kind": "none"}
    with pytest.raises(LayoutInvalidError):
        services.layout_draft_edit(mall_group_id=gid, revision=0, edit=lambda b: [bad_image], actor=ACTOR)
    mine = services.image_upload(mall_group_id=gid, data=png(), name="x.png", actor=ACTOR)
    foreign_merchant = {
        **bad_image,
        "image_id": mine.pk,
        "link_kind": "merchant",
        "link_target": world.foreign_merchant.pk,
    }
    with pytest.raises(LayoutInvalidError):
        services.layout_draft_edit(mall_group_id=gid, revision=0, edit=lambda b: [foreign_merchant], actor=ACTOR)
    good = {**foreign_merchant, "link_target": world.merchant.pk}
    services.layout_draft_edit(mall_group_id=gid, revision=0, edit=lambda b: [good], actor=ACTOR)


def test_image_upload_sniffs_and_dedupes(world):
    gid = world.group.pk
    first = services.image_upload(mall_group_id=gid, data=png(500, 200), name="banner.png", actor=ACTOR)
    again = services.image_upload(mall_group_id=gid, data=png(500, 200), name="copy.png", actor=ACTOR)
    assert first.pk == again.pk and (first.width, first.height, first.content_type) == (500, 200, "image/png")
    assert AuditEvent.objects.filter(action="content.image_upload").count() == 1
    with pytest.raises(ImageInvalidError):
        services.image_upload(mall_group_id=gid, data=b"<svg onload=alert(1)>", name="x.svg", actor=ACTOR)
    assert ContentImage.objects.count() == 1
