"""Access matrix entries of the privacy area (merged into MATRIX by tests/access_matrix.py)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_PRIVACY: dict[str, Entry] = {}
