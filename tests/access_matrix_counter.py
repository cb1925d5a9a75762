"""Access matrix entries of the merchant counter (merged into MATRIX by tests/access_matrix.py): identify, quote and
record a sale (owners, managers and clerks), the counter's sales and a sale's page, and refunds (owners and
managers; a clerk gets a 403). The evidence world's sale of 喜茶 is a POS sale: its page opens, and a refund of it
here is refused with the form error (POS sales are refunded through the POS)."""

from __future__ import annotations

from .access_matrix import OWNERS, Entry, action, page, portal, r
from .evidence_world import EvidenceWorld

MERCHANT_SELLERS = {"clerk", "owner"}  # portal.counter_sell (managers too; not a principal of the matrix)


def sale_a(ew: EvidenceWorld) -> int:
    return ew.sale.pk


MATRIX_COUNTER: dict[str, Entry] = {
    "merchant:counter": page(
        portal(MERCHANT_SELLERS),
        data=lambda ew: {"action": "identify", "q": ""},
        note="POST without a code: the form error (422), nothing looked up",
    )(r("merchant:counter")),
    "merchant:counter_sales": page(portal(MERCHANT_SELLERS))(r("merchant:counter_sales")),
    "merchant:counter_sale": page(portal(MERCHANT_SELLERS, scoped=True))(r("merchant:counter_sale", sale_a)),
    "merchant:counter_refund": action(
        portal(OWNERS, scoped=True),
        data=lambda ew: {"what": "all", "token": "0" * 32},
        note="the evidence sale came through the POS: refused here (422), nothing refunded",
    )(r("merchant:counter_refund", sale_a)),
}
