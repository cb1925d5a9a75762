"""What every console view shares: the permission gate in the mall's time zone, paging, errors onto forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.accounts.types import Scope
from galleria.audit.models import AuditEvent
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import django_errors, scope_of, staff_view
from galleria.merchants.selectors import mall_list

from .audit_text import audit_labels as audit_labels
from .audit_text import change_rows as change_rows
from .audit_text import mask_value as mask_value
from .audit_text import target_type_labels as target_type_labels
from .audit_text import value_labels as value_labels

F = TypeVar("F", bound=Callable[..., HttpResponseBase])

PAGE_SIZE = 25

# Stable error codes → translatable messages. Services raise English text; the console shows these instead.
ERROR_MESSAGES: dict[str, Promise] = {
    "merchants.name_taken": _("A merchant with this name already exists in this mall."),
    "merchants.unit_taken": _("This merchant already has a store in this unit."),
    "members.phone_invalid": _("Enter a valid mobile phone number."),
    "members.phone_taken": _("This phone number already belongs to a member."),
    "members.identifier_taken": _("This identifier already belongs to another member."),
    "members.plate_taken": _(
        "This plate is bound to another member. If the member shows the vehicle licence (行驶证), tick “vehicle "
        "licence seen” to verify it for them: it moves from the other member, who is told."
    ),
    "members.plate_invalid": _("Enter a valid licence plate, e.g. 粤B12345 or 粤BD12345."),
    "members.plate_limit": _("A member can bind at most 5 licence plates."),
    "members.card_invalid": _("A physical card number is 4–32 letters or digits."),
    "members.wechat_id_invalid": _("A WeChat id is 10–64 letters, digits, - or _."),
    "members.identifier_kind_invalid": _("This kind of identifier cannot be added by hand."),
    "members.identifier_required": _("The phone and the member card number cannot be removed."),
    "members.identifier_not_found": _("This identifier is no longer on this member."),
    "members.name_too_long": _("A name has at most 50 characters."),
    "members.birthday_invalid": _("Enter a birthday between 1900 and today."),
    "members.gender_invalid": _("Choose a gender from the list."),
    "members.channel_invalid": _("Unknown join channel."),
    "staff.username_taken": _("This username is taken."),
    "staff.role_invalid": _("Choose a role from the list."),
    "staff.group_required": _("A mall group role needs a mall group."),
    "staff.merchant_required": _("Choose the merchant this person works for."),
    "staff.merchant_invalid": _("Choose the merchant this person works for."),
    "staff.self_change": _("You cannot change your own role or deactivate yourself."),
    "forbidden": _("Your role does not allow this change."),
    "points.approval_same_person": _("You requested this adjustment: a second person must approve it."),
    "points.adjustment_decided": _("This adjustment was already approved or rejected."),
    "sale.merchant_unknown": _("Choose a merchant of this mall group."),
    "tiers.override_invalid": _("The override needs a reason and an end date that is not in the past."),
    "tiers.level_unknown": _("There is no such tier in this mall group."),
    "tiers.member_unknown": _("There is no such active member."),
}

ACTION_LABELS: dict[str, Promise] = {
    "member.register": _("Registered"),
    "member.view": _("Viewed the member record"),
    "member.view_pii": _("Revealed personal data"),
    "member.export": _("Exported members"),
    "member.update": _("Edited the profile"),
    "member.phone_change": _("Changed the phone"),
    "member.identifier_add": _("Added an identifier"),
    "member.identifier_remove": _("Removed an identifier"),
    "member.consent": _("Recorded a consent"),
    "merchant.create": _("Created the merchant"),
    "merchant.update": _("Edited the merchant"),
    "store.save": _("Saved a store"),
    "pos_terminal.create": _("Added a POS terminal"),
    "pos_key.create": _("Created a POS API key"),
    "pos_key.revoke": _("Revoked a POS API key"),
    "staff.create": _("Created a staff account"),
    "staff.update": _("Edited a staff account"),
    "points.policy_save": _("Saved the points policy"),
    "points.rule_save": _("Saved an earn rule"),
    "points.campaign_save": _("Saved a points campaign"),
    "points.behaviour_save": _("Saved behaviour points"),
    "points.adjust_request": _("Requested a points adjustment"),
    "points.adjust_approve": _("Approved a points adjustment"),
    "points.adjust_reject": _("Rejected a points adjustment"),
    "wallet.refund_request": _("Refunded wallet money (or asked to)"),
    "wallet.refund_approve": _("Approved a wallet refund"),
    "wallet.refund_reject": _("Rejected a wallet refund"),
    "wallet.cash_topup_request": _("Took cash for the wallet (or asked for approval)"),
    "wallet.cash_topup_approve": _("Approved a cash top-up"),
    "wallet.cash_topup_reject": _("Rejected a cash top-up"),
    # payments through the gateways, 商圈 points, reconciliation and settlement
    "payment.refund": _("Refunded an app payment"),
    "parking.pay": _("Paid for parking"),
    "parking.auto_pay": _("Changed the frictionless exit"),
    "parking.grant": _("Granted parking hours to a plate"),
    "parking.grant_revoke": _("Revoked a parking grant"),
    "parking.grant_allowance": _("Set a merchant's parking grant allowance"),
    "parking.car_park_save": _("Saved a car park"),
    "parking.zone_save": _("Saved a car-park zone"),
    "parking.zone_remove": _("Removed a car-park zone"),
    "parking.gate_save": _("Saved a car-park gate"),
    "parking.gate_remove": _("Removed a car-park gate"),
    "parking.tariff_create": _("Added a parking tariff version"),
    "parking.tariff_withdraw": _("Withdrew a scheduled parking tariff"),
    "parking.stay_close": _("Closed a parking stay by hand"),
    "parking.stay_view": _("Viewed a parking stay's plate"),
    "parking.unpaid_settled": _("Marked an unpaid exit as settled outside Galleria"),
    "parking.unpaid_written_off": _("Wrote off an unpaid exit"),
    "parking.export": _("Exported a parking report"),
    "parking_key.create": _("Issued a car-park API key"),
    "parking_key.revoke": _("Revoked a car-park API key"),
    "payments.credential_save": _("Saved a payment gateway account"),
    "payments.profile_save": _("Saved a merchant's payment profile"),
    "payments.oauth_app_save": _("Saved the WeChat web authorisation"),
    "payments.mall_resync": _("Reported 商圈 points to WeChat again"),
    "reconcile.run": _("Reconciled a gateway bill"),
    "reconcile.resolve": _("Resolved a reconciliation finding"),
    "reconcile.fix": _("Fixed a reconciliation finding"),
    "reconcile.share_action": _("Acted on a profit-sharing order"),
    "settlement.generate": _("Generated merchant statements"),
    "settlement.confirm": _("Confirmed a statement (merchant)"),
    "settlement.dispute": _("Disputed a statement (merchant)"),
    "settlement.approve": _("Approved a statement"),
    "settlement.pay": _("Recorded a statement's payment"),
    "tier.override": _("Overrode the tier"),
    "tier.level_save": _("Saved a tier"),
    "tier.settings_save": _("Saved the tier settings"),
    "tier.ladder_default": _("Created the default tier ladder"),
    "auth.login": _("Signed in"),
    "auth.login_failed": _("Failed sign-in"),
    "auth.two_step_failed": _("Wrong 2-step code"),
    "auth.locked": _("Sign-in locked after failures"),
    "auth.ip_blocked": _("IP address blocked after failed sign-ins"),
    "auth.two_step_enable": _("Turned on 2-step sign-in"),
    "auth.two_step_disable": _("Turned off 2-step sign-in"),
    "auth.two_step_reset": _("Reset 2-step sign-in"),
    "auth.recovery_code_used": _("Signed in with a recovery code"),
    "auth.recovery_codes_renew": _("Created new recovery codes"),
    # member data: import, merge, privacy; the member app's content
    "member.merge": _("Merged a duplicate member"),
    "member.unmerge": _("Undid a merge"),
    "member.merge_sweep": _("Moved late postings to the survivor"),
    "member.pair_dismissed": _("Dismissed a duplicate pair"),
    "member.pair_reported": _("Reported a duplicate pair"),
    "member.erase": _("Erased personal data"),
    "import.upload": _("Uploaded a member file"),
    "import.start": _("Started a member import"),
    "import.resume": _("Resumed a member import"),
    "import.finish": _("Finished a member import"),
    "import.download": _("Downloaded an import result"),
    "privacy.erasure_request": _("Requested erasure"),
    "privacy.erasure_cancel": _("Cancelled an erasure request"),
    "privacy.erasure_blocked": _("Erasure held back"),
    "privacy.export": _("Exported a member's data"),
    "privacy.export_download": _("Downloaded a data export"),
    "content.image_upload": _("Uploaded an image"),
    "content.layout_publish": _("Published the app home layout"),
    "inbox.send": _("Sent an inbox message"),
    "member.lookup": _("Looked up a member at the counter"),
    "sale.counter_record": _("Recorded a sale at the merchant counter"),
    "sale.counter_refund": _("Refunded a sale at the merchant counter"),
    # receipt-photo points
    "receipt.upload": _("Uploaded a receipt photo"),
    "receipt.submit": _("Submitted a receipt for points"),
    "receipt.approve": _("Approved a receipt"),
    "receipt.reject": _("Rejected a receipt"),
    "receipt.reverse": _("Reversed an approved receipt"),
    "receipt.settings": _("Changed the receipt rules"),
    "receipt.alias_add": _("Added a receipt name for a merchant"),
    "receipt.alias_remove": _("Removed a receipt name of a merchant"),
    "receipt.block": _("Blocked a member from receipt points"),
    "receipt.unblock": _("Unblocked a member for receipt points"),
    # coupons and promotions
    "coupon_template.create": _("Created a coupon"),
    "coupon_template.update": _("Edited a coupon"),
    "coupon_template.draft": _("Set a coupon back to draft"),
    "coupon_template.active": _("Started issuing a coupon"),
    "coupon_template.paused": _("Paused a coupon"),
    "coupon_template.ended": _("Ended a coupon"),
    "coupon.grant": _("Granted a coupon"),
    "coupon.grant_batch": _("Granted coupons in bulk"),
    "coupon.redeem": _("Redeemed a coupon"),
    "coupon.void": _("Voided a coupon"),
    "coupon.export": _("Exported coupons"),
    "promotion.create": _("Created a promotion"),
    "promotion.draft": _("Set a promotion back to draft"),
    "promotion.active": _("Started a promotion"),
    "promotion.paused": _("Paused a promotion"),
    "promotion.ended": _("Ended a promotion"),
    "parking.pay_start": _("Started paying for parking at a payment gateway"),
    "member.plate_verified": _("Verified a licence plate"),
    "member.plate_released": _("A plate moved to the member who proved it"),
    "parking.plate_claim": _("Sent a vehicle licence photo"),
    "parking.plate_claim_approve": _("Accepted a vehicle licence photo"),
    "parking.plate_claim_reject": _("Did not accept a vehicle licence photo"),
    "parking.plate_claim_withdraw": _("Withdrew a vehicle licence photo"),
    # points mall (docs/points-mall.md)
    "points_mall.settings_save": _("Saved the points mall settings"),
    "points_mall.category_save": _("Saved a points mall category"),
    "points_mall.item_create": _("Created a points mall item"),
    "points_mall.item_update": _("Edited a points mall item"),
    "points_mall.item_image": _("Changed a points mall item's picture"),
    "points_mall.stock_adjust": _("Adjusted a points mall item's stock"),
    "points_mall.exchange": _("Exchanged points in the points mall"),
    "points_mall.pay_start": _("Started paying a points mall exchange at a payment gateway"),
    "points_mall.cancel": _("Cancelled a points mall order"),
    "points_mall.ship": _("Shipped a points mall order"),
    "points_mall.hand_over": _("Handed over a points mall gift at the desk"),
    "points_mall.export": _("Exported points mall orders"),
    # online mall catalogue (docs/design/online-mall.md)
    "online_mall.settings_save": _("Saved the online mall settings"),
    "online_mall.shop_save": _("Saved an online shop's settings"),
    "online_mall.category_save": _("Saved an online mall category"),
    "online_mall.category_icon": _("Changed an online mall category's icon"),
    "online_mall.product_create": _("Created an online mall product"),
    "online_mall.product_update": _("Edited an online mall product"),
    "online_mall.product_skus": _("Changed an online mall product's options and SKUs"),
    "online_mall.product_image": _("Changed an online mall product's pictures"),
    "online_mall.product_publish": _("Put an online mall product on sale"),
    "online_mall.product_unpublish": _("Took an online mall product off sale"),
    "online_mall.product_block": _("Took down an online mall product (mall)"),
    "online_mall.product_unblock": _("Lifted the takedown of an online mall product"),
    "online_mall.shelf_save": _("Saved an online mall shelf"),
    "online_mall.shelf_items": _("Changed the products on an online mall shelf"),
    "online_mall.stock_set": _("Counted an online mall SKU's stock"),
    "online_mall.stock_adjust": _("Adjusted an online mall SKU's stock"),
    "online_mall.place": _("Placed an online mall order"),
    "online_mall.paid": _("An online mall order was paid"),
    "online_mall.cancel_unpaid": _("Cancelled an unpaid online mall order"),
    "online_mall.order_cancel": _("Cancelled a paid online mall order (refunded)"),
    "online_mall.order_ready": _("Marked an online mall order ready for pickup"),
    "online_mall.hand_over": _("Handed over an online mall order (pickup code)"),
    "online_mall.ship": _("Shipped an online mall order"),
    "online_mall.delivered": _("An online mall order was delivered"),
    "online_mall.completed": _("An online mall order completed (earned points released)"),
    "online_mall.return_request": _("Asked for an online mall refund or return"),
    "online_mall.return_accept": _("Accepted an online mall after-sales request"),
    "online_mall.return_reject": _("Rejected an online mall after-sales request"),
    "online_mall.return_receive": _("Received returned goods and refunded (online mall)"),
    "online_mall.return_withdraw": _("Withdrew an online mall after-sales request"),
    "online_mall.return_escalate": _("An online mall after-sales request went to the mall"),
    "online_mall.return_refund": _("The mall decided a refund (online mall after-sales)"),
    "online_mall.return_close": _("The mall closed an online mall after-sales request"),
    "online_mall.review": _("Reviewed an online mall purchase"),
    "online_mall.review_reply": _("Replied to an online mall review"),
    "online_mall.review_hide": _("Hid an online mall review"),
    "online_mall.review_show": _("Showed a hidden online mall review again"),
    # events (docs/events.md)
    "event.create": _("Created an event"),
    "event.update": _("Edited an event"),
    "event.poster": _("Changed an event's poster"),
    "event.policy_save": _("Saved the events' no-show rule"),
    "event.register": _("Registered for an event"),
    "event.offer": _("Offered a freed event seat to the waiting list"),
    "event.confirm": _("Confirmed an offered event seat"),
    "event.pay_start": _("Started paying for an event seat"),
    "event.question_save": _("Added an event registration question"),
    "event.question_delete": _("Removed an event registration question"),
    "event.cancel": _("Cancelled an event registration"),
    "event.lapse": _("An offered event seat lapsed"),
    "event.check_in": _("Checked a member in at an event"),
    "event.export": _("Exported event registrations"),
    # member services (docs/amenities.md)
    "amenity.desk_save": _("Saved a service desk"),
    "amenity.item_save": _("Saved a rental item"),
    "amenity.stock_adjust": _("Adjusted rental stock at a desk"),
    "amenity.lend": _("Lent an item at the service desk"),
    "amenity.return": _("Took back a lent item"),
    "amenity.lost": _("Marked a lent item lost"),
    "amenity.offering_save": _("Saved a member service"),
    "amenity.hours_save": _("Saved a member service's hours"),
    "amenity.book": _("Booked a member service"),
    "amenity.booking_confirm": _("Confirmed a service booking"),
    "amenity.booking_decline": _("Declined a service booking"),
    "amenity.booking_done": _("Marked a service booking done"),
    "amenity.booking_no_show": _("Marked a service booking as a no-show"),
    "amenity.booking_cancel": _("Cancelled a service booking"),
    # audience (docs/marketing.md)
    "audience.settings": _("Changed the lifecycle days or the RFM window"),
    "audience.rebuild": _("Asked to recompute the member profiles"),
    "audience.tag_group": _("Saved a tag group"),
    "audience.tag_save": _("Saved a manual tag"),
    "audience.tag_archive": _("Archived a manual tag"),
    "audience.tag_members": _("Gave a manual tag to members"),
    "audience.tag_member_remove": _("Took a manual tag from a member"),
    "audience.segment_save": _("Saved a segment"),
    "audience.segment_archive": _("Archived a segment"),
    "audience.segment_export": _("Exported a segment's members"),
    # campaigns (docs/marketing.md)
    "campaign.save": _("Saved a campaign draft"),
    "campaign.schedule": _("Scheduled a campaign"),
    "campaign.start": _("A campaign started sending"),
    "campaign.cancel": _("Cancelled a campaign"),
    "campaign.settings": _("Changed the quiet hours, weekly cap or SMS price"),
    # journeys (docs/marketing.md, "Journeys")
    "journey.save": _("Saved a journey draft"),
    "journey.publish": _("Published a journey version"),
    "journey.pause": _("Paused a journey"),
    "journey.resume": _("Resumed a journey"),
    "journey.stop": _("Stopped a journey"),
    # webhooks (docs/api.md, "Webhooks")
    "webhook.endpoint_create": _("Created a webhook endpoint"),
    "webhook.endpoint_update": _("Changed a webhook endpoint"),
    "webhook.endpoint_enable": _("Turned a webhook endpoint on"),
    "webhook.endpoint_disable": _("Turned a webhook endpoint off"),
    "webhook.endpoint_auto_disable": _("A failing webhook endpoint was turned off automatically"),
    "webhook.endpoint_test": _("Sent a test event to a webhook endpoint"),
    "webhook.delivery_replay": _("Sent a webhook event again"),
    # staff API tokens (docs/api.md, "Tokens")
    "api_token.create": _("Created a staff API token"),
    "api_token.revoke": _("Revoked a staff API token"),
    # games (docs/games.md)
    "game.create": _("Created a marketing game"),
    "game.update": _("Edited a marketing game"),
    "game.prize_save": _("Saved a game prize"),
    "game.prize_delete": _("Removed a game prize"),
    "game.publish": _("Published a game and its seed hash"),
    "game.end": _("Ended a game and revealed its seed"),
    "game.gift_pickup": _("Handed over a game gift"),
    "game.streak_rule": _("Saved the check-in streak rewards"),
    "recommendations.switches_changed": _("Changed the recommendation blocks"),
    "recommendations.train": _("Trained the recommendation model"),
}
# Headings of the audit log's action menu, by the part of the action before the dot.
ACTION_GROUPS: dict[str, Promise] = {
    "auth": _("Sign-in"),
    "member": _("Members"),
    "import": _("Imports"),
    "privacy": _("Privacy"),
    "merchant": _("Merchants"),
    "store": _("Stores"),
    "pos_terminal": _("POS terminals"),
    "pos_key": _("POS API keys"),
    "staff": _("Staff"),
    "points": _("Points"),
    "tier": _("Tiers"),
    "coupon_template": _("Coupons"),
    "coupon": _("Member coupons"),
    "promotion": _("Promotions"),
    "wallet": _("Wallet"),
    "content": _("App home layout"),
    "inbox": _("Inbox messages"),
    "sale": _("Sales"),
    "receipt": _("Receipts"),
    "payment": _("App payments"),
    "payments": _("Payments"),
    "reconcile": _("Reconciliation"),
    "settlement": _("Settlement"),
    "parking": _("Parking"),
    "parking_key": _("Car-park API keys"),
    "points_mall": _("Points mall"),
    "online_mall": _("Online mall"),
    "event": _("Events"),
    "amenity": _("Member services"),
    "audience": _("Audience"),
    "campaign": _("Campaigns"),
    "journey": _("Journeys"),
    "webhook": _("Webhooks"),
    "api_token": _("API tokens"),
    "game": _("Games"),
    "recommendations": _("Recommendations"),
}


def console_tz(request: HttpRequest) -> str | None:
    """The scope's mall time zone when all its malls share one, else the default mall time zone (None)."""
    cached = getattr(request, "_console_tz", "")
    if cached != "":
        return cast(str | None, cached)
    scope = scope_of(request)
    malls = mall_list(mall_group_id=scope.mall_group_id).order_by()
    zones = set(malls.values_list("timezone", flat=True).distinct()[:2])
    tz_name = zones.pop() if len(zones) == 1 else None
    request._console_tz = tz_name  # type: ignore[attr-defined]
    return tz_name


