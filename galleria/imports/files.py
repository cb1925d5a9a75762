"""Reading an uploaded file row by row, never whole: CSV (UTF-8 with or without BOM, else GB18030 — what Chinese
Excel saves as "CSV") and XLSX (openpyxl read-only, streamed). Anything else is refused with a reason.

`open_table(path, fmt)` reads the header row and returns a `Table` whose `rows()` yields `RawRow`s: blank rows
are skipped, reading stops after `max_blank_rows` consecutive blank rows or `max_rows` data rows (`stats` says
which), formula cells are flagged (never evaluated), XLSX rows inside merged cells are flagged.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

from django.utils.translation import gettext as _

from galleria.members.rules import normalize_phone

from . import conf, rules
from .exceptions import FileRefusedError
from .types import RawRow, ReadStats, TableHead

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CHUNK = 1 << 20
UTF8 = "utf-8-sig"
GB = "gb18030"


def format_of(filename: str) -> str:
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".csv", ".txt"):
        return CSV
    if suffix == ".xlsx":
        return XLSX
    raise FileRefusedError(_("Only CSV and XLSX files can be imported (an .xls file: save it as .xlsx first)."))


def check_size(size: int) -> None:
    if size > conf.max_bytes():
        mb = conf.max_bytes() // (1024 * 1024)
        raise FileRefusedError(_("The file is larger than %(mb)s MB; split it into smaller files.") % {"mb": mb})
    if size == 0:
        raise FileRefusedError(_("The file is empty."))


# ---------------------------------------------------------------------------------------------- CSV


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path) -> str:
    """UTF-8 (a BOM is dropped) if the whole file decodes so, else GB18030 (a superset of GBK and GB2312), else
    refused: a NUL byte or a byte sequence neither encoding accepts means it is not a text table."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        raise FileRefusedError(_("This is an XLSX (or other zip) file with a .csv name; upload it as .xlsx."))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefusedError(_("UTF-16 files are not supported; save the file as CSV UTF-8."))
    for encoding in (UTF8, GB):
        if _decodes(path, encoding):
            return encoding
    raise FileRefusedError(
        _("The file is not readable text (neither UTF-8 nor GBK/GB18030). Save it as CSV UTF-8 and try again.")
    )


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str | None], frozenset[int], str]]:
    with path.open("r", encoding=encoding, newline="") as handle:
        first = handle.readline(64 * 1024)
        handle.seek(0)
        reader = csv.reader(handle, delimiter=_delimiter(first), strict=False)
        line = 0
        try:
            for record in reader:
                line += 1
                cells: list[str | None] = [c if c.strip() else None for c in record]
                formulas = frozenset(i for i, c in enumerate(record) if rules.is_formula_text(c.strip()))
                yield line, cells, formulas, ""
        except csv.Error as exc:
            raise FileRefusedError(
                _("Line %(line)s cannot be read as CSV (%(error)s).") % {"line": line + 1, "error": str(exc)[:80]}
            ) from exc


# ---------------------------------------------------------------------------------------------- XLSX


def _xlsx_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text.strip() else None


