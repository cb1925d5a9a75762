"""One plate at one car park, one event at a time.

The event services (services.py) lock a stay's row before they change it, but an event that *creates* a stay has no
row to lock yet: an exit and its entry delivered at the same moment in reverse order would each see nothing of the
other (READ COMMITTED) and make two stays — one "exit without an entry", one parked for ever. Taking this lock first,
in the same transaction as the event, makes the second one wait for the first to commit and then see its stay.

PostgreSQL: a transaction-level advisory lock on a 64-bit hash of (car park, plate), released at commit or rollback
(a hash collision only makes two plates wait for each other). Other databases: nothing to do — SQLite serialises
writers. Several plates (a plate correction: the misread one and the right one) are locked in one fixed order, so two
corrections of the same pair cannot deadlock.
"""

from __future__ import annotations

import hashlib

from django.db import connection


def _lock_key(car_park_id: int, plate: str) -> int:
    digest = hashlib.blake2b(f"parking-plate:{car_park_id}:{plate}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def plate_lock(*, car_park_id: int, plates: tuple[str, ...]) -> None:
    """Wait for, then hold until the transaction ends, the lock of each plate (canonical form) at the car park."""
    if not connection.in_atomic_block:
        raise RuntimeError("plate_lock() must run inside transaction.atomic()")
    if connection.vendor != "postgresql":
        return
    keys = sorted({_lock_key(car_park_id, plate) for plate in plates})
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


__all__ = ["plate_lock"]
