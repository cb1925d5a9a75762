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
LOYALTY_VIEW = "loyalty.view"  # points rules, tiers, a member's points and tier (read)
LOYALTY_EDIT = "loyalty.edit"  # points policy, earn rules, campaigns, behaviour rules, tiers, tier override
POINTS_ADJUST = "points.adjust"  # request a customer-service points adjustment
POINTS_APPROVE = "points.approve"  # approve or reject adjustments above the policy's threshold
# Merchant portal permissions
PORTAL_VIEW = "portal.view"
PORTAL_PROFILE_EDIT = "portal.profile_edit"
PORTAL_MEMBER_LOOKUP = "portal.member_lookup"
PORTAL_STAFF_MANAGE = "portal.staff_manage"
PORTAL_POS_MANAGE = "portal.pos_manage"  # POS terminals and their API keys
# Platform
PLATFORM_ADMIN = "platform.admin"

_CONSOLE_READ = {MEMBERS_VIEW, MERCHANTS_VIEW, DASHBOARD_VIEW, LOYALTY_VIEW}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PLATFORM_ADMIN: frozenset(
        _CONSOLE_READ
        | {MEMBERS_VIEW_PII, MEMBERS_EDIT, MERCHANTS_EDIT, STAFF_MANAGE, AUDIT_VIEW, PLATFORM_ADMIN}
        | {LOYALTY_EDIT, POINTS_ADJUST, POINTS_APPROVE}
    ),
    Role.GROUP_ADMIN: frozenset(
        _CONSOLE_READ
        | {MEMBERS_VIEW_PII, MEMBERS_EDIT, MERCHANTS_EDIT, STAFF_MANAGE, AUDIT_VIEW}
        | {LOYALTY_EDIT, POINTS_ADJUST, POINTS_APPROVE}
    ),
    Role.MARKETING: frozenset(_CONSOLE_READ | {LOYALTY_EDIT}),
    Role.SERVICE: frozenset(_CONSOLE_READ | {MEMBERS_VIEW_PII, MEMBERS_EDIT, POINTS_ADJUST}),
    Role.FINANCE: frozenset(_CONSOLE_READ | {AUDIT_VIEW, POINTS_APPROVE}),
    Role.READONLY: frozenset(_CONSOLE_READ),
    Role.MERCHANT_OWNER: frozenset(
        {PORTAL_VIEW, PORTAL_PROFILE_EDIT, PORTAL_MEMBER_LOOKUP, PORTAL_STAFF_MANAGE, PORTAL_POS_MANAGE}
    ),
    Role.MERCHANT_MANAGER: frozenset({PORTAL_VIEW, PORTAL_PROFILE_EDIT, PORTAL_MEMBER_LOOKUP, PORTAL_POS_MANAGE}),
    Role.MERCHANT_CLERK: frozenset({PORTAL_VIEW, PORTAL_MEMBER_LOOKUP}),
}

