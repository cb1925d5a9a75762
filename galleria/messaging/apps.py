from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "galleria.messaging"
    label = "messaging"
