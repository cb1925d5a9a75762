from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "galleria.members"
    label = "members"
