"""Per-process cache of a mall group's configuration, keyed by the group's `config_token` (which database
triggers change on every configuration change; see core/config_triggers.py). A caller that has the token — the
sale path reads it with the store row, for free — gets configuration without queries; one without a token
(None) always reads the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_cache: dict[tuple[str, int], tuple[str, Any]] = {}


def cached(name: str, mall_group_id: int, token: str | None, load: Callable[[], T]) -> T:
    if not token:
        return load()
    key = (name, mall_group_id)
    hit = _cache.get(key)
    if hit is not None and hit[0] == token:
        value: T = hit[1]
        return value
    value = load()
    _cache[key] = (token, value)
    return value


def clear() -> None:
    _cache.clear()
