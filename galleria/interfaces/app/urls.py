from django.urls import path

from . import views

app_name = "app"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("code/", views.code, name="code"),
    path("profile/", views.profile, name="profile"),
    path("profile/plates/", views.plate_add, name="plate_add"),
    path("profile/plates/<int:identifier_id>/remove/", views.plate_remove, name="plate_remove"),
]
