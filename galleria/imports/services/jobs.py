"""The life of an import: upload (stored privately, encoding detected, header read, mapping proposed), mapping,
dry run, real run in checkpointed batches (resumable), audit of start and finish."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.core.locking import lock_one
from galleria.core.tasks import enqueue
from galleria.ledger import services as ledger
from galleria.ledger.models import AccountKind
from galleria.malls.models import Mall

from .. import conf, files, rules
from ..exceptions import FileRefusedError, ImportFileDeletedError, ImportStateError, MappingInvalidError
from ..models import ImportJob, ImportKind, ImportRow, ImportStatus, Phase
from ..types import RawRow
from .process import load_context, process_batch

log = logging.getLogger(__name__)

DRY_TASK = "galleria.imports.tasks.import_dry_run_task"
RUN_TASK = "galleria.imports.tasks.import_run_task"
SAMPLE_ROWS = 5
RETRIES = 3


def job_path(job: ImportJob) -> Path:
    return conf.storage_dir() / job.stored_name


def _store(stream: Iterable[bytes], suffix: str) -> tuple[str, int, str]:
    """Copy the upload to the private directory chunk by chunk, refusing past the size limit."""
    directory = conf.storage_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{suffix}"
    path = directory / name
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as out:
            for chunk in stream:
                size += len(chunk)
                if size > conf.max_bytes():
                    files.check_size(size)
                digest.update(chunk)
                out.write(chunk)
        files.check_size(size)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name, size, digest.hexdigest()


def _chunks(handle: IO[bytes]) -> Iterable[bytes]:
    while chunk := handle.read(files.CHUNK):
        yield chunk


def import_upload(
    *,
    mall_group_id: int,
    kind: str,
    filename: str,
    stream: Iterable[bytes] | IO[bytes],
    size: int | None,
    actor: Actor,
    source: str = "legacy",
    default_mall_id: int | None = None,
) -> ImportJob:
    """Store an uploaded file and read its header. Refuses (FileRefusedError, nothing kept) a file that is too
    big (checked on the declared size before reading a byte), of another format, undecodable, header-less…"""
    if kind not in ImportKind.values:
        raise FileRefusedError(_("Choose what the file holds: members or past sales."))
    if size is not None:
        files.check_size(size)
    fmt = files.format_of(filename)
    source = rules.clean(source)[:40] or "legacy"
    mall = Mall.objects.filter(group_id=mall_group_id, pk=default_mall_id).first() if default_mall_id else None
    if default_mall_id and mall is None:
        raise FileRefusedError(_("Choose a mall of this group."))
    chunks = _chunks(stream) if hasattr(stream, "read") else stream  # type: ignore[arg-type]
    name, stored_size, sha = _store(chunks, fmt)
    path = conf.storage_dir() / name
    try:
        encoding = files.detect_encoding(path) if fmt == files.CSV else ""
        sample: list[list[str | None]] = []
        with files.open_table(path, fmt, encoding) as table:
            head = table.head
            for raw in table.rows():
                sample.append(list(raw.cells))
                if len(sample) >= SAMPLE_ROWS:
                    break
        mapping = rules.propose_mapping(kind, head.headers)
        with transaction.atomic(durable=True):
            job = ImportJob.objects.create(
                mall_group_id=mall_group_id,
                kind=kind,
                source=source,
                default_mall=mall,
                original_name=Path(filename).name[:200],
                stored_name=name,
                file_format=fmt,
                encoding=encoding,
                size_bytes=stored_size,
                sha256=sha,
                headers=list(head.headers),
                header_line=head.header_line,
                sample=sample,
                mapping=mapping,
                created_by_label=actor.label[:100],
            )
            audit_record(
                actor=actor,
                action="import.upload",
                target_type="importjob",
                target_id=job.pk,
                target_label=job.original_name,
                mall_group_id=mall_group_id,
                changes={"kind": [None, kind], "file": [None, job.original_name], "rows": [None, None]},
            )
        return job
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def import_set_mapping(
    *, job_id: int, mall_group_id: int, mapping: Mapping[str, int | None], actor: Actor
) -> ImportJob:
    """Save the column mapping (field → column index). Invalidates an earlier dry run."""
    clean = {k: int(v) for k, v in mapping.items() if v is not None and v != ""}
    with transaction.atomic(durable=True):
        job = lock_one(ImportJob.objects.filter(pk=job_id, mall_group_id=mall_group_id))
        if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED):
            raise ImportStateError()
        problems = rules.mapping_problems(job.kind, clean, len(job.headers))
        if problems:
            raise MappingInvalidError(extra={"problems": problems})
        if clean != job.mapping or job.status != ImportStatus.UPLOADED:
            ImportRow.objects.filter(job=job, phase=Phase.DRY).delete()
            job.mapping = clean
            job.status = ImportStatus.UPLOADED
            job.dry_counts = {}
            job.rows_total = 0
            job.checked_at = None
            job.save(update_fields=["mapping", "status", "dry_counts", "rows_total", "checked_at"])
        return job


def _batches(rows: Iterable[RawRow], size: int) -> Iterable[list[RawRow]]:
    batch: list[RawRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _notes(stats_stopped: str, blank_rows: int) -> list[str]:
    notes: list[str] = []
    if stats_stopped == "blank_rows":
        notes.append("blank_rows")
    if stats_stopped == "max_rows":
        notes.append("max_rows")
    return notes


def _dry_current(job_id: int, attempt: int | None) -> ImportJob | None:
    """Inside a transaction: the job row locked, or None when a newer dry-run request superseded `attempt`."""
    job = lock_one(ImportJob.objects.filter(pk=job_id))
    if attempt is not None and job.dry_attempt != attempt:
        return None
    return job


def import_dry_run(*, job_id: int, mall_group_id: int | None = None, attempt: int | None = None) -> ImportJob:
    """Check every row without writing a business table: each row's outcome goes to `ImportRow` (phase dry),
    the counts to `dry_counts`. Batches commit as they go, so the console shows progress.

    `attempt` (the task passes the request's `dry_attempt`): every batch checks it under the job's row lock and
    stops as soon as a newer request exists, so a restarted dry run never mixes its rows with an old one's."""
    qs = ImportJob.objects.filter(pk=job_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    job = qs.get()
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.CHECKED):
        raise ImportStateError()
    if job.file_deleted_at is not None:
        raise ImportFileDeletedError()
    problems = rules.mapping_problems(job.kind, {k: int(v) for k, v in job.mapping.items()}, len(job.headers))
    if problems:
        raise MappingInvalidError(extra={"problems": problems})
    with transaction.atomic():
        if _dry_current(job.pk, attempt) is None:
            return ImportJob.objects.get(pk=job.pk)
        ImportRow.objects.filter(job=job, phase=Phase.DRY).delete()
        ImportJob.objects.filter(pk=job.pk).update(dry_counts={}, rows_total=0, notes=[], error="")
    ctx = load_context(job)
    counts: Counter[str] = Counter()
    total = 0
    try:
        with files.open_table(job_path(job), job.file_format, job.encoding) as table:
            for batch in _batches(table.rows(), conf.batch_rows()):
                with transaction.atomic():
                    if _dry_current(job.pk, attempt) is None:
                        return ImportJob.objects.get(pk=job.pk)  # superseded: the newer run owns the rows
                    counts += process_batch(batch, ctx, phase=Phase.DRY, write=False)
                    total += len(batch)
                    ImportJob.objects.filter(pk=job.pk).update(rows_total=total, dry_counts=dict(counts))
            stopped = table.stats.stopped
            blank = table.stats.blank_rows
    except FileRefusedError as exc:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.UPLOADED, error=str(exc.message)[:300])
        raise
    with transaction.atomic():
        current = _dry_current(job.pk, attempt)
        if current is None:
            return ImportJob.objects.get(pk=job.pk)
        return _dry_finish(current, counts=counts, total=total, stopped=stopped, blank=blank)


