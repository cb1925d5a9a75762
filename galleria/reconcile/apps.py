from django.apps import AppConfig


class ReconcileConfig(AppConfig):
    name = "galleria.reconcile"
    label = "reconcile"
