from django.contrib import admin
from django.urls import include, path

from .console.views import root

urlpatterns = [
    path("", root, name="root"),
    path("console/", include("galleria.interfaces.console.urls")),
    path("merchant/", include("galleria.interfaces.merchant.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]
