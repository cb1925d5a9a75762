"""Console URLs of the content area (included into the console namespace by console/urls.py)."""

from django.urls import URLPattern, path

from .views import content

urlpatterns: list[URLPattern] = [
    path("content/home/", content.content_home, name="content_home"),
    path("content/home/preview/", content.content_home_preview, name="content_home_preview"),
    path("content/home/edit/", content.content_home_edit, name="content_home_edit"),
    path("content/home/publish/", content.content_home_publish, name="content_home_publish"),
    path("content/images/", content.content_image_upload, name="content_image_upload"),
    path("content/messages/", content.content_messages, name="content_messages"),
    path("content/messages/new/", content.content_message_new, name="content_message_new"),
]
