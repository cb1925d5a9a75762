"""Marketing e-mail links (public): /m/<token>/o.gif (open), /m/<token>/c (click), /m/<token>/unsubscribe.
campaigns.services.TRACK_PATH names the prefix."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import marketing_views as v

app_name = "marketing"
urlpatterns: list[URLPattern] = [
    path("<str:token>/o.gif", v.opened, name="opened"),
    path("<str:token>/c", v.clicked, name="clicked"),
    path("<str:token>/unsubscribe", v.unsubscribe, name="unsubscribe"),
]
