from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "galleria.campaigns"
    label = "campaigns"
