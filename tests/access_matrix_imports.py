"""Access matrix entries of the imports area (merged into MATRIX by tests/access_matrix.py).

Imports need members.import (group admin, platform admin). The evidence job is an uploaded, unmapped import of the
星河 group made on first use (no file behind it is ever read by these requests): the mapping POST without data
is refused by validation, the start and dry-run restart POSTs by the job's state, so nothing changes the evidence
world."""

from __future__ import annotations

from typing import Any

from .access_matrix import ROOT, Entry, action, console, page, r
from .evidence_world import EvidenceWorld

IMPORTERS = {"admin", ROOT}  # members.import


def _job(ew: EvidenceWorld) -> Any:
    from galleria.imports.models import ImportJob

    job, _created = ImportJob.objects.get_or_create(
        mall_group=ew.world.group,
        stored_name="evidence-missing.csv",
        defaults={
            "kind": "members",
            "original_name": "evidence.csv",
            "file_format": "csv",
            "encoding": "utf-8-sig",
            "sha256": "0" * 64,
            "headers": ["手机号", "姓名"],
            "mapping": {"phone": 0, "name": 1},
        },
    )
    return job


job_id = lambda ew: _job(ew).pk  # noqa: E731

MATRIX_IMPORTS: dict[str, Entry] = {
    "console:imports": page(console(IMPORTERS))(r("console:imports")),
    "console:import_new": page(console(IMPORTERS))(r("console:import_new")),
    "console:import": page(console(IMPORTERS, scoped=True))(r("console:import", job_id)),
    "console:import_mapping": page(console(IMPORTERS, scoped=True), data=lambda ew: {"phone": ""})(
        r("console:import_mapping", job_id)
    ),
    "console:import_start": action(console(IMPORTERS, scoped=True))(r("console:import_start", job_id)),
    "console:import_dry_run": action(console(IMPORTERS, scoped=True))(r("console:import_dry_run", job_id)),
    "console:import_result": page(console(IMPORTERS, scoped=True))(r("console:import_result", job_id)),
}
