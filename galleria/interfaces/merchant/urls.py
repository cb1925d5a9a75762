from django.urls import path

from . import views

app_name = "merchant"

urlpatterns = [
    path("", views.home, name="home"),
    path("lookup/", views.lookup, name="lookup"),
    path("profile/", views.profile, name="profile"),
    path("profile/stores/<int:store_id>/phone/", views.store_phone, name="store_phone"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/active/", views.staff_active, name="staff_active"),
]
