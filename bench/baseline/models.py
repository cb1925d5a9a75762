"""Unmanaged models over the two bench tables (created by bench/pos_bench.py, see TABLES_SQL there)."""

from __future__ import annotations

from django.db import models


class Counter(models.Model):
    id = models.BigIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)

    objects: models.Manager[Counter] = models.Manager()

    class Meta:
        managed = False
        db_table = "bench_counter"


class Event(models.Model):
    counter = models.ForeignKey(Counter, on_delete=models.DO_NOTHING, related_name="+")
    amount = models.BigIntegerField()
    created_at = models.DateTimeField()

    objects: models.Manager[Event] = models.Manager()

    class Meta:
        managed = False
        db_table = "bench_event"
