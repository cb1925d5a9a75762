"""Access matrix entries of the mall_points pages (placeholder until they land)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_MALL_POINTS: dict[str, Entry] = {}
