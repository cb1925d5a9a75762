"""What each role may do. Data, not code paths: the interfaces ask `can(scope, perm)`."""

from __future__ import annotations

from .models import Role

# Console (mall group) permissions
MEMBERS_VIEW = "members.view"  # search, 360 view with masked phone
MEMBERS_VIEW_PII = "members.view_pii"  # unmasked phone / birthday / email (audited)
MEMBERS_EDIT = "members.edit"  # register at the desk, edit profile, identifiers
MERCHANTS_VIEW = "merchants.view"
MERCHANTS_EDIT = "merchants.edit"
STAFF_MANAGE = "staff.manage"
AUDIT_VIEW = "audit.view"
DASHBOARD_VIEW = "dashboard.view"
# Merchant portal permissions
PORTAL_VIEW = "portal.view"
PORTAL_PROFILE_EDIT = "portal.profile_edit"
PORTAL_MEMBER_LOOKUP = "portal.member_lookup"
PORTAL_STAFF_MANAGE = "portal.staff_manage"
PORTAL_POS_MANAGE = "portal.pos_manage"  # POS terminals and their API keys
# Platform
PLATFORM_ADMIN = "platform.admin"

_CONSOLE_READ = {MEMBERS_VIEW, MERCHANTS_VIEW, DASHBOARD_VIEW}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PLATFORM_ADMIN: frozenset(
        _CONSOLE_READ | {MEMBERS_VIEW_PII, MEMBERS_EDIT, MERCHANTS_EDIT, STAFF_MANAGE, AUDIT_VIEW, PLATFORM_ADMIN}
    ),
    Role.GROUP_ADMIN: frozenset(
        _CONSOLE_READ | {MEMBERS_VIEW_PII, MEMBERS_EDIT, MERCHANTS_EDIT, STAFF_MANAGE, AUDIT_VIEW}
    ),
    Role.MARKETING: frozenset(_CONSOLE_READ),
    Role.SERVICE: frozenset(_CONSOLE_READ | {MEMBERS_VIEW_PII, MEMBERS_EDIT}),
    Role.FINANCE: frozenset(_CONSOLE_READ | {AUDIT_VIEW}),
    Role.READONLY: frozenset(_CONSOLE_READ),
    Role.MERCHANT_OWNER: frozenset(
        {PORTAL_VIEW, PORTAL_PROFILE_EDIT, PORTAL_MEMBER_LOOKUP, PORTAL_STAFF_MANAGE, PORTAL_POS_MANAGE}
    ),
    Role.MERCHANT_MANAGER: frozenset({PORTAL_VIEW, PORTAL_PROFILE_EDIT, PORTAL_MEMBER_LOOKUP, PORTAL_POS_MANAGE}),
    Role.MERCHANT_CLERK: frozenset({PORTAL_VIEW, PORTAL_MEMBER_LOOKUP}),
}
