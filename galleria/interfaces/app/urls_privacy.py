"""Member app URLs for privacy rights (consents, export, account deletion), included by app/urls.py."""

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
