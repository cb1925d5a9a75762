"""Access matrix entries of the member app's parking screens (merged into tests/access_matrix_parking.py)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_PARKING_APP: dict[str, Entry] = {}
