from django.urls import path

from .views import audit, auth, dashboard, members, merchants, staff

app_name = "console"

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("", dashboard.home, name="home"),
    # members
    path("members/", members.member_list, name="members"),
    path("members/new/", members.member_new, name="member_new"),
    path("members/export.csv", members.member_export, name="members_export"),
    path("members/<int:member_id>/", members.member_detail, name="member_detail"),
    path("members/<int:member_id>/edit/", members.member_edit, name="member_edit"),
    path("members/<int:member_id>/phone/", members.member_phone, name="member_phone"),
    path("members/<int:member_id>/identifiers/", members.member_identifier_add_view, name="member_identifier_add"),
    path(
        "members/<int:member_id>/identifiers/<int:identifier_id>/remove/",
        members.member_identifier_remove_view,
        name="member_identifier_remove",
    ),
    # merchants and stores
    path("merchants/", merchants.merchant_list_view, name="merchants"),
    path("merchants/new/", merchants.merchant_new, name="merchant_new"),
    path("merchants/<int:merchant_id>/", merchants.merchant_detail, name="merchant_detail"),
    path("merchants/<int:merchant_id>/edit/", merchants.merchant_edit, name="merchant_edit"),
    path("merchants/<int:merchant_id>/stores/", merchants.store_new, name="store_new"),
    path("merchants/<int:merchant_id>/stores/<int:store_id>/edit/", merchants.store_edit, name="store_edit"),
    # staff and audit
    path("staff/", staff.staff_list_view, name="staff"),
    path("staff/new/", staff.staff_new, name="staff_new"),
    path("staff/<int:user_id>/edit/", staff.staff_edit, name="staff_edit"),
    path("audit/", audit.audit_log, name="audit"),
]
