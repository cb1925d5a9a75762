from django.apps import AppConfig


class InterfacesConfig(AppConfig):
    name = "galleria.interfaces"
    label = "interfaces"
