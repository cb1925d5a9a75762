"""Access matrix entries of the parking pages and the car-park API (merged into tests/access_matrix.MATRIX): the
console's car parks, tariffs, stays and reports (parking.view reads, parking.manage changes), the car-park system's
keys, the merchant portal's parking grants (portal.parking) and the member app's parking screens."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_PARKING: dict[str, Entry] = {}
