"""Erasure (PIPL) of a member in the imports area: called by the privacy erasure, inside its transaction, through
settings.GALLERIA_ERASURE_HANDLERS (privacy and imports are siblings that do not import each other)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from galleria.audit.services import ERASED

from ..models import ImportJob, ImportRow


def _digits(text: object) -> str:
    return re.sub(r"\D", "", str(text or ""))


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: Sequence[str]) -> int:
    """The row reports of the member (linked, or keyed by the phone) keep their outcome but lose the phone, card,
    plate and label; the preview rows kept for the mapping step that show the member's phone are blanked whole
    (they also hold the name as the old system spelled it). Returns how many rows were rewritten."""
    rows = ImportRow.objects.filter(job__mall_group_id=mall_group_id)
    linked = rows.filter(member_id=member_id)
    keyed = rows.filter(key=phone) if phone else rows.none()
    changed = (linked | keyed).update(key="", card="", plate="", label=ERASED)
    national = _digits(phone)[-11:] if phone else ""
    if national:
        for job in ImportJob.objects.filter(mall_group_id=mall_group_id).only("pk", "sample").iterator():
            sample = [
                [ERASED if cell not in (None, "") else cell for cell in row]
                if any(national in _digits(cell) for cell in row)
                else row
                for row in job.sample
            ]
            if sample != job.sample:
                ImportJob.objects.filter(pk=job.pk).update(sample=sample)
                changed += 1
    return changed
