"""Access matrix entries of the settlement pages (merged into tests/access_matrix.MATRIX)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_SETTLEMENT: dict[str, Entry] = {}
