from django.urls import include, path

from . import counter, counter_sales, coupons, pos_views, views
from . import receipts as receipt_views

app_name = "merchant"

urlpatterns = [
    path("", views.home, name="home"),
    path("receipts/", receipt_views.receipts, name="receipts"),
    path("receipts/<int:receipt_id>/decide/", receipt_views.receipt_decide, name="receipt_decide"),
    path("receipts/<int:receipt_id>/image/", receipt_views.receipt_image, name="receipt_image"),
    path("lookup/", views.lookup, name="lookup"),
    path("profile/", views.profile, name="profile"),
    path("profile/stores/<int:store_id>/phone/", views.store_phone, name="store_phone"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/active/", views.staff_active, name="staff_active"),
    path("coupons/", coupons.coupons, name="coupons"),
    path("coupons/new/", coupons.coupon_new, name="coupon_new"),
    path("coupons/preview/", coupons.coupon_preview, name="coupon_preview"),
    path("coupons/<int:template_id>/edit/", coupons.coupon_edit, name="coupon_edit"),
    path("coupons/<int:template_id>/status/", coupons.coupon_status, name="coupon_status"),
    path("coupons/verify/", coupons.verify, name="coupon_verify"),
    path("counter/", counter.counter, name="counter"),
    path("counter/sales/", counter_sales.counter_sales, name="counter_sales"),
    path("counter/sales/<int:sale_id>/", counter_sales.counter_sale, name="counter_sale"),
    path("counter/sales/<int:sale_id>/refund/", counter_sales.counter_refund, name="counter_refund"),
    path("pos/", pos_views.pos, name="pos"),
    path("pos/terminals/", pos_views.pos_terminal_add, name="pos_terminal_add"),
    path("pos/terminals/<int:terminal_id>/keys/", pos_views.pos_key_add, name="pos_key_add"),
    path("pos/keys/<int:key_pk>/revoke/", pos_views.pos_key_revoke_view, name="pos_key_revoke"),
    path("", include("galleria.interfaces.merchant.urls_payments")),
    path("", include("galleria.interfaces.merchant.urls_settlement")),
    path("", include("galleria.interfaces.merchant.urls_parking")),
    path("", include("galleria.interfaces.merchant.urls_shop")),
    path("", include("galleria.interfaces.merchant.urls_shop_orders")),
]
