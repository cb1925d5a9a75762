from django.urls import include, path

urlpatterns = [
    path("", include("galleria.interfaces.urls")),
]
