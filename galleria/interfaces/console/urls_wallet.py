"""Console URLs of the wallet area (included into the console namespace by console/urls.py)."""

from django.urls import URLPattern, path

from .views import wallet

urlpatterns: list[URLPattern] = [
    path("members/<int:member_id>/wallet/refund/", wallet.member_wallet_refund, name="member_wallet_refund"),
    path("wallet/refunds/", wallet.wallet_refunds, name="wallet_refunds"),
    path("wallet/refunds/<int:refund_id>/decide/", wallet.wallet_refund_decide, name="wallet_refund_decide"),
]
