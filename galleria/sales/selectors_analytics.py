"""What the analytics app reads from the sales to keep its daily rollups (docs/analytics.md): the new sales and
refunds since a mark, and one mall's sales and refunds of a period, grouped. SQL in sales/sql.py."""

from __future__ import annotations

from . import sql as sales_sql

first_sale_at = sales_sql.first_sale_at
last_sale_id = sales_sql.last_sale_id
last_refund_id = sales_sql.last_refund_id
sales_touched = sales_sql.sales_touched
refunds_touched = sales_sql.refunds_touched
sales_rollup = sales_sql.sales_rollup
refunds_rollup = sales_sql.refunds_rollup
# the recommendations app (docs/recommendations.md): who bought where, for training and for one member
purchases_for_training = sales_sql.purchases_for_training
member_recent_merchants = sales_sql.member_recent_merchants

__all__ = [
    "first_sale_at",
    "last_refund_id",
    "last_sale_id",
    "member_recent_merchants",
    "purchases_for_training",
    "refunds_rollup",
    "refunds_touched",
    "sales_rollup",
    "sales_touched",
]
