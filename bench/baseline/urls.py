from django.urls import path

from . import views

urlpatterns = [path("bench/write", views.write)]