def _dry_finish(job: ImportJob, *, counts: Counter[str], total: int, stopped: str, blank: int) -> ImportJob:
    job.notes = _notes(stopped, blank)
    job.status = ImportStatus.CHECKED
    job.checked_at = timezone.now()
    job.rows_total = total
    job.dry_counts = dict(counts)
    if stopped == "max_rows":
        job.status = ImportStatus.UPLOADED
        job.error = _("The file has more than %(n)s rows; split it.") % {"n": conf.max_rows()}
    job.save(update_fields=["notes", "status", "checked_at", "rows_total", "dry_counts", "error"])
    return job


def import_dry_run_request(*, job_id: int, mall_group_id: int, actor: Actor) -> ImportJob:
    """Queue the dry run (the console polls its progress)."""
    with transaction.atomic(durable=True):
        job = lock_one(ImportJob.objects.filter(pk=job_id, mall_group_id=mall_group_id))
        if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.CHECKED):
            raise ImportStateError()
        if job.file_deleted_at is not None:
            raise ImportFileDeletedError()
        problems = rules.mapping_problems(job.kind, {k: int(v) for k, v in job.mapping.items()}, len(job.headers))
        if problems:
            raise MappingInvalidError(extra={"problems": problems})
        job.status = ImportStatus.CHECKING
        job.error = ""
        job.dry_attempt += 1
        job.save(update_fields=["status", "error", "dry_attempt"])
        attempt = job.dry_attempt
        transaction.on_commit(lambda: enqueue(DRY_TASK, job_id=job.pk, attempt=attempt))
        return job


