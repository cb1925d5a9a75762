"""Access matrix entries of the reconcile pages (placeholder until they land)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_RECONCILE: dict[str, Entry] = {}
