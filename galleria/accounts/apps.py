from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "galleria.accounts"
    label = "accounts"
