"""Merchant portal URLs: settlement (docs/settlement.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import settlement

urlpatterns: list[URLPattern] = [
    path("settlement/", settlement.statements, name="settlement"),
    path("settlement/<int:statement_id>/", settlement.statement_detail, name="settlement_statement"),
    path("settlement/<int:statement_id>/export/", settlement.statement_export, name="settlement_statement_export"),
    path("settlement/<int:statement_id>/confirm/", settlement.confirm, name="settlement_confirm"),
    path("settlement/<int:statement_id>/dispute/", settlement.dispute, name="settlement_dispute"),
]
