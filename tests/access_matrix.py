"""Who may do what, URL by URL: the declared access matrix that tests/test_permission_matrix.py enforces.

Every URL pattern of the project (console, merchant portal, member app, every API operation, the Django admin,
i18n) has an entry here, keyed by its namespaced name (`console:member_detail`), by `api:<METHOD> <path>` for an
API operation, or by `<namespace>:<route>` for an unnamed pattern. An entry gives a concrete URL built from the
evidence world (objects of 喜茶 = merchant A and of the 星河 group, so an out-of-scope principal — 优衣库's owner,
the 海岸城 group's admin, a POS terminal of another merchant — must get a 404), and for every principal the outcome
of a GET and of a POST (or, for an API operation, of its one method).

Adding a URL? Add an entry: the matrix test fails for a pattern without one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from .evidence_world import MEMBER_PHONE, PLATE, SALE_ID, EvidenceWorld

# ---------------------------------------------------------------- principals

ANONYMOUS = "anonymous"
MEMBER = "member"  # signed in to the member app; owns the world's plate, sale and top-up
OTHER_MEMBER = "other-member"  # another member of the same group
CLERK_A = "heytea-clerk"
OWNER_A = "heytea-owner"
OWNER_B = "uniqlo-owner"
GROUP_ROLES = ("admin", "marketing", "service", "finance", "viewer")
FOREIGN_ADMIN = "coastal-admin"
ROOT = "root"
POS_A = "pos-heytea"  # a signed terminal of 喜茶
POS_B = "pos-uniqlo"  # a signed terminal of 优衣库 (same group)
POS_FOREIGN = "pos-coastal"  # a signed terminal of another group's merchant

MEMBERS = (MEMBER, OTHER_MEMBER)
MERCHANT_STAFF = (CLERK_A, OWNER_A, OWNER_B)
STAFF = (*MERCHANT_STAFF, *GROUP_ROLES, FOREIGN_ADMIN, ROOT)
PRINCIPALS = (ANONYMOUS, *MEMBERS, *STAFF)  # every URL
POS_PRINCIPALS = (POS_A, POS_B, POS_FOREIGN)  # POS API operations only
ALL_CONSOLE = frozenset({*GROUP_ROLES, ROOT})

# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    """kind: ok | any | login | redirect | forbidden | not_found | not_allowed | status | problem."""

    kind: str
    target: str = ""  # login page or redirect target (path prefix)
    status: int = 0  # problem status
    code: str = ""  # problem code ("" = any code)

    def __str__(self) -> str:
        if self.kind == "problem":
            return f"{self.status} problem+json {self.code or '*'}"
        return f"{self.kind} {self.target}".strip()

    @property
    def allowed(self) -> bool:
        return self.kind in ("ok", "any") or (self.kind == "redirect" and self.target == "")


OK = Outcome("ok")  # GET: 2xx/3xx that is not a sign-in redirect; POST: not denied (< 500, not 401/403/404/405)
ANY = Outcome("any")  # public or owned by another change in flight: only "never a 5xx"
FORBIDDEN = Outcome("forbidden")  # 403 page
NOT_FOUND: Outcome = Outcome("not_found")  # 404
NOT_ALLOWED: Outcome = Outcome("not_allowed")  # 405 (POST-only views answer GET so, for everyone)
LOGIN_CONSOLE = Outcome("login", "/console/login/")
LOGIN_APP = Outcome("login", "/app/login/")
LOGIN_ADMIN = Outcome("login", "/django-admin/login/")
UNAUTHORIZED = Outcome("problem", status=401, code="auth.required")
API_FORBIDDEN = Outcome("problem", status=403, code="auth.forbidden")


def redirect(target: str) -> Outcome:
    """A denial that sends the caller elsewhere without touching anything (e.g. another member's plate)."""
    return Outcome("redirect", target)


def status(code: int) -> Outcome:
    return Outcome("status", status=code)


def problem(status: int, code: str) -> Outcome:
    return Outcome("problem", status=status, code=code)


Access = dict[str, Outcome]
UrlFn = Callable[[EvidenceWorld], str]
BodyFn = Callable[[EvidenceWorld], Any]


@dataclass(frozen=True)
class Entry:
    url: UrlFn
    get: Access | None  # None: no GET check (API operation with another method)
    post: Access | None
    post_data: BodyFn | None = None
    method: str = ""  # API operations: the operation's method (checked with `post` access)
    json: bool = False  # body sent as JSON (API) rather than a form
    note: str = ""


def _for(principals: Iterable[str], outcome: Outcome) -> Access:
    return dict.fromkeys(principals, outcome)


# ---------------------------------------------------------------- audiences


def console(allowed: Iterable[str], *, scoped: bool = False) -> Access:
    """A console view: anyone signed out (members are not staff) goes to the console sign-in; merchant staff and
    group roles without the permission get a 403; the foreign group's admin gets a 404 for an object of the 星河
    group (scoped) and the page of their own group otherwise."""
    allow = set(allowed)
    access = _for((ANONYMOUS, *MEMBERS), LOGIN_CONSOLE)
    access |= _for(MERCHANT_STAFF, FORBIDDEN)
    access |= {role: OK if role in allow else FORBIDDEN for role in (*GROUP_ROLES, ROOT)}
    access[FOREIGN_ADMIN] = (NOT_FOUND if scoped else OK) if "admin" in allow else FORBIDDEN
    return access


def portal(allowed: Iterable[str], *, scoped: bool = False) -> Access:
    """A merchant portal view: mall and platform staff get a 403 (portal only); 优衣库's owner gets a 404 for an
    object of 喜茶 (scoped) and their own merchant's page otherwise."""
    allow = set(allowed)
    access = _for((ANONYMOUS, *MEMBERS), LOGIN_CONSOLE)
    access |= _for((*GROUP_ROLES, FOREIGN_ADMIN, ROOT), FORBIDDEN)
    access[CLERK_A] = OK if "clerk" in allow else FORBIDDEN
    access[OWNER_A] = OK if "owner" in allow else FORBIDDEN
    access[OWNER_B] = (NOT_FOUND if scoped else OK) if "owner" in allow else FORBIDDEN
    return access


def app(*, other_member: Outcome = OK) -> Access:
    """A member app page: only a signed-in member; staff sessions are not member sessions."""
    access = _for((ANONYMOUS, *STAFF), LOGIN_APP)
    access[MEMBER] = OK
    access[OTHER_MEMBER] = other_member
    return access


def public(outcome: Outcome = OK) -> Access:
    return _for(PRINCIPALS, outcome)


def everyone(outcome: Outcome, *, pos: bool = False) -> Access:
    return _for((*PRINCIPALS, *(POS_PRINCIPALS if pos else ())), outcome)


def admin_site(root: Outcome = OK) -> Access:
    """Django admin: only `is_staff` users (the platform admin); everyone else is sent to the admin sign-in."""
    access = _for((ANONYMOUS, *MEMBERS, *STAFF), LOGIN_ADMIN)
    access[ROOT] = root
    return access


def api_console(allowed: Iterable[str], *, foreign: Outcome = OK, foreign_if_denied: Outcome = API_FORBIDDEN) -> Access:
    allow = set(allowed)
    access = _for((ANONYMOUS, *MEMBERS), UNAUTHORIZED)
    access |= _for(MERCHANT_STAFF, API_FORBIDDEN)
    access |= {role: OK if role in allow else API_FORBIDDEN for role in (*GROUP_ROLES, ROOT)}
    access[FOREIGN_ADMIN] = foreign if "admin" in allow else foreign_if_denied
    return access


def api_merchant() -> Access:
    access = _for((ANONYMOUS, *MEMBERS), UNAUTHORIZED)
    access |= _for((*GROUP_ROLES, FOREIGN_ADMIN, ROOT), API_FORBIDDEN)
    access |= _for(MERCHANT_STAFF, OK)
    return access


def api_member(*, other_member: Outcome = OK) -> Access:
    access = _for((ANONYMOUS, *STAFF), UNAUTHORIZED)
    access[MEMBER] = OK
    access[OTHER_MEMBER] = other_member
    return access


def api_pos(*, uniqlo: Outcome = OK, coastal: Outcome = OK) -> Access:
    """POS operations: only a signed terminal; a staff or member session is not a signature."""
    access = _for(PRINCIPALS, UNAUTHORIZED)
    access[POS_A] = OK
    access[POS_B] = uniqlo
    access[POS_FOREIGN] = coastal
    return access


def page(access: Access, *, post: Access | None = None, data: BodyFn | None = None, note: str = "") -> Callable:
    """A page that answers GET (and POST the same way unless `post` says otherwise)."""

    def make(url: UrlFn) -> Entry:
        return Entry(url=url, get=access, post=post if post is not None else access, post_data=data, note=note)

    return make


def action(access: Access, *, data: BodyFn | None = None, note: str = "") -> Callable:
    """A POST-only view (@require_POST): GET is 405 for everyone, before any sign-in check."""

    def make(url: UrlFn) -> Entry:
        return Entry(url=url, get=public(NOT_ALLOWED), post=access, post_data=data, note=note)

    return make


def op(method: str, access: Access, *, body: BodyFn | None = None, note: str = "") -> Callable:
    def make(url: UrlFn) -> Entry:
        return Entry(url=url, get=None, post=access, post_data=body, method=method, json=True, note=note)

    return make


def r(name: str, *args: Callable[[EvidenceWorld], Any]) -> UrlFn:
    return lambda ew: reverse(name, args=[a(ew) for a in args])


# ---------------------------------------------------------------- objects the URLs name

member_id = lambda ew: ew.member.pk  # noqa: E731
merchant_a = lambda ew: ew.world.merchant.pk  # noqa: E731
store_a = lambda ew: ew.world.store.pk  # noqa: E731
terminal_a = lambda ew: ew.terminals["pos-heytea"].terminal.pk  # noqa: E731
key_a = lambda ew: ew.terminals["pos-heytea"].key.pk  # noqa: E731

EDITORS = {"admin", "marketing", ROOT}  # loyalty.edit
DESK = {"admin", "service", ROOT}  # members.edit / members.view_pii / points.adjust
APPROVERS = {"admin", "finance", ROOT}  # points.approve, finance.view, audit.view
ADMINS = {"admin", ROOT}  # merchants.edit, staff.manage, pos.manage
OWNERS: set[str] = {"owner"}  # portal staff / POS management / profile edit (managers too; not tested here)
MERCHANT_ALL = {"clerk", "owner"}


# ---------------------------------------------------------------- coupons (objects made on first use, no audit trace)


def _coupon_template(ew: EvidenceWorld, *, merchant: bool = False) -> Any:
    import datetime as dt

    from django.utils import timezone

    from galleria.coupons.models import CouponTemplate

    now = timezone.now()
    template, _created = CouponTemplate.objects.get_or_create(
        mall_group=ew.world.group,
        name="evidence-merchant-coupon" if merchant else "evidence-coupon",
        defaults={
            "kind": "cash_off",
            "value_fen": 500,
            "status": "active",
            "validity_kind": "fixed",
            "valid_from": now - dt.timedelta(days=1),
            "valid_until": now + dt.timedelta(days=30),
            "merchant": ew.world.merchant if merchant else None,
            "funder": "merchant" if merchant else "mall",
        },
    )
    return template


def _coupon(ew: EvidenceWorld) -> Any:
    from django.utils import timezone

    from galleria.coupons.models import Coupon

    template = _coupon_template(ew)
    coupon, _created = Coupon.objects.get_or_create(
        template=template,
        source_key="evidence-grant",
        defaults={
            "mall_group": ew.world.group,
            "member": ew.member,
            "code": "EVDNCE2345678923",
            "valid_from": template.valid_from,
            "valid_until": template.valid_until,
            "source": "grant",
            "issued_at": timezone.now(),
        },
    )
    return coupon


def _grant_batch(ew: EvidenceWorld) -> Any:
    from galleria.coupons.models import GrantBatch

    batch, _created = GrantBatch.objects.get_or_create(
        mall_group=ew.world.group,
        idempotency_key="evidence-batch",
        defaults={"template": _coupon_template(ew), "member_ids": [ew.member.pk], "total": 1},
    )
    return batch


def _promotion(ew: EvidenceWorld) -> Any:
    import datetime as dt

    from django.utils import timezone

    from galleria.coupons.models import Promotion

    now = timezone.now()
    promotion, _created = Promotion.objects.get_or_create(
        mall_group=ew.world.group,
        name="evidence-promotion",
        defaults={
            "kind": "spend_threshold",
            "value_fen": 1000,
            "threshold_fen": 10000,
            "starts_at": now,
            "ends_at": now + dt.timedelta(days=7),
        },
    )
    return promotion


coupon_template = lambda ew: _coupon_template(ew).pk  # noqa: E731
merchant_coupon_template = lambda ew: _coupon_template(ew, merchant=True).pk  # noqa: E731
GRANTERS = {"admin", "marketing", "service", ROOT}  # coupons.grant


def _sale_body(ew: EvidenceWorld, pos_sale_id: str = "EVID-NEW-1") -> dict[str, Any]:
    return {
        "pos_sale_id": pos_sale_id,
        "member": MEMBER_PHONE,
        "lines": [{"sku": "T1", "name": "多肉葡萄", "quantity": 1, "unit_price_fen": 1900, "amount_fen": 1900}],
        "payments": [{"method": "cash", "amount_fen": 1900}],
    }


def _quote_body(ew: EvidenceWorld) -> dict[str, Any]:
    body = _sale_body(ew)
    del body["pos_sale_id"]
    return body


MATRIX_HTML: dict[str, Entry] = {
    "root": page(public(ANY), note="sends staff to their area, others to the console sign-in")(lambda ew: "/"),
    # sign-in, sign-out and password change are being reworked (2-step): public/any here, owned there
    "console:login": page(public(ANY))(r("console:login")),
    "console:logout": page(public(ANY))(r("console:logout")),
    "console:password_change": page(public(ANY))(r("console:password_change")),
    "console:login_verify": page(public(ANY))(r("console:login_verify")),
    "console:two_step": page(public(ANY))(r("console:two_step")),
    "django-admin/login/": page(public(ANY), note="the admin signs in through the console's sign-in")(
        lambda ew: "/django-admin/login/"
    ),
    "console:home": page(console(ALL_CONSOLE))(r("console:home")),
    # members
    "console:members": page(console(ALL_CONSOLE))(r("console:members")),
    "console:member_new": page(console(DESK))(r("console:member_new")),
    "console:members_export": page(console(ALL_CONSOLE))(r("console:members_export")),
    "console:member_detail": page(console(ALL_CONSOLE, scoped=True))(r("console:member_detail", member_id)),
    "console:member_edit": page(console(DESK, scoped=True))(r("console:member_edit", member_id)),
    "console:member_phone": action(console(DESK, scoped=True))(r("console:member_phone", member_id)),
    "console:member_identifier_add": action(console(DESK, scoped=True))(r("console:member_identifier_add", member_id)),
    "console:member_identifier_remove": action(console(DESK, scoped=True))(
        r("console:member_identifier_remove", member_id, lambda ew: ew.plate.pk)
    ),
    "console:member_points": page(console(ALL_CONSOLE, scoped=True))(r("console:member_points", member_id)),
    "console:member_sale": page(console(ALL_CONSOLE, scoped=True))(
        r("console:member_sale", member_id, lambda ew: ew.sale.pk)
    ),
    "console:member_tier_override": action(console(EDITORS, scoped=True))(r("console:member_tier_override", member_id)),
    "console:member_points_adjust": action(console(DESK, scoped=True))(r("console:member_points_adjust", member_id)),
    # loyalty
    "console:points_rules": page(console(ALL_CONSOLE))(r("console:points_rules")),
    "console:points_policy": page(console(EDITORS))(r("console:points_policy")),
    "console:points_simulate": page(
        {**console(ALL_CONSOLE), FOREIGN_ADMIN: status(400)},
        note="a merchant outside the group is not a valid choice: 400 with the form error, no result",
    )(
        lambda ew: (
            reverse("console:points_simulate") + f"?merchant={ew.world.merchant.pk}&amount=128.00&at=2026-06-01T12:00"
        )
    ),
    "console:earn_rule_new": page(console(EDITORS))(r("console:earn_rule_new")),
    "console:earn_rule_edit": page(console(EDITORS, scoped=True))(r("console:earn_rule_edit", lambda ew: ew.rule.pk)),
    "console:earn_rule_toggle": action(console(EDITORS, scoped=True))(
        r("console:earn_rule_toggle", lambda ew: ew.rule.pk)
    ),
    "console:campaign_new": page(console(EDITORS))(r("console:campaign_new")),
    "console:campaign_edit": page(console(EDITORS, scoped=True))(r("console:campaign_edit", lambda ew: ew.campaign.pk)),
    "console:campaign_toggle": action(console(EDITORS, scoped=True))(
        r("console:campaign_toggle", lambda ew: ew.campaign.pk)
    ),
    "console:behaviour_edit": page(console(EDITORS))(r("console:behaviour_edit", lambda ew: "checkin")),
    "console:tiers": page(console(ALL_CONSOLE))(r("console:tiers")),
    "console:tiers_default": action(console(EDITORS))(r("console:tiers_default")),
    "console:tiers_settings": action(console(EDITORS))(r("console:tiers_settings")),
    "console:tier_level_edit": page(console(EDITORS, scoped=True))(
        r("console:tier_level_edit", lambda ew: ew.tier_level.pk)
    ),
    "console:adjustments": page(console(APPROVERS))(r("console:adjustments")),
    "console:adjustment_decide": action(console(APPROVERS, scoped=True))(
        r("console:adjustment_decide", lambda ew: ew.adjustment.pk)
    ),
    # merchants, stores, POS credentials
    "console:merchants": page(console(ALL_CONSOLE))(r("console:merchants")),
    "console:merchant_new": page(console(ADMINS))(r("console:merchant_new")),
    "console:merchant_detail": page(console(ALL_CONSOLE, scoped=True))(r("console:merchant_detail", merchant_a)),
    "console:merchant_edit": page(console(ADMINS, scoped=True))(r("console:merchant_edit", merchant_a)),
    "console:store_new": action(console(ADMINS, scoped=True))(r("console:store_new", merchant_a)),
    "console:store_edit": page(console(ADMINS, scoped=True))(r("console:store_edit", merchant_a, store_a)),
    "console:pos_terminal_add": action(console(ADMINS, scoped=True))(r("console:pos_terminal_add", merchant_a)),
    "console:pos_key_add": action(console(ADMINS, scoped=True))(r("console:pos_key_add", merchant_a, terminal_a)),
    "console:pos_keys": page(console(ADMINS))(r("console:pos_keys")),
    "console:pos_key_revoke": page(console(ADMINS, scoped=True))(r("console:pos_key_revoke", key_a)),
    # finance, staff, audit
    "console:liabilities": page(console(APPROVERS))(r("console:liabilities")),
    "console:liabilities_export": page(console(APPROVERS))(r("console:liabilities_export")),
    "console:staff": page(console(ADMINS))(r("console:staff")),
    "console:staff_new": page(console(ADMINS))(r("console:staff_new")),
    "console:staff_edit": page(console(ADMINS, scoped=True))(
        r("console:staff_edit", lambda ew: ew.users["marketing"].pk)
    ),
    "console:staff_two_step_reset": action(console(ADMINS, scoped=True))(
        r("console:staff_two_step_reset", lambda ew: ew.users["marketing"].pk)
    ),
    "console:audit": page(console(APPROVERS))(r("console:audit")),
    # coupons and promotions
    "console:coupon_templates": page(console(ALL_CONSOLE))(r("console:coupon_templates")),
    "console:coupon_template_new": page(console(EDITORS))(r("console:coupon_template_new")),
    "console:coupon_preview": action(console(EDITORS))(r("console:coupon_preview")),
    "console:coupon_template": page(console(ALL_CONSOLE, scoped=True))(r("console:coupon_template", coupon_template)),
    "console:coupon_template_edit": page(console(EDITORS, scoped=True))(
        r("console:coupon_template_edit", coupon_template)
    ),
    "console:coupon_template_status": action(console(EDITORS, scoped=True))(
        r("console:coupon_template_status", coupon_template)
    ),
    "console:coupon_template_export": page(console(ALL_CONSOLE, scoped=True))(
        r("console:coupon_template_export", coupon_template)
    ),
    "console:coupon_template_grant": action(console(GRANTERS, scoped=True))(
        r("console:coupon_template_grant", coupon_template)
    ),
    "console:coupon_grant_batch_new": page(console(EDITORS, scoped=True))(
        r("console:coupon_grant_batch_new", coupon_template)
    ),
    "console:coupon_grant_batch": page(console(ALL_CONSOLE, scoped=True))(
        r("console:coupon_grant_batch", lambda ew: _grant_batch(ew).pk)
    ),
    "console:member_coupons": page(console(ALL_CONSOLE, scoped=True), post=console(GRANTERS, scoped=True))(
        r("console:member_coupons", member_id)
    ),
    "console:promotions": page(console(ALL_CONSOLE))(r("console:promotions")),
    "console:promotion_new": page(console(EDITORS))(r("console:promotion_new")),
    "console:promotion_status": action(console(EDITORS, scoped=True))(
        r("console:promotion_status", lambda ew: _promotion(ew).pk)
    ),
    # merchant portal (objects of 喜茶)
    "merchant:home": page(portal(MERCHANT_ALL))(r("merchant:home")),
    "merchant:lookup": page(portal(MERCHANT_ALL))(r("merchant:lookup")),
    "merchant:profile": page(portal(MERCHANT_ALL), post=portal(OWNERS))(r("merchant:profile")),
    "merchant:store_phone": action(portal(OWNERS, scoped=True))(r("merchant:store_phone", store_a)),
    "merchant:staff": page(portal(OWNERS))(r("merchant:staff")),
    "merchant:staff_active": action(portal(OWNERS, scoped=True))(
        r("merchant:staff_active", lambda ew: ew.users["heytea-clerk"].pk)
    ),
    "merchant:pos": page(portal(OWNERS))(r("merchant:pos")),
    "merchant:pos_terminal_add": action(portal(OWNERS))(r("merchant:pos_terminal_add")),
    "merchant:pos_key_add": action(portal(OWNERS, scoped=True))(r("merchant:pos_key_add", terminal_a)),
    "merchant:pos_key_revoke": page(portal(OWNERS, scoped=True))(r("merchant:pos_key_revoke", key_a)),
    "merchant:coupons": page(portal(OWNERS))(r("merchant:coupons")),
    "merchant:coupon_new": page(portal(OWNERS))(r("merchant:coupon_new")),
    "merchant:coupon_preview": action(portal(OWNERS))(r("merchant:coupon_preview")),
    "merchant:coupon_edit": page(portal(OWNERS, scoped=True))(r("merchant:coupon_edit", merchant_coupon_template)),
    "merchant:coupon_status": action(portal(OWNERS, scoped=True))(
        r("merchant:coupon_status", merchant_coupon_template)
    ),
    "merchant:coupon_verify": page(portal(MERCHANT_ALL))(r("merchant:coupon_verify")),
    # member app (the member owns the plate and the top-up; another member is turned away, nothing said or done)
    "app:home": page(app())(r("app:home")),
    "app:login": page(public(ANY))(r("app:login")),
    "app:logout": action(public(ANY))(r("app:logout")),
    "app:code": page(app())(r("app:code")),
    "app:profile": page(app())(r("app:profile")),
    "app:plate_add": action(app())(r("app:plate_add")),
    "app:plate_remove": action(app(other_member=redirect("/app/profile/")))(
        r("app:plate_remove", lambda ew: ew.plate.pk)
    ),
    "app:points": page(app())(r("app:points")),
    "app:checkin": action(app())(r("app:checkin")),
    "app:tier": page(app())(r("app:tier")),
    "app:wallet": page(app())(r("app:wallet")),
    "app:topup_start": action(app())(r("app:topup_start")),
    "app:topup_pay": page(app(other_member=redirect("/app/wallet/")))(r("app:topup_pay", lambda ew: ew.topup.pk)),
    "app:purchases": page(everyone(status(301)))(r("app:purchases")),  # moved to app:bills (permanent redirect)
    "app:coupons": page(app())(r("app:coupons")),
    "app:coupon_detail": page(app(other_member=redirect("/app/coupons/")))(
        r("app:coupon_detail", lambda ew: _coupon(ew).pk)
    ),
    "app:claim_centre": page(app())(r("app:claim_centre")),
    "app:coupon_claim": action(app())(r("app:coupon_claim", coupon_template)),
    "set_language": page(public(ANY), data=lambda ew: {"language": "en", "next": "/app/"})(r("set_language")),
    # the API's own pages: the OpenAPI document and its docs are public by design (docs/api.md)
    "api:openapi-json": page(public(OK), note="answers POST like GET (read-only)")(r("api:openapi-json")),
    "api:openapi-view": page(public(OK), note="answers POST like GET (read-only)")(r("api:openapi-view")),
    "api:api-root": page(public(NOT_FOUND))(r("api:api-root")),
}


def _admin_model(
    app_label: str, model: str, obj: Callable[[EvidenceWorld], Any], *, read_only: bool = False
) -> dict[str, Entry]:
    """A registered ModelAdmin's URLs; a read-only one refuses add, delete and change (POST) even to root."""
    prefix = f"admin:{app_label}_{model}"
    base = f"/django-admin/{app_label}/{model}/"
    write = admin_site(root=FORBIDDEN) if read_only else admin_site()
    return {
        f"{prefix}_changelist": page(admin_site())(r(f"{prefix}_changelist")),
        f"{prefix}_add": page(write)(r(f"{prefix}_add")),
        f"{prefix}_history": page(admin_site())(r(f"{prefix}_history", obj)),
        f"{prefix}_delete": page(write)(r(f"{prefix}_delete", obj)),
        f"{prefix}_change": page(admin_site(), post=write)(r(f"{prefix}_change", obj)),
        # the bare object URL redirects (staff only) to its change page
        f"admin:{app_label}/{model}/<path:object_id>/": page(admin_site())(
            lambda ew, base=base, obj=obj: f"{base}{obj(ew)}/"
        ),
    }


MISSING_TASK = "00000000-0000-0000-0000-000000000000"

MATRIX_ADMIN: dict[str, Entry] = {
    "admin:index": page(admin_site())(r("admin:index")),
    "admin:login": page(public(ANY))(r("admin:login")),
    "admin:logout": page(
        {**_for(PRINCIPALS, redirect("/django-admin/")), ROOT: NOT_ALLOWED},
        post={**_for(PRINCIPALS, redirect("/django-admin/")), ROOT: OK},
        note="non-staff are sent to the admin index (then its sign-in); sign-out is POST only",
    )(r("admin:logout")),
    "admin:password_change": page(admin_site())(r("admin:password_change")),
    "admin:password_change_done": page(admin_site(), post=admin_site(root=NOT_ALLOWED))(
        r("admin:password_change_done")
    ),
    "admin:autocomplete": page(
        admin_site(root=FORBIDDEN),
        post=admin_site(root=NOT_ALLOWED),
        note="no model has autocomplete fields: 403 for the bare request",
    )(r("admin:autocomplete")),
    "admin:jsi18n": page(admin_site(), post=admin_site(root=NOT_ALLOWED))(r("admin:jsi18n")),
    "admin:view_on_site": page(admin_site(root=NOT_FOUND), note="no admin model has a public URL")(
        lambda ew: reverse(
            "admin:view_on_site", args=[ContentType.objects.get_for_model(type(ew.auth_group)).pk, ew.auth_group.pk]
        )
    ),
    "admin:app_list": page(admin_site())(lambda ew: reverse("admin:app_list", kwargs={"app_label": "auth"})),
    "admin:(?P<url>.*)$": page(admin_site(root=NOT_FOUND))(lambda ew: "/django-admin/no-such-page/"),
    **_admin_model("auth", "group", lambda ew: ew.auth_group.pk),
    **_admin_model("django_tasks_database", "dbtaskresult", lambda ew: MISSING_TASK, read_only=True),
}

MATRIX_API: dict[str, Entry] = {
    # POS: signed terminals only; 优衣库's terminal cannot see or refund 喜茶's sale; another group's terminal
    # cannot find the 星河 member
    "api:GET /pos/members/lookup": op("GET", api_pos(coastal=problem(404, "members.not_found")))(
        lambda ew: f"/api/v1/pos/members/lookup?code={MEMBER_PHONE}"
    ),
    "api:POST /pos/quote": op("POST", api_pos(coastal=problem(404, "members.not_found")), body=_quote_body)(
        lambda ew: "/api/v1/pos/quote"
    ),
    "api:POST /pos/sales": op("POST", api_pos(coastal=problem(404, "members.not_found")), body=_sale_body)(
        lambda ew: "/api/v1/pos/sales"
    ),
    "api:GET /pos/sales": op("GET", api_pos(coastal=problem(404, "members.not_found")))(
        lambda ew: f"/api/v1/pos/sales?member={MEMBER_PHONE}"
    ),
    "api:POST /pos/sales/{pos_sale_id}/refunds": op(
        "POST",
        api_pos(uniqlo=problem(404, "sale.not_found"), coastal=problem(404, "sale.not_found")),
        body=lambda ew: {"pos_refund_id": "EVID-R1", "lines": None},
    )(lambda ew: f"/api/v1/pos/sales/{SALE_ID}/refunds"),
    "api:POST /pos/sales/offline": op(
        "POST", api_pos(), body=lambda ew: {"sales": [_sale_body(ew, "EVID-OFF-1")]}, note="per-sale errors inside"
    )(lambda ew: "/api/v1/pos/sales/offline"),
    # standalone coupon check and redemption: signed terminals only (a code that does not exist is 404 for each
    # of them; what a real coupon gives is tested in galleria/interfaces/tests/test_pos_coupons.py)
    "api:GET /pos/coupons/{code}": op(
        "GET",
        api_pos(coastal=problem(404, "coupon.not_found"), uniqlo=problem(404, "coupon.not_found"))
        | {POS_A: problem(404, "coupon.not_found")},
    )(lambda ew: "/api/v1/pos/coupons/NOSUCHCOUPON0000"),
    "api:POST /pos/coupons/{code}/redeem": op(
        "POST",
        api_pos(coastal=problem(404, "coupon.not_found"), uniqlo=problem(404, "coupon.not_found"))
        | {POS_A: problem(404, "coupon.not_found")},
    )(lambda ew: "/api/v1/pos/coupons/NOSUCHCOUPON0000/redeem"),
    "api:GET /pos/sales/{pos_sale_id}": op(
        "GET", api_pos(uniqlo=problem(404, "sale.not_found"), coastal=problem(404, "sale.not_found"))
    )(lambda ew: f"/api/v1/pos/sales/{SALE_ID}"),
    # member app API: the signed-in member's own data only
    "api:POST /app/otp/request": op("POST", public(OK), body=lambda ew: {"phone": "13600003333"})(
        lambda ew: "/api/v1/app/otp/request"
    ),
    "api:POST /app/otp/verify": op(
        "POST",
        public(problem(422, "otp.invalid")),
        body=lambda ew: {"phone": "13600003333", "code": "000000", "accept_terms": True},
        note="sign-in itself: public; a wrong code is refused for everyone",
    )(lambda ew: "/api/v1/app/otp/verify"),
    "api:POST /app/logout": op("POST", api_member())(lambda ew: "/api/v1/app/logout"),
    "api:GET /app/me": op("GET", api_member())(lambda ew: "/api/v1/app/me"),
    "api:PATCH /app/me": op("PATCH", api_member(), body=lambda ew: {"name": "新名字"})(lambda ew: "/api/v1/app/me"),
    "api:GET /app/me/code": op("GET", api_member())(lambda ew: "/api/v1/app/me/code"),
    "api:POST /app/me/plates": op("POST", api_member(), body=lambda ew: {"plate": "粤B54321"})(
        lambda ew: "/api/v1/app/me/plates"
    ),
    "api:DELETE /app/me/plates/{plate}": op("DELETE", api_member(other_member=problem(404, "members.plate_not_bound")))(
        lambda ew: f"/api/v1/app/me/plates/{PLATE}"
    ),
    "api:GET /app/me/points": op("GET", api_member())(lambda ew: "/api/v1/app/me/points"),
    "api:POST /app/me/checkin": op("POST", api_member())(lambda ew: "/api/v1/app/me/checkin"),
    "api:GET /app/me/tier": op("GET", api_member())(lambda ew: "/api/v1/app/me/tier"),
    "api:GET /app/me/wallet": op("GET", api_member())(lambda ew: "/api/v1/app/me/wallet"),
    "api:POST /app/me/wallet/topups": op(
        "POST", api_member(), body=lambda ew: {"amount_fen": 10000, "provider": "wechat"}, note="no gateway: 422"
    )(lambda ew: "/api/v1/app/me/wallet/topups"),
    "api:GET /app/me/purchases": op("GET", api_member())(lambda ew: "/api/v1/app/me/purchases"),
    "api:GET /app/me/coupons": op("GET", api_member())(lambda ew: "/api/v1/app/me/coupons"),
    "api:GET /app/me/coupons/{coupon_id}": op("GET", api_member(other_member=problem(404, "coupon.not_found")))(
        lambda ew: f"/api/v1/app/me/coupons/{_coupon(ew).pk}"
    ),
    "api:GET /app/coupon-centre": op("GET", api_member())(lambda ew: "/api/v1/app/coupon-centre"),
    "api:POST /app/coupon-centre/{template_id}/claim": op("POST", api_member())(
        lambda ew: f"/api/v1/app/coupon-centre/{coupon_template(ew)}/claim"
    ),
    # staff API
    "api:GET /console/members": op("GET", api_console(ALL_CONSOLE))(lambda ew: "/api/v1/console/members?q=138"),
    "api:POST /console/members": op(
        "POST",
        api_console(DESK, foreign=problem(404, "malls.not_found")),
        body=lambda ew: {"phone": "13600004444", "mall_id": ew.world.mall.pk, "name": "新会员"},
    )(lambda ew: "/api/v1/console/members"),
    "api:GET /console/members/{member_id}": op("GET", api_console(ALL_CONSOLE, foreign=problem(404, "not_found")))(
        lambda ew: f"/api/v1/console/members/{ew.member.pk}"
    ),
    "api:POST /console/points/simulate": op(
        "POST",
        api_console(ALL_CONSOLE, foreign=problem(404, "merchants.not_found")),
        body=lambda ew: {"merchant_id": ew.world.merchant.pk, "lines": [{"amount_fen": 12800}]},
    )(lambda ew: "/api/v1/console/points/simulate"),
    "api:GET /merchant/members/lookup": op("GET", api_merchant())(
        lambda ew: f"/api/v1/merchant/members/lookup?code={MEMBER_PHONE}"
    ),
}

# Areas kept in their own files (each imports the helpers above, so these imports come last)
from .access_matrix_amenities import MATRIX_AMENITIES  # noqa: E402
from .access_matrix_analytics import MATRIX_ANALYTICS  # noqa: E402
from .access_matrix_audience import MATRIX_AUDIENCE  # noqa: E402
from .access_matrix_campaigns import MATRIX_CAMPAIGNS  # noqa: E402
from .access_matrix_content import MATRIX_CONTENT  # noqa: E402
from .access_matrix_counter import MATRIX_COUNTER  # noqa: E402
from .access_matrix_dedupe import MATRIX_DEDUPE  # noqa: E402
from .access_matrix_events import MATRIX_EVENTS  # noqa: E402
from .access_matrix_games import MATRIX_GAMES  # noqa: E402
from .access_matrix_imports import MATRIX_IMPORTS  # noqa: E402
from .access_matrix_journeys import MATRIX_JOURNEYS  # noqa: E402
from .access_matrix_mall_points import MATRIX_MALL_POINTS  # noqa: E402
from .access_matrix_messaging import MATRIX_MESSAGING  # noqa: E402
from .access_matrix_online_mall import MATRIX_ONLINE_MALL  # noqa: E402
from .access_matrix_online_orders_app import MATRIX_ONLINE_ORDERS_APP  # noqa: E402
from .access_matrix_online_orders_portal import MATRIX_ONLINE_ORDERS_PORTAL  # noqa: E402
from .access_matrix_parking import MATRIX_PARKING  # noqa: E402
from .access_matrix_payments import MATRIX_PAYMENTS  # noqa: E402
from .access_matrix_points_mall import MATRIX_POINTS_MALL  # noqa: E402
from .access_matrix_privacy import MATRIX_PRIVACY  # noqa: E402
from .access_matrix_receipts import MATRIX_RECEIPTS  # noqa: E402
from .access_matrix_recommendations import MATRIX_RECOMMENDATIONS  # noqa: E402
from .access_matrix_reconcile import MATRIX_RECONCILE  # noqa: E402
from .access_matrix_settlement import MATRIX_SETTLEMENT  # noqa: E402
from .access_matrix_wallet import MATRIX_WALLET  # noqa: E402
from .access_matrix_webhooks import MATRIX_WEBHOOKS  # noqa: E402

MATRIX: dict[str, Entry] = {
    **MATRIX_HTML,
    **MATRIX_ADMIN,
    **MATRIX_API,
    **MATRIX_ANALYTICS,
    **MATRIX_AMENITIES,
    **MATRIX_AUDIENCE,
    **MATRIX_CAMPAIGNS,
    **MATRIX_JOURNEYS,
    **MATRIX_CONTENT,
    **MATRIX_COUNTER,
    **MATRIX_DEDUPE,
    **MATRIX_IMPORTS,
    **MATRIX_PRIVACY,
    **MATRIX_WALLET,
    **MATRIX_RECEIPTS,
    **MATRIX_PAYMENTS,
    **MATRIX_SETTLEMENT,
    **MATRIX_MALL_POINTS,
    **MATRIX_RECONCILE,
    **MATRIX_PARKING,
    **MATRIX_POINTS_MALL,
    **MATRIX_ONLINE_MALL,
    **MATRIX_ONLINE_ORDERS_APP,
    **MATRIX_ONLINE_ORDERS_PORTAL,
    **MATRIX_EVENTS,
    **MATRIX_GAMES,
    **MATRIX_RECOMMENDATIONS,
    **MATRIX_MESSAGING,
    **MATRIX_WEBHOOKS,
}


def principals_of(key: str, entry: Entry) -> tuple[str, ...]:
    if key.startswith("api:") and " /pos/" in key:
        return (*PRINCIPALS, *POS_PRINCIPALS)
    return PRINCIPALS
