"""Console URLs: staff API tokens (docs/api.md, "Tokens")."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import api_tokens as v

urlpatterns: list[URLPattern] = [
    path("api-tokens/", v.api_tokens, name="api_tokens"),
    path("api-tokens/<int:token_id>/revoke/", v.api_token_revoke, name="api_token_revoke"),
]
