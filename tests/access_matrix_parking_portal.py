"""Access matrix entries of the merchant portal's parking grants and the console's grant allowances
(merged into tests/access_matrix_parking.py)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_PARKING_PORTAL: dict[str, Entry] = {}
