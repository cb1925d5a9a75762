"""Wallet writes: top-up (start, confirm, refund), pay from the wallet, refund to the wallet.

Every movement is one balanced ledger transaction (asset CNY, amounts in fen):

| movement              | member legs                               | system legs                                   |
|-----------------------|-------------------------------------------|-----------------------------------------------|
| top-up confirmed      | MEMBER_WALLET +amount, WALLET_BONUS +bonus | WALLET_FLOAT −amount, WALLET_BONUS_FUND −bonus |
| pay from the wallet   | MEMBER_WALLET −p, WALLET_BONUS −b         | WALLET_SPENT(merchant) +(p + b)               |
| refund to the wallet  | MEMBER_WALLET +p, WALLET_BONUS +b         | WALLET_SPENT(merchant) −(p + b)               |
| top-up refunded       | MEMBER_WALLET −amount, WALLET_BONUS −claw  | WALLET_FLOAT +amount, WALLET_BONUS_FUND +claw  |
| … paid out in cash    | MEMBER_WALLET −amount, WALLET_BONUS −claw  | WALLET_CASH_PAYOUT +amount, BONUS_FUND +claw   |
| balance refund, rest  | MEMBER_WALLET −rest                        | WALLET_CASH_PAYOUT +rest                       |

A cash top-up at the service desk (services.cash) is a top-up whose gateway is the desk: credited like any other
(the first row) at once up to GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN, above it only when a second person approves.

System accounts are never locked or updated (their balance is NULL and derived by aggregation); member accounts
are locked through ledger.services.lock_member_accounts, always before the wallet's own rows (TopUp,
WalletPayment), so every use case takes its locks in the same order. The split rules are in rules.py.

`*_in_tx` functions run inside the caller's use-case transaction with the member's wallet accounts already locked
(sales: lock MEMBER_POINTS and the two WALLET_KINDS in ONE lock_member_accounts call). The other functions are
durable use cases of their own, except wallet_topup_confirm_in_tx, which takes its own locks inside the caller's
transaction (the payments app confirms a top-up in the transaction that records the gateway's notification).
"""

from __future__ import annotations

from .balance_refunds import wallet_balance_refund_decide, wallet_balance_refund_request
from .cash import wallet_topup_cash, wallet_topup_cash_decide
from .payments import wallet_pay, wallet_pay_in_tx, wallet_refund, wallet_refund_in_tx
from .topups import (
    CashDesk,
    wallet_topup_confirm,
    wallet_topup_confirm_in_tx,
    wallet_topup_refund,
    wallet_topup_refund_send,
    wallet_topup_start,
)

__all__ = [
    "CashDesk",
    "wallet_balance_refund_decide",
    "wallet_balance_refund_request",
    "wallet_pay",
    "wallet_pay_in_tx",
    "wallet_refund",
    "wallet_refund_in_tx",
    "wallet_topup_cash",
    "wallet_topup_cash_decide",
    "wallet_topup_confirm",
    "wallet_topup_confirm_in_tx",
    "wallet_topup_refund",
    "wallet_topup_refund_send",
    "wallet_topup_start",
]
