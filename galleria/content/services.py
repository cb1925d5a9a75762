"""Writes of the content app: draft edits, publishing, image uploads. Each owns its transaction and audit record."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.locking import lock_one, lock_rows
from galleria.merchants.models import Merchant

from . import conf, rules
from .exceptions import LayoutInvalidError, LayoutStaleError, NothingToPublishError
from .models import ContentImage, HomeLayoutDraft, HomeLayoutVersion
from .selectors import layout_live_blocks

BlockEdit = Callable[[list[rules.Block]], Sequence[rules.Block]]


def _check_references(*, mall_group_id: int, blocks: Sequence[rules.Block]) -> None:
    """Images and merchants a layout names must be the group's own."""
    images = rules.image_ids(blocks)
    if images:
        found = set(
            ContentImage.objects.filter(mall_group_id=mall_group_id, pk__in=images).values_list("pk", flat=True)
        )
        if images - found:
            message = _("That image does not exist. Upload it again.")
            raise LayoutInvalidError(message, fields={"image_id": message})
    merchants = rules.referenced_ids(blocks, "merchant")
    if merchants:
        found = set(
            Merchant.objects.filter(mall__group_id=mall_group_id, pk__in=merchants).values_list("pk", flat=True)
        )
        if merchants - found:
            message = _("No merchant of this mall group has that number.")
            raise LayoutInvalidError(message, fields={"link_target": message})


def layout_draft_edit(*, mall_group_id: int, revision: int, edit: BlockEdit, actor: Actor) -> HomeLayoutDraft:
    """Apply `edit` (a pure function of the block list, see rules.add_block / move_block …) to the draft.

    The draft row is locked; an edit based on another revision than the current one is refused (LayoutStaleError),
    and the result must pass `rules.clean_blocks` and the reference checks, or nothing is written."""
    with transaction.atomic(durable=True):
        HomeLayoutDraft.objects.get_or_create(
            mall_group_id=mall_group_id, defaults={"blocks": layout_live_blocks(mall_group_id=mall_group_id)}
        )
        draft = lock_one(HomeLayoutDraft.objects.filter(mall_group_id=mall_group_id))
        if draft.revision != revision:
            raise LayoutStaleError()
        blocks = rules.clean_blocks(list(edit([dict(b) for b in draft.blocks])))
        _check_references(mall_group_id=mall_group_id, blocks=blocks)
        draft.blocks = blocks
        draft.revision += 1
        draft.updated_by = actor.label[:100]
        draft.save(update_fields=["blocks", "revision", "updated_by", "updated_at"])
        return draft


def layout_draft_discard(*, mall_group_id: int, revision: int, actor: Actor) -> HomeLayoutDraft:
    """Throw the draft's changes away: it becomes the live layout again (or the default)."""
    live = layout_live_blocks(mall_group_id=mall_group_id)
    return layout_draft_edit(mall_group_id=mall_group_id, revision=revision, edit=lambda _b: live, actor=actor)


def layout_publish(*, mall_group_id: int, revision: int, actor: Actor) -> HomeLayoutVersion:
    """Make the draft live as the next version (audited). The revision the editor previewed must still be the
    draft's: publishing something nobody looked at is refused."""
    with transaction.atomic(durable=True):
        draft = next(iter(lock_rows(HomeLayoutDraft.objects.filter(mall_group_id=mall_group_id))), None)
        if draft is None:
            raise NothingToPublishError()
        if draft.revision != revision:
            raise LayoutStaleError()
        blocks = rules.clean_blocks(draft.blocks)
        _check_references(mall_group_id=mall_group_id, blocks=blocks)
        last = HomeLayoutVersion.objects.filter(mall_group_id=mall_group_id).order_by("-version").first()
        if last is not None and last.blocks == blocks:
            raise NothingToPublishError()
        number = (
            HomeLayoutVersion.objects.filter(mall_group_id=mall_group_id).aggregate(m=Max("version"))["m"] or 0
        ) + 1
        version = HomeLayoutVersion.objects.create(
            mall_group_id=mall_group_id,
            version=number,
            blocks=blocks,
            published_by=actor.label[:100],
            draft_revision=draft.revision,
        )
        audit_record(
            actor=actor,
            action="content.layout_publish",
            target_type="home_layout",
            target_id=version.pk,
            target_label=f"v{number}",
            mall_group_id=mall_group_id,
            changes={"version": number, "blocks": len(blocks), "revision": draft.revision},
        )
        return version


def image_upload(*, mall_group_id: int, data: bytes, name: str, actor: Actor) -> ContentImage:
    """Store an uploaded banner image after sniffing its real type and size (the same bytes twice are one row)."""
    info = rules.sniff_image(data, max_bytes=conf.image_max_bytes(), max_side=conf.image_max_side())
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic(durable=True):
        image, created = ContentImage.objects.get_or_create(
            mall_group_id=mall_group_id,
            sha256=digest,
            defaults={
                "content_type": info.content_type,
                "width": info.width,
                "height": info.height,
                "size_bytes": len(data),
                "data": data,
                "name": name.replace("\x00", "")[:120],
                "created_by": actor.label[:100],
            },
        )
        if created:
            audit_record(
                actor=actor,
                action="content.image_upload",
                target_type="content_image",
                target_id=image.pk,
                target_label=image.name,
                mall_group_id=mall_group_id,
                changes={"type": info.content_type, "width": info.width, "height": info.height, "bytes": len(data)},
            )
        return image
