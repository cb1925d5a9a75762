"""Access matrix entries of the dashboards (merged into tests/access_matrix.MATRIX): the sales overview reads the
daily rollups of every merchant of the group (analytics.view); a POST only shows the page again."""

from __future__ import annotations

from .access_matrix import ROOT, Entry, console, page, r

VIEWERS = {"admin", "marketing", "finance", "viewer", ROOT}  # analytics.view

MATRIX_ANALYTICS: dict[str, Entry] = {
    "console:analytics_sales": page(console(VIEWERS))(r("console:analytics_sales")),
}
