"""Test helpers: files written on the fly and a full upload → mapping → dry run → run."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from galleria.audit.types import Actor
from galleria.imports import services
from galleria.imports.models import ImportJob

ACTOR = Actor.system("import-test")


def csv_bytes(rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, merge: str = "") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(
    world: Any, data: bytes, *, name: str = "members.csv", kind: str = "members", source: str = "legacy"
) -> ImportJob:
    return services.import_upload(
        mall_group_id=world.group.pk,
        kind=kind,
        filename=name,
        stream=io.BytesIO(data),
        size=len(data),
        actor=ACTOR,
        source=source,
        default_mall_id=world.mall.pk,
    )


def dry(job: ImportJob) -> ImportJob:
    return services.import_dry_run(job_id=job.pk)


def run(job: ImportJob) -> ImportJob:
    """Start the real run and do what the worker does with the queued task (tests run in one transaction, so
    the on-commit enqueue never fires here; test_start_enqueues_the_task checks it)."""
    services.import_start(job_id=job.pk, mall_group_id=job.mall_group_id, actor=ACTOR)
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def full(world: Any, data: bytes, **kwargs: Any) -> ImportJob:
    job = upload(world, data, **kwargs)
    dry(job)
    return run(job)
