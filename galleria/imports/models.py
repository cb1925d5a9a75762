"""Imports of offline members and their past sales.

* `ImportJob`: one uploaded file and its life: uploaded → mapped → checked (dry run) → queued/running → done
  (or failed). `line_done` is the checkpoint of the real run: the last file line whose batch committed.
* `ImportRow`: the outcome of one data row in one phase (dry run or real run). The real run's rows are written in
  the same transaction as the business rows of their batch, so they are the record of what was imported.
* `OpeningBalance`: one opening points balance per member and import source (unique), so the same balance is
  never posted twice — not by running the same file again, not by a resumed or concurrent run.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from galleria.ledger.models import Transaction
from galleria.malls.models import Mall, MallGroup
from galleria.members.models import Member

from .types import ImportKind as ImportKind
from .types import ImportStatus as ImportStatus
from .types import Outcome as Outcome
from .types import Phase as Phase


class ImportJob(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    source = models.CharField(_("source system"), max_length=40, default="legacy")
    default_mall = models.ForeignKey(Mall, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    original_name = models.CharField(_("file"), max_length=200)
    stored_name = models.CharField(max_length=100)  # under conf.storage_dir(); never served
    file_format = models.CharField(max_length=5)
    encoding = models.CharField(max_length=20, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    headers = models.JSONField(default=list, blank=True)
    header_line = models.PositiveIntegerField(default=1)
    sample = models.JSONField(default=list, blank=True)  # first rows, for the mapping preview
    mapping = models.JSONField(default=dict, blank=True)  # field → column index
    rows_total = models.PositiveIntegerField(default=0)  # data rows found by the dry run
    rows_done = models.PositiveIntegerField(default=0)  # data rows committed by the real run
    line_done = models.PositiveIntegerField(default=0)  # checkpoint: last file line of the last committed batch
    dry_counts = models.JSONField(default=dict, blank=True)
    # bumped by every dry-run request: a dry run that finds another attempt number stops (a restart supersedes a
    # worker that is stuck or still running)
    dry_attempt = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=list, blank=True)  # file-level remarks (blank rows stopped reading…)
    error = models.CharField(max_length=300, blank=True)
    created_by_label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # the uploaded file is deleted once the import is done (the row reports are the result) or, unfinished, after
    # GALLERIA_IMPORT_FILE_RETENTION_DAYS: it holds personal data of every row
    file_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["mall_group", "-created_at"])]

    def __str__(self) -> str:
        return f"import#{self.pk} {self.original_name}"


class ImportRow(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    phase = models.CharField(max_length=4, choices=Phase.choices)
    line = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    code = models.CharField(max_length=30, blank=True)  # error / duplicate reason (rules.ERROR_TEXT)
    field = models.CharField(max_length=20, blank=True)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    other_line = models.PositiveIntegerField(null=True, blank=True)  # duplicate of an earlier line
    key = models.CharField(max_length=64, blank=True)  # phone (members) or sale key (sales)
    card = models.CharField(max_length=32, blank=True)
    plate = models.CharField(max_length=10, blank=True)
    label = models.CharField(max_length=80, blank=True)  # what the row was, for the report (masked phone, name)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "phase", "line"], name="import_row_once")]
        indexes = [
            models.Index(fields=["job", "phase", "outcome", "line"], name="import_row_outcome"),
            models.Index(fields=["job", "phase", "key"], name="import_row_key"),
            models.Index(fields=["job", "phase", "card"], name="import_row_card"),
            models.Index(fields=["job", "phase", "plate"], name="import_row_plate"),
        ]


class OpeningBalance(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=40)
    job = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="+")
    points = models.BigIntegerField()
    expires_on = models.DateField(null=True, blank=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "member", "source"], name="opening_balance_once"),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="opening_balance_positive"),
        ]
