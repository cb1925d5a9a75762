from django.urls import path

from .views import (
    adjustments,
    audit,
    auth,
    dashboard,
    finance,
    member_actions,
    member_loyalty,
    members,
    merchants,
    points,
    pos_keys,
    staff,
    tiers,
    two_step,
)

app_name = "console"

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("login/verify/", auth.login_verify, name="login_verify"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("security/two-step/", two_step.two_step, name="two_step"),
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
    path("members/<int:member_id>/points/", member_loyalty.member_points_history, name="member_points"),
    path("members/<int:member_id>/sales/<int:sale_id>/", member_loyalty.member_sale, name="member_sale"),
    path("members/<int:member_id>/tier/", member_actions.member_tier_override, name="member_tier_override"),
    path("members/<int:member_id>/points/adjust/", member_actions.member_points_adjust, name="member_points_adjust"),
    # loyalty: points rules, tiers, adjustments
    path("loyalty/points/", points.points_rules, name="points_rules"),
    path("loyalty/points/policy/", points.policy_edit, name="points_policy"),
    path("loyalty/points/simulate/", points.points_simulate, name="points_simulate"),
    path("loyalty/points/rules/new/", points.rule_new, name="earn_rule_new"),
    path("loyalty/points/rules/<int:rule_id>/edit/", points.rule_edit, name="earn_rule_edit"),
    path("loyalty/points/rules/<int:rule_id>/toggle/", points.rule_toggle, name="earn_rule_toggle"),
    path("loyalty/points/campaigns/new/", points.campaign_new, name="campaign_new"),
    path("loyalty/points/campaigns/<int:campaign_id>/edit/", points.campaign_edit, name="campaign_edit"),
    path("loyalty/points/campaigns/<int:campaign_id>/toggle/", points.campaign_toggle, name="campaign_toggle"),
    path("loyalty/points/behaviour/<slug:event>/", points.behaviour_edit, name="behaviour_edit"),
    path("loyalty/tiers/", tiers.tiers, name="tiers"),
    path("loyalty/tiers/default/", tiers.tiers_default, name="tiers_default"),
    path("loyalty/tiers/settings/", tiers.tiers_settings, name="tiers_settings"),
    path("loyalty/tiers/<int:level_id>/edit/", tiers.tier_level_edit, name="tier_level_edit"),
    path("loyalty/adjustments/", adjustments.adjustments, name="adjustments"),
    path("loyalty/adjustments/<int:adjustment_id>/decide/", adjustments.adjustment_decide, name="adjustment_decide"),
    # merchants and stores
    path("merchants/", merchants.merchant_list_view, name="merchants"),
    path("merchants/new/", merchants.merchant_new, name="merchant_new"),
    path("merchants/<int:merchant_id>/", merchants.merchant_detail, name="merchant_detail"),
    path("merchants/<int:merchant_id>/edit/", merchants.merchant_edit, name="merchant_edit"),
    path("merchants/<int:merchant_id>/stores/", merchants.store_new, name="store_new"),
    path("merchants/<int:merchant_id>/stores/<int:store_id>/edit/", merchants.store_edit, name="store_edit"),
    # POS terminals and API keys
    path("merchants/<int:merchant_id>/pos/terminals/", pos_keys.pos_terminal_add, name="pos_terminal_add"),
    path("merchants/<int:merchant_id>/pos/terminals/<int:terminal_id>/keys/", pos_keys.pos_key_add, name="pos_key_add"),
    path("pos/keys/", pos_keys.pos_key_list_view, name="pos_keys"),
    path("pos/keys/<int:key_pk>/revoke/", pos_keys.pos_key_revoke_view, name="pos_key_revoke"),
    # finance
    path("finance/liabilities/", finance.liabilities_view, name="liabilities"),
    path("finance/liabilities/merchants.csv", finance.liabilities_export, name="liabilities_export"),
    # staff and audit
    path("staff/", staff.staff_list_view, name="staff"),
    path("staff/new/", staff.staff_new, name="staff_new"),
    path("staff/<int:user_id>/edit/", staff.staff_edit, name="staff_edit"),
    path("staff/<int:user_id>/two-step/reset/", two_step.staff_two_step_reset, name="staff_two_step_reset"),
    path("audit/", audit.audit_log, name="audit"),
]
