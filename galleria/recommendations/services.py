"""Writes of the recommender: training a new model version (nightly job `recommendations_train`, or on demand),
storing its offline scores (`recommendations_evaluate`) and the console's block switches (docs/recommendations.md)."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from typing import Any

import numpy as np
from django.db import transaction

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil

from . import rules, selectors
from .exceptions import BlockUnknownError, NothingToTrainError
from .models import RecEntry, RecModel, RecSettings
from .types import BLOCKS, EntryKind

HISTORY_DAYS = 730
POPULAR_PER_SEGMENT = 20
MIN_SEGMENT_MEMBERS = 5  # smaller segments fall back to the broader ones (and reveal nothing about few members)
KEEP_VERSIONS = 5


def model_train(
    *,
    mall_group_id: int,
    until: dt.datetime | None = None,
    half_life_days: float = rules.DEFAULT_HALF_LIFE_DAYS,
    neighbours: int = rules.DEFAULT_NEIGHBOURS,
    history_days: int = HISTORY_DAYS,
) -> RecModel:
    """Train on the group's shopping in the `history_days` before `until` (default now) and make the result the
    active version. Members who switched personalisation off are left out. Raises NothingToTrainError without
    purchases. The math runs outside the transaction; the rows are written in one."""
    started = time.monotonic()
    until = until or timeutil.now()
    since = until - dt.timedelta(days=history_days)
    purchases = list(selectors.training_purchases(mall_group_id=mall_group_id, since=since, until=until))
    if not purchases:
        raise NothingToTrainError()
    data = rules.interactions(purchases, until=until, half_life_days=half_life_days)
    lists = rules.top_neighbours(rules.cosine_similarity(data.matrix), k=neighbours)
    attributes = selectors.member_attributes(mall_group_id=mall_group_id, member_ids=data.member_ids)
    today = until.date()
    member_segments = []
    for member_id in data.member_ids:
        birthday, mall_id, rank = attributes.get(member_id, (None, 0, 0))
        band = rules.age_band(birthday=birthday, today=today)
        member_segments.append(rules.segment_keys(tier_rank=rank, band=band, mall_id=mall_id or None))
    popular = rules.popular_by_segment(data.matrix, member_segments, k=POPULAR_PER_SEGMENT)
    sizes: dict[str, int] = {}
    for keys in member_segments:
        for key in keys:
            sizes[key] = sizes.get(key, 0) + 1
    items = data.item_ids
    entries: list[RecEntry] = []
    for i, ns in enumerate(lists):
        for rank, (c, score) in enumerate(ns, start=1):
            entries.append(
                RecEntry(
                    kind=EntryKind.NEIGHBOUR,
                    source_merchant_id=items[i],
                    merchant_id=items[c],
                    rank=rank,
                    score_ppm=round(score * rules.SCORE_SCALE),
                )
            )
    for key, ranked in popular.items():
        if sizes.get(key, 0) < MIN_SEGMENT_MEMBERS and key != "seg:||":
            continue
        for rank, (c, share) in enumerate(ranked, start=1):
            entries.append(
                RecEntry(
                    kind=EntryKind.POPULAR,
                    segment=key,
                    merchant_id=items[c],
                    rank=rank,
                    score_ppm=round(share * rules.SCORE_SCALE),
                )
            )
    params: dict[str, Any] = {
        "algorithm": "item-item cosine, log1p of time-decayed purchases",
        "half_life_days": half_life_days,
        "neighbours": neighbours,
        "history_days": history_days,
    }
    stats = {
        "members": len(data.member_ids),
        "merchants": len(items),
        "purchases": len(purchases),
        "nonzero": int(data.matrix.nnz),
        "excluded_members": selectors.excluded_count(mall_group_id=mall_group_id),
        "entries": len(entries),
        "density": float(np.round(data.matrix.nnz / max(1, len(items) * len(data.member_ids)), 6)),
    }
    with transaction.atomic(durable=True):
        last = RecModel.objects.filter(mall_group_id=mall_group_id).order_by("-version").first()
        RecModel.objects.filter(mall_group_id=mall_group_id, is_active=True).update(is_active=False)
        stats["seconds"] = round(time.monotonic() - started, 3)
        model = RecModel.objects.create(
            mall_group_id=mall_group_id,
            version=(last.version + 1) if last else 1,
            trained_at=timeutil.now(),
            data_until=until,
            is_active=True,
            params=params,
            stats=stats,
        )
        for e in entries:
            e.model = model
        RecEntry.objects.bulk_create(entries, batch_size=5000)
        old = RecModel.objects.filter(mall_group_id=mall_group_id).order_by("-version")[KEEP_VERSIONS:]
        RecModel.objects.filter(pk__in=[m.pk for m in old]).delete()
    return model


def model_evaluate(
    *, mall_group_id: int, cut: dt.datetime | None = None, test_days: int = 30, k: int = 10
) -> rules.Evaluation:
    """Offline evaluation on the group's own purchases: train before `cut` (default: `test_days` ago), test on the
    next `test_days`; the scores are stored on the active model."""
    now = timeutil.now()
    cut = cut or now - dt.timedelta(days=test_days)
    model = selectors.model_active(mall_group_id=mall_group_id)
    half_life = float(model.params.get("half_life_days", rules.DEFAULT_HALF_LIFE_DAYS)) if model else None
    neighbours = int(model.params.get("neighbours", rules.DEFAULT_NEIGHBOURS)) if model else rules.DEFAULT_NEIGHBOURS
    purchases = list(
        selectors.training_purchases(
            mall_group_id=mall_group_id,
            since=cut - dt.timedelta(days=HISTORY_DAYS),
            until=cut + dt.timedelta(days=test_days),
        )
    )
    if not purchases:
        raise NothingToTrainError()
    result = rules.evaluate(
        purchases,
        cut=cut,
        test_days=test_days,
        k=k,
        half_life_days=half_life or rules.DEFAULT_HALF_LIFE_DAYS,
        neighbours=neighbours,
    )
    if model is not None:
        metrics = {**result.as_json(), "cut": cut.isoformat(), "test_days": test_days, "evaluated_at": now.isoformat()}
        RecModel.objects.filter(pk=model.pk).update(metrics=metrics)
    return result


def switches_update(*, mall_group_id: int, values: dict[str, bool], actor: Actor) -> RecSettings:
    """Turn recommendation blocks on or off for the group (audited)."""
    for block in values:
        if block not in BLOCKS:
            raise BlockUnknownError()
    with transaction.atomic(durable=True):
        row, _created = RecSettings.objects.get_or_create(mall_group_id=mall_group_id)
        before = {b: getattr(row, f"show_{b}") for b in BLOCKS}
        for block, on in values.items():
            setattr(row, f"show_{block}", bool(on))
        row.updated_by_id = actor.user_id
        row.save()
        after = {b: getattr(row, f"show_{b}") for b in BLOCKS}
        if before != after:
            audit_record(
                actor=actor,
                action="recommendations.switches_changed",
                target_type="recommendation_settings",
                target_id=row.pk,
                mall_group_id=mall_group_id,
                changes={b: [before[b], after[b]] for b in BLOCKS if before[b] != after[b]},
            )
    return row


def model_train_now(*, mall_group_id: int, actor: Actor) -> RecModel:
    """Train on demand from the console (audited), then store the offline scores of the new version."""
    model = model_train(mall_group_id=mall_group_id)
    with contextlib.suppress(NothingToTrainError):
        model_evaluate(mall_group_id=mall_group_id)
    audit_record(
        actor=actor,
        action="recommendations.train",
        target_type="recommendation_model",
        target_id=model.pk,
        target_label=f"v{model.version}",
        mall_group_id=mall_group_id,
    )
    model.refresh_from_db()
    return model
