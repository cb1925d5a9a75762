"""Console URLs: after-sales requests escalated to the mall and their arbitration, and the reviews' moderation
(docs/design/online-mall.md §7, §9)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import online_arbitration as v
from .views import online_reviews

urlpatterns: list[URLPattern] = [
    path("online-mall/after-sales/", v.online_returns, name="online_returns"),
    path("online-mall/after-sales/<int:request_id>/", v.online_return, name="online_return"),
    path("online-mall/reviews/", online_reviews.online_reviews, name="online_reviews"),
    path("online-mall/reviews/<int:review_id>/hide/", online_reviews.online_review_hide, name="online_review_hide"),
]
