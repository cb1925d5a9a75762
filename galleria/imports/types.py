from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class RawRow:
    """One data row of a file: its line (1-based, as a spreadsheet shows it), its cells as text (None = empty)
    and the columns whose cell is a formula (never evaluated)."""

    line: int
    cells: tuple[str | None, ...]
    formulas: frozenset[int] = frozenset()
    merged: str = ""  # the merged range this row belongs to, if any (XLSX)


@dataclass(frozen=True)
class TableHead:
    """What the header row says, and the encoding a CSV was read with."""

    headers: tuple[str, ...]
    header_line: int
    encoding: str = ""


@dataclass
class ReadStats:
    """Filled while a file is read: blank rows skipped and why reading stopped early (if it did)."""

    blank_rows: int = 0
    stopped: str = ""  # "" | "blank_rows" | "max_rows"
    data_rows: int = 0
    notes: list[str] = field(default_factory=list)


class ImportKind(models.TextChoices):
    MEMBERS = "members", _("Members")
    SALES = "sales", _("Past sales")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", pgettext_lazy("import status", "Uploaded")
    CHECKING = "checking", pgettext_lazy("import status", "Dry run in progress")
    CHECKED = "checked", pgettext_lazy("import status", "Dry run done")
    QUEUED = "queued", pgettext_lazy("import status", "Queued")
    RUNNING = "running", pgettext_lazy("import status", "Importing")
    DONE = "done", pgettext_lazy("import status", "Done")
    FAILED = "failed", pgettext_lazy("import status", "Failed")


class Phase(models.TextChoices):
    DRY = "dry", _("Dry run")
    REAL = "real", _("Import")


class Outcome(models.TextChoices):
    CREATED = "created", pgettext_lazy("import outcome", "Created")
    UPDATED = "updated", pgettext_lazy("import outcome", "Updated")
    UNCHANGED = "unchanged", pgettext_lazy("import outcome", "Unchanged")
    DUPLICATE = "duplicate", pgettext_lazy("import outcome", "Duplicate")
    ERROR = "error", pgettext_lazy("import outcome", "Error")
