from django.contrib import admin
from django.urls import include, path

from .api.api import api
from .console.views import root

urlpatterns = [
    path("", root, name="root"),
    path("console/", include("galleria.interfaces.console.urls")),
    path("merchant/", include("galleria.interfaces.merchant.urls")),
    path("app/", include("galleria.interfaces.app.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]
