"""Query expressions of the member search (the PostgreSQL objects they use: migration 0003_search_indexes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import BooleanField, Expression, F


class NameContains(Expression):
    """`lower(name)` contains `lower(fragment)`. On PostgreSQL the name n-gram index answers it (a fragment of 1–3
    characters is one gram, a longer one all of its trigrams); the cheap `strpos` is the exact test, and it comes
    first so that a plan which filters rows one by one (e.g. walking the points index) rarely runs the gram
    function. Elsewhere (SQLite, the demo) a plain scan."""

    output_field = BooleanField()

    def __init__(self, fragment: str, name: Any = None) -> None:
        super().__init__()
        self.fragment = fragment
        self.name = name if name is not None else F("name")

    def get_source_expressions(self) -> list[Any]:
        return [self.name]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.name,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        name_sql, name_params = compiler.compile(self.name)
        return f"instr(lower({name_sql}), lower(%s)) > 0", [*name_params, self.fragment]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        name_sql, name_params = compiler.compile(self.name)
        sql_ = (
            f"(strpos(lower({name_sql}), lower(%s)) > 0"
            f" AND galleria_member_name_grams({name_sql}) @> galleria_member_name_query(%s))"
        )
        return sql_, [*name_params, self.fragment, *name_params, self.fragment]