# Console: POS credentials and finance reads (kept together so the role table above stays as it was)
POS_MANAGE = "pos.manage"  # POS terminals and API keys of the group's merchants (create, revoke)
FINANCE_VIEW = "finance.view"  # liabilities: points outstanding by funder, redeemed per merchant, prepaid wallet

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {POS_MANAGE, FINANCE_VIEW}),
    (Role.GROUP_ADMIN, {POS_MANAGE, FINANCE_VIEW}),
    (Role.FINANCE, {FINANCE_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Coupons and promotions (console and merchant portal)
COUPONS_VIEW = "coupons.view"  # coupon templates, their stats and exports, promotions, grant batches (read)
COUPONS_MANAGE = "coupons.manage"  # create/edit/activate/pause/end templates and promotions; grants to lists, segments
COUPONS_GRANT = "coupons.grant"  # give one coupon to one member (customer service)
PORTAL_COUPONS = "portal.coupons"  # the merchant's own (merchant-funded) coupon templates
PORTAL_COUPON_REDEEM = "portal.coupon_redeem"  # verify a coupon code and redeem exchange/parking coupons

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {COUPONS_VIEW, COUPONS_MANAGE, COUPONS_GRANT}),
    (Role.GROUP_ADMIN, {COUPONS_VIEW, COUPONS_MANAGE, COUPONS_GRANT}),
    (Role.MARKETING, {COUPONS_VIEW, COUPONS_MANAGE, COUPONS_GRANT}),
    (Role.SERVICE, {COUPONS_VIEW, COUPONS_GRANT}),
    (Role.FINANCE, {COUPONS_VIEW}),
    (Role.READONLY, {COUPONS_VIEW}),
    (Role.MERCHANT_OWNER, {PORTAL_COUPONS, PORTAL_COUPON_REDEEM}),
    (Role.MERCHANT_MANAGER, {PORTAL_COUPONS, PORTAL_COUPON_REDEEM}),
    (Role.MERCHANT_CLERK, {PORTAL_COUPON_REDEEM}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Member data: import, duplicates and merge, privacy rights; the member app's content
MEMBERS_IMPORT = "members.import"  # import members, opening balances and past sales from files
MEMBERS_MERGE = "members.merge"  # duplicates report, merge and un-merge
PRIVACY_MANAGE = "privacy.manage"  # consents on a member's behalf, data export and erasure requests, retention
PRIVACY_ACCESS_LOG = "privacy.access_log"  # read the log of who viewed unmasked personal data
CONTENT_VIEW = "content.view"  # the member app's home layout and messages (read)
CONTENT_MANAGE = "content.manage"  # edit and publish the home layout; send in-app messages

_MEMBER_DATA_ADMIN = {MEMBERS_IMPORT, MEMBERS_MERGE, PRIVACY_MANAGE, PRIVACY_ACCESS_LOG, CONTENT_VIEW, CONTENT_MANAGE}

for _role, _extra in (
    (Role.PLATFORM_ADMIN, _MEMBER_DATA_ADMIN),
    (Role.GROUP_ADMIN, _MEMBER_DATA_ADMIN),
    (Role.MARKETING, {CONTENT_VIEW, CONTENT_MANAGE}),
    (Role.SERVICE, {MEMBERS_MERGE, PRIVACY_MANAGE, CONTENT_VIEW}),
    (Role.FINANCE, {PRIVACY_ACCESS_LOG, CONTENT_VIEW}),
    (Role.READONLY, {CONTENT_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Wallet money at the service desk: refund a member's wallet balance; approve refunds above the threshold
WALLET_REFUND = "wallet.refund"  # refund a member's wallet balance (at once up to GALLERIA_WALLET_REFUND_APPROVAL_FEN)
WALLET_REFUND_APPROVE = "wallet.refund_approve"  # approve or reject wallet refunds above that threshold

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {WALLET_REFUND, WALLET_REFUND_APPROVE}),
    (Role.GROUP_ADMIN, {WALLET_REFUND, WALLET_REFUND_APPROVE}),
    (Role.SERVICE, {WALLET_REFUND}),
    (Role.FINANCE, {WALLET_REFUND_APPROVE}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# The merchant counter (收银台 lite in the portal): record a member's sale; refund a counter sale
PORTAL_COUNTER_SELL = "portal.counter_sell"  # identify a member, quote and record a sale at the counter
PORTAL_COUNTER_REFUND = "portal.counter_refund"  # refund a counter sale, whole or by line (managers and owners)

for _role, _extra in (
    (Role.MERCHANT_OWNER, {PORTAL_COUNTER_SELL, PORTAL_COUNTER_REFUND}),
    (Role.MERCHANT_MANAGER, {PORTAL_COUNTER_SELL, PORTAL_COUNTER_REFUND}),
    (Role.MERCHANT_CLERK, {PORTAL_COUNTER_SELL}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Receipt-photo points (自助积分): the console's review queue and rules; merchants confirming their own receipts
RECEIPTS_REVIEW = "receipts.review"  # review queue: approve, reject, reverse; see receipt photos
RECEIPTS_SETTINGS = "receipts.settings"  # receipt rules, merchant aliases and tax numbers, blocked members
PORTAL_RECEIPTS = "portal.receipts"  # confirm or reject the merchant's own receipts (when the mall enables it)

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {RECEIPTS_REVIEW, RECEIPTS_SETTINGS}),
    (Role.GROUP_ADMIN, {RECEIPTS_REVIEW, RECEIPTS_SETTINGS}),
    (Role.SERVICE, {RECEIPTS_REVIEW}),
    (Role.MARKETING, {RECEIPTS_SETTINGS}),
    (Role.MERCHANT_OWNER, {PORTAL_RECEIPTS}),
    (Role.MERCHANT_MANAGER, {PORTAL_RECEIPTS}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Money that moves (docs/payments.md, docs/settlement.md): gateway payments, pay-at-store, settlement with merchants
PAYMENTS_VIEW = "payments.view"  # gateway payments and refunds, notifications log, reconciliation reports (read)
PAYMENTS_MANAGE = "payments.manage"  # gateway credentials, store payment profiles, reconciliation fix-ups
WALLET_CASH_TOPUP = "wallet.cash_topup"  # take cash for a member's wallet at the service desk
SETTLEMENT_VIEW = "settlement.view"  # merchant statements (read, export)
SETTLEMENT_MANAGE = "settlement.manage"  # generate/regenerate drafts, approve, record payment
PORTAL_PAYMENTS = "portal.payments"  # the counter's live "received" screen and the store's pay-at-store QR
PORTAL_PAYMENTS_REFUND = "portal.payments_refund"  # refund a pay-at-store payment (whole or part)
PORTAL_SETTLEMENT = "portal.settlement"  # the merchant's statements: read, export, confirm or dispute

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {PAYMENTS_VIEW, PAYMENTS_MANAGE, WALLET_CASH_TOPUP, SETTLEMENT_VIEW, SETTLEMENT_MANAGE}),
    (Role.GROUP_ADMIN, {PAYMENTS_VIEW, PAYMENTS_MANAGE, WALLET_CASH_TOPUP, SETTLEMENT_VIEW, SETTLEMENT_MANAGE}),
    (Role.FINANCE, {PAYMENTS_VIEW, SETTLEMENT_VIEW, SETTLEMENT_MANAGE}),
    (Role.SERVICE, {WALLET_CASH_TOPUP}),
    (Role.READONLY, {PAYMENTS_VIEW, SETTLEMENT_VIEW}),
    (Role.MERCHANT_OWNER, {PORTAL_PAYMENTS, PORTAL_PAYMENTS_REFUND, PORTAL_SETTLEMENT}),
    (Role.MERCHANT_MANAGER, {PORTAL_PAYMENTS, PORTAL_PAYMENTS_REFUND, PORTAL_SETTLEMENT}),
    (Role.MERCHANT_CLERK, {PORTAL_PAYMENTS}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Parking (docs/parking.md): car parks, tariffs, stays, the car-park system's keys; merchants grant parking
PARKING_VIEW = "parking.view"  # car parks, live occupancy, stays, exceptions, parking reports (read)
PARKING_MANAGE = "parking.manage"  # car parks, zones, gates, tariffs, the car-park system's API keys; fix stays
PORTAL_PARKING = "portal.parking"  # grant parking hours to a customer's plate (funded by the merchant)
PARKING_PLATES = "parking.plates"  # review members' vehicle licence photos; verify a plate at the service desk

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {PARKING_VIEW, PARKING_MANAGE, PARKING_PLATES}),
    (Role.GROUP_ADMIN, {PARKING_VIEW, PARKING_MANAGE, PARKING_PLATES}),
    (Role.SERVICE, {PARKING_VIEW, PARKING_PLATES}),
    (Role.FINANCE, {PARKING_VIEW}),
    (Role.READONLY, {PARKING_VIEW}),
    (Role.MERCHANT_OWNER, {PORTAL_PARKING}),
    (Role.MERCHANT_MANAGER, {PORTAL_PARKING}),
    (Role.MERCHANT_CLERK, {PORTAL_PARKING}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Points mall (docs/points-mall.md): items and stock, orders, the service desk's pickup verification, statistics
POINTS_MALL_VIEW = "points_mall.view"  # items, orders, statistics (read, export)
POINTS_MALL_MANAGE = "points_mall.manage"  # items, stock, categories, the shop's settings
POINTS_MALL_FULFIL = "points_mall.fulfil"  # verify pickup codes and hand gifts over, ship, cancel and refund orders

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {POINTS_MALL_VIEW, POINTS_MALL_MANAGE, POINTS_MALL_FULFIL}),
    (Role.GROUP_ADMIN, {POINTS_MALL_VIEW, POINTS_MALL_MANAGE, POINTS_MALL_FULFIL}),
    (Role.MARKETING, {POINTS_MALL_VIEW, POINTS_MALL_MANAGE}),
    (Role.SERVICE, {POINTS_MALL_VIEW, POINTS_MALL_FULFIL}),
    (Role.FINANCE, {POINTS_MALL_VIEW}),
    (Role.READONLY, {POINTS_MALL_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Events (docs/events.md): the event editor, registrations and the waiting list, the check-in desk, attendance
EVENTS_VIEW = "events.view"  # events, registrations, waiting lists, attendance and no-shows (read, export)
EVENTS_MANAGE = "events.manage"  # create and edit events and posters, the no-show rule; cancel registrations
EVENTS_CHECK_IN = "events.check_in"  # the check-in desk: type or scan a ticket code and check the member in

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {EVENTS_VIEW, EVENTS_MANAGE, EVENTS_CHECK_IN}),
    (Role.GROUP_ADMIN, {EVENTS_VIEW, EVENTS_MANAGE, EVENTS_CHECK_IN}),
    (Role.MARKETING, {EVENTS_VIEW, EVENTS_MANAGE}),
    (Role.SERVICE, {EVENTS_VIEW, EVENTS_CHECK_IN}),
    (Role.FINANCE, {EVENTS_VIEW}),
    (Role.READONLY, {EVENTS_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Games (docs/games.md): lotteries (wheel, scratch card, blind box), the draw log, the gift desk, check-in streaks
GAMES_VIEW = "games.view"  # games, odds, statistics, the draw log with the commitment and the reveal
GAMES_MANAGE = "games.manage"  # create, edit, publish and end games and their prizes; the streak rewards
GAMES_DESK = "games.desk"  # the gift desk: look up a pickup code and hand the gift over

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {GAMES_VIEW, GAMES_MANAGE, GAMES_DESK}),
    (Role.GROUP_ADMIN, {GAMES_VIEW, GAMES_MANAGE, GAMES_DESK}),
    (Role.MARKETING, {GAMES_VIEW, GAMES_MANAGE}),
    (Role.SERVICE, {GAMES_VIEW, GAMES_DESK}),
    (Role.FINANCE, {GAMES_VIEW}),
    (Role.READONLY, {GAMES_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Recommendations (docs/recommendations.md): the model's training and offline scores, what a member is recommended
RECOMMENDATIONS_VIEW = "recommendations.view"  # the model, its scores, "what is recommended to member X and why"
RECOMMENDATIONS_MANAGE = "recommendations.manage"  # the block switches, train now

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {RECOMMENDATIONS_VIEW, RECOMMENDATIONS_MANAGE}),
    (Role.GROUP_ADMIN, {RECOMMENDATIONS_VIEW, RECOMMENDATIONS_MANAGE}),
    (Role.MARKETING, {RECOMMENDATIONS_VIEW, RECOMMENDATIONS_MANAGE}),
    (Role.SERVICE, {RECOMMENDATIONS_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Audience (docs/marketing.md): tags, RFM, lifecycle stages, segments and personas
AUDIENCE_VIEW = "audience.view"  # the RFM and lifecycle overview, segments, personas, tags (counts, no phones)
AUDIENCE_MANAGE = "audience.manage"  # build and save segments, create tags and tag in bulk, the lifecycle settings
AUDIENCE_TAG = "audience.tag"  # give or take a manual tag on one member's page
AUDIENCE_EXPORT = "audience.export"  # a segment's members as CSV (phones masked unless members.view_pii)

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {AUDIENCE_VIEW, AUDIENCE_MANAGE, AUDIENCE_TAG, AUDIENCE_EXPORT}),
    (Role.GROUP_ADMIN, {AUDIENCE_VIEW, AUDIENCE_MANAGE, AUDIENCE_TAG, AUDIENCE_EXPORT}),
    (Role.MARKETING, {AUDIENCE_VIEW, AUDIENCE_MANAGE, AUDIENCE_TAG, AUDIENCE_EXPORT}),
    (Role.SERVICE, {AUDIENCE_VIEW, AUDIENCE_TAG}),
    (Role.FINANCE, {AUDIENCE_VIEW}),
    (Role.READONLY, {AUDIENCE_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Campaigns (docs/marketing.md): one-off messages to a segment with a hold-out, their report; marketing settings
CAMPAIGNS_VIEW = "campaigns.view"  # campaigns, their progress and report
CAMPAIGNS_MANAGE = "campaigns.manage"  # draft, schedule and cancel campaigns; quiet hours, weekly cap, SMS price

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {CAMPAIGNS_VIEW, CAMPAIGNS_MANAGE}),
    (Role.GROUP_ADMIN, {CAMPAIGNS_VIEW, CAMPAIGNS_MANAGE}),
    (Role.MARKETING, {CAMPAIGNS_VIEW, CAMPAIGNS_MANAGE}),
    (Role.FINANCE, {CAMPAIGNS_VIEW}),
    (Role.READONLY, {CAMPAIGNS_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Journeys (docs/marketing.md): automated paths after a trigger — waits, messages, coupons, points, tags, branches
JOURNEYS_VIEW = "journeys.view"  # journeys, their versions and per-step statistics
JOURNEYS_MANAGE = "journeys.manage"  # edit, publish, pause, resume and stop journeys (they grant coupons and points)

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {JOURNEYS_VIEW, JOURNEYS_MANAGE}),
    (Role.GROUP_ADMIN, {JOURNEYS_VIEW, JOURNEYS_MANAGE}),
    (Role.MARKETING, {JOURNEYS_VIEW, JOURNEYS_MANAGE}),
    (Role.FINANCE, {JOURNEYS_VIEW}),
    (Role.READONLY, {JOURNEYS_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Online mall (docs/design/online-mall.md §9): the console's settings, categories, shelves and takedowns; a merchant's
# shop, products and stock in the portal (orders, fulfilment and after-sales come with their screens)
ONLINE_MALL_VIEW = "online_mall.view"  # the online mall's settings, categories, shelves and products (read)
ONLINE_MALL_MANAGE = "online_mall.manage"  # settings, categories and icons, shelves; take a product down or lift it
PORTAL_PRODUCTS = "portal.products"  # the shop's products: create, edit, options and SKUs, pictures, on/off sale
PORTAL_STOCK = "portal.stock"  # stock per store and SKU: counts and adjustments
PORTAL_SHOP_SETTINGS = "portal.shop_settings"  # the online shop: open/closed, ship-from and pickup stores, phone

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {ONLINE_MALL_VIEW, ONLINE_MALL_MANAGE}),
    (Role.GROUP_ADMIN, {ONLINE_MALL_VIEW, ONLINE_MALL_MANAGE}),
    (Role.MARKETING, {ONLINE_MALL_VIEW, ONLINE_MALL_MANAGE}),
    (Role.SERVICE, {ONLINE_MALL_VIEW}),
    (Role.FINANCE, {ONLINE_MALL_VIEW}),
    (Role.READONLY, {ONLINE_MALL_VIEW}),
    (Role.MERCHANT_OWNER, {PORTAL_PRODUCTS, PORTAL_STOCK, PORTAL_SHOP_SETTINGS}),
    (Role.MERCHANT_MANAGER, {PORTAL_PRODUCTS, PORTAL_STOCK, PORTAL_SHOP_SETTINGS}),
    (Role.MERCHANT_CLERK, {PORTAL_STOCK}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Online mall orders in the merchant portal (docs/design/online-mall.md §9): fulfilment and after-sales
PORTAL_ORDERS = "portal.orders"  # the shop's online orders: ready, hand over by pickup code, ship, timeline, cancel
PORTAL_AFTER_SALES = "portal.after_sales"  # the shop's after-sales requests: accept, reject, goods received, refund
ONLINE_MALL_ARBITRATE = "online_mall.arbitrate"  # the console: decide after-sales requests escalated to the mall

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {ONLINE_MALL_ARBITRATE}),
    (Role.GROUP_ADMIN, {ONLINE_MALL_ARBITRATE}),
    (Role.SERVICE, {ONLINE_MALL_ARBITRATE}),
    (Role.MERCHANT_OWNER, {PORTAL_ORDERS, PORTAL_AFTER_SALES}),
    (Role.MERCHANT_MANAGER, {PORTAL_ORDERS, PORTAL_AFTER_SALES}),
    (Role.MERCHANT_CLERK, {PORTAL_ORDERS}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Outbound webhooks (docs/api.md, "Webhooks"): endpoints, their secrets, the delivery log and replay
WEBHOOKS_MANAGE = "webhooks.manage"  # create, edit, turn off/on and test endpoints; read the delivery log; replay

for _role, _extra in ((Role.PLATFORM_ADMIN, {WEBHOOKS_MANAGE}), (Role.GROUP_ADMIN, {WEBHOOKS_MANAGE})):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Analytics (docs/analytics.md): the sales dashboards read from the daily rollups (every merchant's figures)
ANALYTICS_VIEW = "analytics.view"  # sales overview: net sales, member share, channels, baskets, top merchants

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {ANALYTICS_VIEW}),
    (Role.GROUP_ADMIN, {ANALYTICS_VIEW}),
    (Role.MARKETING, {ANALYTICS_VIEW}),
    (Role.FINANCE, {ANALYTICS_VIEW}),
    (Role.READONLY, {ANALYTICS_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra

# Member services (docs/amenities.md): item rental at the service desks and bookable services
AMENITIES_VIEW = "amenities.view"  # item types, stock, rentals, services, bookings and the report (read)
AMENITIES_MANAGE = "amenities.manage"  # desks, item types and fees, stock counts, services and hours; decide bookings
AMENITIES_DESK = "amenities.desk"  # the desk screen: look a member up, lend, take back, mark lost; confirm bookings

for _role, _extra in (
    (Role.PLATFORM_ADMIN, {AMENITIES_VIEW, AMENITIES_MANAGE, AMENITIES_DESK}),
    (Role.GROUP_ADMIN, {AMENITIES_VIEW, AMENITIES_MANAGE, AMENITIES_DESK}),
    (Role.SERVICE, {AMENITIES_VIEW, AMENITIES_DESK}),
    (Role.MARKETING, {AMENITIES_VIEW}),
    (Role.FINANCE, {AMENITIES_VIEW}),
    (Role.READONLY, {AMENITIES_VIEW}),
):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
del _role, _extra