def _merged_ranges(archive: zipfile.ZipFile, sheet_path: str) -> list[tuple[str, int, int]]:
    """(ref, first row, last row) of the sheet's merged cells, read from its XML without loading it."""
    found: list[tuple[str, int, int]] = []
    with archive.open(sheet_path) as source:
        for _event, element in iterparse(source, events=("end",)):  # noqa: S314
            if element.tag.endswith("}mergeCell") and element.get("ref"):
                ref = element.get("ref", "")
                rows = [int(n) for n in re.findall(r"(\d+)", ref)]
                if rows:
                    found.append((ref, min(rows), max(rows)))
            element.clear()
    return found


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str | None], frozenset[int], str]]:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise FileRefusedError(_("This is not an XLSX file (an .xls file: save it as .xlsx first)."))
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a broken workbook
        raise FileRefusedError(_("The XLSX file cannot be opened: it is damaged or not a workbook.")) from exc
    try:
        if not workbook.worksheets:
            raise FileRefusedError(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        merged: list[tuple[str, int, int]] = []
        sheet_path = getattr(sheet, "_worksheet_path", "")
        if sheet_path:
            with zipfile.ZipFile(path) as archive:
                merged = _merged_ranges(archive, sheet_path)
        width = conf.max_columns() + 1
        line = 0
        try:
            for row in sheet.iter_rows(min_row=1, max_col=width):
                line += 1
                cells: list[str | None] = []
                formulas: set[int] = set()
                for index, cell in enumerate(row):
                    value = getattr(cell, "value", None)
                    if getattr(cell, "data_type", None) == "f" or (
                        isinstance(value, str) and rules.is_formula_text(value.strip())
                    ):
                        formulas.add(index)
                    cells.append(_xlsx_text(value))
                where = next((ref for ref, first, last in merged if first <= line <= last), "")
                yield line, cells, frozenset(formulas), where
        except FileRefusedError:
            raise
        except Exception as exc:
            raise FileRefusedError(_("Row %(line)s of the XLSX file cannot be read.") % {"line": line + 1}) from exc
    finally:
        workbook.close()


# ---------------------------------------------------------------------------------------------- the table


def _looks_like_data(cells: list[str | None]) -> bool:
    for cell in cells:
        text = rules.clean(cell)
        if not text:
            continue
        if normalize_phone(text) is not None or re.fullmatch(r"[\d.,\-/: ]+", text):
            return True
    return False


class Table:
    def __init__(self, path: Path, fmt: str, encoding: str = "") -> None:
        self.path = path
        self.fmt = fmt
        self.encoding = encoding
        self.stats = ReadStats()
        source = _xlsx_rows(path) if fmt == XLSX else _csv_rows(path, encoding)
        self._source = source
        self.head = self._read_head()

    def _read_head(self) -> TableHead:
        blank = 0
        for line, cells, _formulas, merged in self._source:
            if not any(cells):
                blank += 1
                if blank > conf.max_blank_rows():
                    break
                continue
            while cells and cells[-1] is None:
                cells.pop()
            if len(cells) > conf.max_columns():
                raise FileRefusedError(
                    _("The file has more than %(n)s columns; remove the columns that are not imported.")
                    % {"n": conf.max_columns()}
                )
            if merged:
                raise FileRefusedError(_("The header row has merged cells (%(ref)s); unmerge them.") % {"ref": merged})
            if _looks_like_data(cells):
                raise FileRefusedError(
                    _("The first row holds data, not column names. Add a header row (e.g. 手机号, 姓名, 积分).")
                )
            headers = [rules.clean(c) or _("Column %(n)s") % {"n": i + 1} for i, c in enumerate(cells)]
            keys = [rules.header_key(h) for h in headers]
            twice = sorted({h for h, k in zip(headers, keys, strict=True) if k and keys.count(k) > 1})
            if twice:
                raise FileRefusedError(
                    _("These column names appear more than once: %(names)s. Rename or remove the copies.")
                    % {"names": ", ".join(twice)[:200]}
                )
            return TableHead(headers=tuple(headers), header_line=line, encoding=self.encoding)
        raise FileRefusedError(_("The file has no header row and no data."))

    def rows(self, *, after_line: int = 0) -> Iterator[RawRow]:
        """Data rows after the header (and after `after_line`, to resume), blank rows skipped."""
        width = len(self.head.headers)
        blank = 0
        for line, cells, formulas, merged in self._source:
            if not any(c is not None and c.strip() for c in cells[:width]):
                blank += 1
                self.stats.blank_rows += 1
                if blank >= conf.max_blank_rows():
                    self.stats.stopped = "blank_rows"
                    return
                continue
            blank = 0
            self.stats.data_rows += 1
            if self.stats.data_rows > conf.max_rows():
                self.stats.stopped = "max_rows"
                return
            if line <= after_line:
                continue
            row = tuple(cells[:width]) + (None,) * max(0, width - len(cells))
            yield RawRow(line=line, cells=row, formulas=frozenset(i for i in formulas if i < width), merged=merged)


@contextmanager
def open_table(path: Path, fmt: str, encoding: str = "") -> Iterator[Table]:
    table = Table(path, fmt, encoding)
    try:
        yield table
    finally:
        close = getattr(table._source, "close", None)
        if close:
            close()
