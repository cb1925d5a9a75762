from __future__ import annotations

from dataclasses import dataclass, field


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
