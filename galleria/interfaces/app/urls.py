from django.urls import include, path

from . import coupon_views, home, loyalty_views, pay_views, receipt_views, screens, views

app_name = "app"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("code/", home.code, name="code"),
    path("profile/", views.profile, name="profile"),
    path("profile/plates/", views.plate_add, name="plate_add"),
    path("profile/plates/<int:identifier_id>/remove/", views.plate_remove, name="plate_remove"),
    path("points/", loyalty_views.points, name="points"),
    path("points/checkin/", loyalty_views.checkin, name="checkin"),
    path("tier/", loyalty_views.tier, name="tier"),
    path("wallet/", loyalty_views.wallet, name="wallet"),
    path("wallet/topup/", loyalty_views.topup_start, name="topup_start"),
    path("wallet/topups/<int:topup_id>/pay/", loyalty_views.topup_pay, name="topup_pay"),
    path("purchases/", screens.purchases_moved, name="purchases"),
    path("bills/", screens.bills, name="bills"),
    path("bills/<int:sale_id>/", screens.bill_detail, name="bill"),
    path("merchants/", screens.merchants, name="merchants"),
    path("merchants/<int:merchant_id>/", screens.merchant, name="merchant"),
    path("inbox/", screens.inbox, name="inbox"),
    path("inbox/read-all/", screens.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:message_id>/", screens.inbox_message, name="inbox_message"),
    path("images/<int:image_id>/<str:sha256>/", screens.image, name="image"),
    path("coupons/", coupon_views.coupons, name="coupons"),
    path("coupons/<int:coupon_id>/", coupon_views.coupon_detail, name="coupon_detail"),
    path("coupons/centre/", coupon_views.claim_centre, name="claim_centre"),
    path("coupons/centre/<int:template_id>/claim/", coupon_views.claim, name="coupon_claim"),
    path("receipts/", receipt_views.receipts, name="receipts"),
    path("receipts/<int:receipt_id>/", receipt_views.receipt, name="receipt"),
    path("receipts/<int:receipt_id>/state/", receipt_views.receipt_state, name="receipt_state"),
    path("receipts/<int:receipt_id>/image/", receipt_views.receipt_image, name="receipt_image"),
    path("pay/", pay_views.pay_home, name="pay"),
    path("pay/s/<int:store_id>/", pay_views.pay_store, name="pay_store"),
    path("pay/s/<int:store_id>/quote/", pay_views.pay_quote, name="pay_quote"),
    path("payments/<str:key>/", pay_views.payment, name="payment"),
    path("payments/<str:key>/state/", pay_views.payment_state, name="payment_state"),
    path("", include("galleria.interfaces.app.urls_privacy")),
]
