"""The checkout pipeline: one core every sales channel calls (docs/architecture.md, "The checkout pipeline").

resolve (resolve.py) -> lock (lock.py) -> price (pricing.py, pure, shared with quote.py) -> persist (persist.py)
-> post (post.py); sale.py runs the steps in order, refund.py runs them in reverse. A channel adapter (the POS API
today) builds a `SaleIn` with its `channel`, calls `checkout_sale_in_tx` or `refund_in_tx` and translates the result;
it holds no pricing or ledger logic. This module imports nothing so that sales.selectors may import quote.py.
"""
