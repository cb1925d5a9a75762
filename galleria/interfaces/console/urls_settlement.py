"""Console URLs: settlement (docs/settlement.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import settlement

urlpatterns: list[URLPattern] = [
    path("settlement/", settlement.statements, name="settlement"),
    path("settlement/generate/", settlement.generate, name="settlement_generate"),
    path("settlement/export/", settlement.export, name="settlement_export"),
    path("settlement/<int:statement_id>/", settlement.statement_detail, name="settlement_statement"),
    path("settlement/<int:statement_id>/export/", settlement.statement_export, name="settlement_statement_export"),
    path("settlement/<int:statement_id>/approve/", settlement.approve, name="settlement_approve"),
    path("settlement/<int:statement_id>/pay/", settlement.mark_paid, name="settlement_pay"),
    path("settlement/<int:statement_id>/regenerate/", settlement.regenerate, name="settlement_regenerate"),
]
