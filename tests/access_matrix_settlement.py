"""Access matrix entries of the settlement pages (merged into tests/access_matrix.MATRIX): the console's merchant
statements (finance: settlement.view reads and exports, settlement.manage generates, approves, records payments) and
the merchant portal's own statements (owners and managers: portal.settlement)."""

from __future__ import annotations

from .access_matrix import NOT_ALLOWED, ROOT, Entry, action, console, page, portal, public, r
from .evidence_world import EvidenceWorld

READERS = {"admin", "finance", "viewer", ROOT}  # settlement.view
MANAGERS = {"admin", "finance", ROOT}  # settlement.manage
GET_ONLY = public(NOT_ALLOWED)  # @require_GET answers POST with 405 before any sign-in check


def _statement(ew: EvidenceWorld) -> int:
    """A draft statement of 喜茶 (made on first use, without an audit trace)."""
    import datetime as dt

    from django.utils import timezone

    from galleria.settlement.models import Statement

    statement, _created = Statement.objects.get_or_create(
        merchant=ew.world.merchant,
        period_start=dt.date(2026, 1, 1),
        sequence=1,
        defaults={
            "mall_group": ew.world.group,
            "period_end": dt.date(2026, 2, 1),
            "generated_at": timezone.now(),
            "collected_fen": 1000,
            "net_fen": 1000,
        },
    )
    return statement.pk


MATRIX_SETTLEMENT: dict[str, Entry] = {
    "console:settlement": page(console(READERS), post=GET_ONLY)(r("console:settlement")),
    "console:settlement_export": page(console(READERS), post=GET_ONLY)(r("console:settlement_export")),
    "console:settlement_generate": action(
        console(MANAGERS), data=lambda ew: {"period": ""}, note="no period: refused with a message, nothing written"
    )(r("console:settlement_generate")),
    "console:settlement_statement": page(console(READERS, scoped=True), post=GET_ONLY)(
        r("console:settlement_statement", _statement)
    ),
    "console:settlement_statement_export": page(console(READERS, scoped=True), post=GET_ONLY)(
        r("console:settlement_statement_export", _statement)
    ),
    "console:settlement_approve": action(
        console(MANAGERS, scoped=True), data=lambda ew: {"note": ""}, note="a draft: refused (not confirmed yet)"
    )(r("console:settlement_approve", _statement)),
    "console:settlement_pay": action(
        console(MANAGERS, scoped=True), data=lambda ew: {"reference": ""}, note="no reference: refused"
    )(r("console:settlement_pay", _statement)),
    "console:settlement_regenerate": action(console(MANAGERS, scoped=True))(
        r("console:settlement_regenerate", _statement)
    ),
    "merchant:settlement": page(portal({"owner"}), post=GET_ONLY)(r("merchant:settlement")),
    "merchant:settlement_statement": page(portal({"owner"}, scoped=True), post=GET_ONLY)(
        r("merchant:settlement_statement", _statement)
    ),
    "merchant:settlement_statement_export": page(portal({"owner"}, scoped=True), post=GET_ONLY)(
        r("merchant:settlement_statement_export", _statement)
    ),
    "merchant:settlement_confirm": action(
        portal({"owner"}, scoped=True),
        data=lambda ew: {"version": "0"},
        note="a version the page never showed: refused",
    )(r("merchant:settlement_confirm", _statement)),
    "merchant:settlement_dispute": action(
        portal({"owner"}, scoped=True), data=lambda ew: {"comment": ""}, note="no comment: refused"
    )(r("merchant:settlement_dispute", _statement)),
}
