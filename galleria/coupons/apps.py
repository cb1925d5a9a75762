from django.apps import AppConfig


class CouponsConfig(AppConfig):
    name = "galleria.coupons"
    label = "coupons"
