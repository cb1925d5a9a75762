"""Long lists, paged without counting or sorting a million rows.

A `Runs` listing is the concatenation of ordered querysets ("runs") over one filtered set — e.g. the members who
hold points by balance, then those without a points account — so that every run is an index walk that stops at
the page, where one ORDER BY over a LEFT JOIN (or with blanks last) would sort the whole table. Its `count()` is
capped: it counts at most `cap + 1` rows (`SELECT count(*) FROM (… LIMIT cap + 1)`) and reports `cap` with
`is_capped` set beyond that ("more than 1,000 members"), so neither the count nor any reachable page costs more
than walking about `cap` matching rows, however many match. Django's `Paginator` pages it like a queryset (it
only calls `count()` and slices); pages past the cap are not offered: narrow the search instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

from django.core.exceptions import EmptyResultSet
from django.db.models import BooleanField, Expression, F, Model, QuerySet

M = TypeVar("M", bound=Model)

DEFAULT_CAP = 1_000


class PkIn(Expression):
    """`pk IN (ids)` for a long list of ids found by an earlier query: on PostgreSQL ONE array parameter
    (`pk = ANY(%s::bigint[])`) rather than Django's one placeholder per id (`pk__in`), which costs Python time per
    id to build and send — twice per page (the count and the page)."""

    output_field = BooleanField()

    def __init__(self, ids: Sequence[int], pk: Any = None) -> None:
        super().__init__()
        self.ids = [int(i) for i in ids]
        self.pk = pk if pk is not None else F("pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.pk]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.pk,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        if not self.ids:
            raise EmptyResultSet
        pk_sql, pk_params = compiler.compile(self.pk)
        return f"{pk_sql} IN ({', '.join(['%s'] * len(self.ids))})", [*pk_params, *self.ids]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        if not self.ids:
            raise EmptyResultSet
        pk_sql, pk_params = compiler.compile(self.pk)
        return f"{pk_sql} = ANY(%s::bigint[])", [*pk_params, self.ids]


def capped_count(queryset: QuerySet[Any], cap: int) -> int:
    """The number of rows, but at most `cap + 1` of them counted (one query)."""
    return queryset.order_by()[: cap + 1].count()


class Runs(Generic[M]):
    def __init__(self, *, total: QuerySet[M], runs: Sequence[QuerySet[M]], cap: int | None = None) -> None:
        """`runs` partition `total` (the same rows, ordered); `total` is what is counted."""
        self.total = total
        self.runs = list(runs)
        self.cap = DEFAULT_CAP if cap is None else cap
        self.is_capped = False
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            n = capped_count(self.total, self.cap)
            self.is_capped = n > self.cap
            self._count = min(n, self.cap)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[M]:
        return self.iterator()

    @overload
    def __getitem__(self, index: int) -> M: ...

    @overload
    def __getitem__(self, index: slice) -> list[M]: ...

    def __getitem__(self, index: int | slice) -> M | list[M]:
        if isinstance(index, int):
            if index < 0:
                raise IndexError("Runs do not support negative indexing")
            found = self[index : index + 1]
            if not found:
                raise IndexError(index)
            return found[0]
        if index.step not in (None, 1):
            raise TypeError("Runs only support slicing with step 1")
        start, stop = index.start or 0, index.stop
        if start < 0 or stop is None or stop < start:
            raise ValueError("Runs need a bounded, non-negative slice")
        rows: list[M] = []
        offset = start  # position of the slice's next row, relative to the current run
        for run in self.runs:
            if len(rows) >= stop - start:
                break
            want = stop - start - len(rows)
            got = list(run[offset : offset + want])
            rows.extend(got)
            if len(got) == want:
                break
            # this run ended inside (or before) the slice: the next run starts at the slice's remaining offset
            offset = 0 if got or offset == 0 else offset - capped_count(run, offset)
        return rows

    def iterator(self, chunk_size: int = 1000) -> Iterator[M]:
        """Every row, run after run (exports)."""
        for run in self.runs:
            yield from run.iterator(chunk_size=chunk_size)
