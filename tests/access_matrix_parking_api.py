"""Access matrix entries of the car-park integration API (signed requests from the car-park system)
(merged into tests/access_matrix_parking.py)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_PARKING_API: dict[str, Entry] = {}
