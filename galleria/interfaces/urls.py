from django.contrib import admin
from django.urls import include, path

from .api.api import api
from .console.views import admin_login, root
from .payments_notify import payment_notify

urlpatterns = [
    path("", root, name="root"),
    path("console/", include("galleria.interfaces.console.urls")),
    path("merchant/", include("galleria.interfaces.merchant.urls")),
    path("app/", include("galleria.interfaces.app.urls")),
    path("m/", include("galleria.interfaces.app.urls_marketing")),  # marketing e-mail links (campaigns.TRACK_PATH)
    path("api/v1/", api.urls),
    path("pay/notify/<str:provider>/<int:credential_id>/", payment_notify, name="payment_notify"),
    path("hooks/", include("galleria.interfaces.hooks.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/login/", admin_login),  # staff sign in through ours (limits, 2-step)
    path("django-admin/", admin.site.urls),
]
