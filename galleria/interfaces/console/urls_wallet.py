"""Console URLs of the wallet area (included into the console namespace by console/urls.py)."""

from django.urls import URLPattern, path

from .views import wallet, wallet_topups

urlpatterns: list[URLPattern] = [
    path("members/<int:member_id>/wallet/refund/", wallet.member_wallet_refund, name="member_wallet_refund"),
    path("wallet/refunds/", wallet.wallet_refunds, name="wallet_refunds"),
    path("wallet/refunds/<int:refund_id>/decide/", wallet.wallet_refund_decide, name="wallet_refund_decide"),
    path(
        "members/<int:member_id>/wallet/cash-topup/",
        wallet_topups.member_wallet_cash_topup,
        name="member_wallet_cash_topup",
    ),
    path("wallet/cash-topups/", wallet_topups.wallet_cash_topups, name="wallet_cash_topups"),
    path(
        "wallet/cash-topups/<int:topup_id>/decide/",
        wallet_topups.wallet_cash_topup_decide,
        name="wallet_cash_topup_decide",
    ),
]
