"""Access matrix entries of the parking pages and the car-park API (merged into tests/access_matrix.MATRIX), one file
an area: the car-park API, the member app, the console, the merchant portal's grants."""

from __future__ import annotations

from .access_matrix import Entry
from .access_matrix_parking_api import MATRIX_PARKING_API
from .access_matrix_parking_app import MATRIX_PARKING_APP
from .access_matrix_parking_console import MATRIX_PARKING_CONSOLE
from .access_matrix_parking_portal import MATRIX_PARKING_PORTAL

MATRIX_PARKING: dict[str, Entry] = {
    **MATRIX_PARKING_API,
    **MATRIX_PARKING_APP,
    **MATRIX_PARKING_CONSOLE,
    **MATRIX_PARKING_PORTAL,
}
