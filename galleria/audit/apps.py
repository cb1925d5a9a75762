from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "galleria.audit"
    label = "audit"
