"""Access matrix entries of the console's car parks, tariffs, stays, exceptions and reports
(merged into tests/access_matrix_parking.py)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_PARKING_CONSOLE: dict[str, Entry] = {}
