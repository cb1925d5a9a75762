"""Reads of the content app: the live layout, the draft, images."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from . import rules
from .models import ContentImage, HomeLayoutDraft, HomeLayoutVersion


@dataclass(frozen=True)
class DraftView:
    blocks: list[rules.Block]
    revision: int
    updated_by: str
    is_published: bool  # the draft equals the live version
    live_version: int | None


def layout_published(*, mall_group_id: int) -> HomeLayoutVersion | None:
    return HomeLayoutVersion.objects.filter(mall_group_id=mall_group_id).order_by("-version").first()


def layout_live_blocks(*, mall_group_id: int) -> list[rules.Block]:
    """The blocks the app shows: the latest published version, else the default layout."""
    live = layout_published(mall_group_id=mall_group_id)
    return list(live.blocks) if live is not None else rules.default_blocks()


def layout_draft(*, mall_group_id: int) -> DraftView:
    """The draft; before the first edit it starts as a copy of the live layout (or the default)."""
    live = layout_published(mall_group_id=mall_group_id)
    draft = HomeLayoutDraft.objects.filter(mall_group_id=mall_group_id).first()
    if draft is None:
        blocks = list(live.blocks) if live is not None else rules.default_blocks()
        return DraftView(blocks, 0, "", live is not None, live.version if live else None)
    return DraftView(
        list(draft.blocks),
        draft.revision,
        draft.updated_by,
        live is not None and live.blocks == draft.blocks,
        live.version if live else None,
    )


def layout_versions(*, mall_group_id: int, limit: int = 20) -> QuerySet[HomeLayoutVersion]:
    return HomeLayoutVersion.objects.filter(mall_group_id=mall_group_id).order_by("-version")[:limit]


def image_get(*, image_id: int, sha256: str) -> ContentImage | None:
    """An image by id and hash (the URL carries both, so ids cannot be walked)."""
    return ContentImage.objects.filter(pk=image_id, sha256=sha256).first()


def image_exists(*, image_id: int, sha256: str) -> bool:
    return ContentImage.objects.filter(pk=image_id, sha256=sha256).exists()


def image_list(*, mall_group_id: int, limit: int = 60) -> QuerySet[ContentImage]:
    return ContentImage.objects.filter(mall_group_id=mall_group_id).defer("data").order_by("-created_at", "-pk")[:limit]


def images_by_id(*, mall_group_id: int, ids: set[int]) -> dict[int, ContentImage]:
    if not ids:
        return {}
    rows = ContentImage.objects.filter(mall_group_id=mall_group_id, pk__in=ids).defer("data")
    return {img.pk: img for img in rows}
