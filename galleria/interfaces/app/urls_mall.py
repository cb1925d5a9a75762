"""Member app URLs: the online mall (小程序商城) — its home, search, a category, a product, and the pictures
(docs/design/online-mall.md §9); the cart, the checkout and its payment, and my orders."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import mall_after_sale_views as after
from . import mall_cart_views as cart
from . import mall_checkout_views as co
from . import mall_order_views as orders
from . import mall_views as v

urlpatterns: list[URLPattern] = [
    path("mall/", v.mall_home, name="mall"),
    path("mall/search/", v.mall_search, name="mall_search"),
    path("mall/c/<int:category_id>/", v.mall_category, name="mall_category"),
    path("mall/p/<int:product_id>/", v.mall_product, name="mall_product"),
    path("mall/images/<int:product_id>/<str:sha>/", v.mall_image, name="mall_image"),
    path("mall/icons/<int:category_id>/<str:sha>/", v.mall_icon, name="mall_icon"),
    path("mall/cart/", cart.mall_cart, name="mall_cart"),
    path("mall/cart/add/", cart.mall_cart_add, name="mall_cart_add"),
    path("mall/cart/update/", cart.mall_cart_update, name="mall_cart_update"),
    path("mall/checkout/", co.mall_checkout, name="mall_checkout"),
    path("mall/checkout/<str:number>/", co.mall_checkout_result, name="mall_checkout_result"),
    path("mall/checkout/<str:number>/state/", co.mall_checkout_state, name="mall_checkout_state"),
    path("mall/checkout/<str:number>/pay/", co.mall_checkout_pay, name="mall_checkout_pay"),
    path("mall/checkout/<str:number>/cancel/", co.mall_checkout_cancel, name="mall_checkout_cancel"),
    path("mall/orders/", orders.mall_orders, name="mall_orders"),
    path("mall/orders/<int:order_id>/", orders.mall_order, name="mall_order"),
    path("mall/orders/<int:order_id>/cancel/", orders.mall_order_cancel, name="mall_order_cancel"),
    path("mall/orders/<int:order_id>/receive/", orders.mall_order_receive, name="mall_order_receive"),
    path("mall/orders/<int:order_id>/after-sale/", after.mall_order_after_sale, name="mall_order_after_sale"),
    path(
        "mall/orders/<int:order_id>/returns/<int:request_id>/withdraw/",
        after.mall_return_withdraw,
        name="mall_return_withdraw",
    ),
    path(
        "mall/orders/<int:order_id>/returns/<int:request_id>/escalate/",
        after.mall_return_escalate,
        name="mall_return_escalate",
    ),
    path("mall/orders/<int:order_id>/lines/<int:line_id>/review/", after.mall_line_review, name="mall_line_review"),
]
