from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "galleria.ledger"
    label = "ledger"