def import_start(*, job_id: int, mall_group_id: int, actor: Actor) -> ImportJob:
    """Queue the real run of a checked import (or resume one that stopped). Audited."""
    with transaction.atomic(durable=True):
        job = lock_one(ImportJob.objects.filter(pk=job_id, mall_group_id=mall_group_id))
        resume = job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.FAILED)
        if job.status != ImportStatus.CHECKED and not resume:
            raise ImportStateError()
        if job.file_deleted_at is not None:
            raise ImportFileDeletedError()
        job.status = ImportStatus.QUEUED
        job.error = ""
        job.save(update_fields=["status", "error"])
        audit_record(
            actor=actor,
            action="import.resume" if resume else "import.start",
            target_type="importjob",
            target_id=job.pk,
            target_label=job.original_name,
            mall_group_id=mall_group_id,
            changes={"rows": [None, str(job.rows_total)], "from_line": [None, str(job.line_done)]},
        )
        transaction.on_commit(lambda: enqueue(RUN_TASK, job_id=job.pk, actor_user_id=actor.user_id))
        return job


def import_run(*, job_id: int, actor_user_id: int | None = None) -> ImportJob:
    """The real run: batches of `conf.batch_rows()` rows, each one transaction that writes the business rows, the
    batch's `ImportRow`s and the checkpoint (`line_done`) together — a crash loses nothing, and running again
    continues after the last committed batch. Safe to run twice: a runner that finds the checkpoint moved by
    another stops."""
    with transaction.atomic():
        job = lock_one(ImportJob.objects.filter(pk=job_id))
        if job.status == ImportStatus.DONE:
            return job
        if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.FAILED):
            raise ImportStateError()
        if job.file_deleted_at is not None:
            raise ImportFileDeletedError()
        job.status = ImportStatus.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "started_at"])
    ctx = load_context(job, actor_user_id=actor_user_id)
    if job.kind == ImportKind.MEMBERS:
        # Created (and committed) before any batch: ledger remembers system account ids per process, so an id
        # first created inside a batch that then rolls back would stay remembered for a row that does not exist.
        ctx.issued_account_id = ledger.system_account_id(
            mall_group_id=job.mall_group_id, kind=AccountKind.POINTS_ISSUED
        )
    checkpoint = job.line_done
    try:
        with files.open_table(job_path(job), job.file_format, job.encoding) as table:
            for batch in _batches(table.rows(after_line=checkpoint), conf.batch_rows()):
                for attempt in range(RETRIES):
                    try:
                        with transaction.atomic():
                            current = lock_one(ImportJob.objects.filter(pk=job_id))
                            if current.line_done != checkpoint or current.status != ImportStatus.RUNNING:
                                return current  # another runner moved on (or the job was stopped)
                            ctx.job = current
                            ctx.now = timezone.now()
                            counts = process_batch(batch, ctx, phase=Phase.REAL, write=True)
                            merged = Counter(current.counts) + counts
                            current.counts = dict(merged)
                            current.rows_done += len(batch)
                            current.line_done = batch[-1].line
                            current.save(update_fields=["counts", "rows_done", "line_done"])
                        checkpoint = batch[-1].line
                        break
                    except IntegrityError:
                        if attempt == RETRIES - 1:
                            raise
                        log.info("import %s: batch at line %s collided, retrying", job_id, batch[0].line)
            stopped = table.stats.stopped
    except (ApplicationError, IntegrityError) as exc:
        _fail(job_id, str(getattr(exc, "message", exc))[:300])
        raise
    with transaction.atomic():
        job = lock_one(ImportJob.objects.filter(pk=job_id))
        job.status = ImportStatus.DONE
        job.finished_at = timezone.now()
        job.notes = _notes(stopped, 0)
        job.save(update_fields=["status", "finished_at", "notes"])
        audit_record(
            actor=Actor(user_id=actor_user_id, label=job.created_by_label or "import"),
            action="import.finish",
            target_type="importjob",
            target_id=job.pk,
            target_label=job.original_name,
            mall_group_id=job.mall_group_id,
            changes={k: [None, str(v)] for k, v in sorted(job.counts.items())},
        )
    _delete_file(job)  # the row reports are the result now; the file only held personal data
    return job


def _delete_file(job: ImportJob) -> None:
    job_path(job).unlink(missing_ok=True)
    job.file_deleted_at = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(file_deleted_at=job.file_deleted_at)


def import_files_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the uploaded files nobody needs any more: every finished import's, and an unfinished one's after
    GALLERIA_IMPORT_FILE_RETENTION_DAYS (it can then no longer be checked or resumed; uploading it again is the way
    on, and the same file creates nothing twice). Idempotent. Returns how many files were deleted."""
    moment = now or timezone.now()
    cutoff = moment - dt.timedelta(days=conf.file_retention_days())
    due = ImportJob.objects.filter(file_deleted_at__isnull=True).filter(
        Q(status=ImportStatus.DONE) | Q(created_at__lt=cutoff)
    )
    count = 0
    for job in due.iterator():  # (a job still checking or running is never done: it is here only past the window)
        _delete_file(job)
        count += 1
    return count


def _fail(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(status=ImportStatus.FAILED, error=message)