def console_view(permission: str) -> Callable[[F], F]:
    """`staff_view(permission)` plus rendering in the mall's time zone (dates and times read as mall-local)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            with timezone.override(timeutil.zone(console_tz(request))):
                return cast(HttpResponse, view(request, *args, **kwargs))

        return cast(F, staff_view(permission)(wrapped))

    return decorator


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request for a fragment (not a boosted page load)."""
    details = getattr(request, "htmx", None)
    return bool(details) and not getattr(details, "boosted", False)


def page_of(request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE) -> tuple[Page[Any], str]:
    """The requested page (bad page numbers fall back to the first or last) and the query string without `page`."""
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()


def error_message(exc: ApplicationError) -> str:
    return str(ERROR_MESSAGES.get(exc.code, exc.message))


def add_application_error(form: forms.Form, exc: ApplicationError) -> None:
    """Put a service's error on the fields it names (or on the form when it names none the form has)."""
    message = error_message(exc)
    placed = False
    for name in exc.fields:
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, message)


def add_django_error(
    form: forms.Form, exc: DjangoValidationError, *, unique_field: str = "", unique_message: str | Promise = ""
) -> None:
    """Errors from a model's full_clean(): field errors inline; a violated unique constraint on `unique_field`."""
    if hasattr(exc, "error_dict") and unique_field:
        for error in exc.error_dict.get(NON_FIELD_ERRORS, []):
            if getattr(error, "code", None) in ("unique_together", "unique"):
                form.add_error(unique_field, str(unique_message))
                exc.error_dict[NON_FIELD_ERRORS] = [e for e in exc.error_dict[NON_FIELD_ERRORS] if e is not error]
        if not exc.error_dict.get(NON_FIELD_ERRORS):
            exc.error_dict.pop(NON_FIELD_ERRORS, None)
        if not exc.error_dict:
            return
    for name, message in django_errors(exc).items():
        form.add_error(name if name in form.fields else None, message)


def bp_percent(basis_points: int) -> str:
    """800 → "8.00%" (exact: basis points are hundredths of a percent)."""
    return f"{basis_points // 100}.{basis_points % 100:02d}%"


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@dataclass(frozen=True)
class TrailEntry:
    """One line of an object's history; repeated views by the same person in a row fold into one line."""

    event: AuditEvent
    changes: list[tuple[str, str]]
    count: int = 1
    first_at: dt.datetime | None = None

    @property
    def label(self) -> str:
        return action_label(self.event.action)


def trail(events: Iterable[AuditEvent], scope: Scope) -> list[TrailEntry]:
    labels = audit_labels()
    out: list[TrailEntry] = []
    for event in events:
        last = out[-1] if out else None
        if (
            last is not None
            and not event.changes
            and not last.event.changes
            and last.event.action == event.action
            and last.event.actor_label == event.actor_label
        ):
            out[-1] = TrailEntry(last.event, last.changes, last.count + 1, event.at)
            continue
        out.append(TrailEntry(event, change_rows(event.changes, scope, labels, target_type=event.target_type)))
    return out
