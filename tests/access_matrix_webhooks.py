"""Access matrix entries of the open platform (merged into tests/access_matrix.MATRIX): the member token API
(sign-in with an SMS code and refresh are public — a wrong code or an unknown refresh token is refused for everyone;
the device list is the member's own, another member's device id is a 404) and webhooks: the console's endpoints
(list, new, an endpoint with its deliveries, turning it off/on, the test event) and the delivery log with replay.
Only group admins (`webhooks.manage`) get in. The evidence endpoint points at a closed local port, so the test
event fails fast and changes nothing outside the log; the POSTs without data answer 422 (the forms) or act on the
evidence rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .access_matrix import ROOT, Entry, action, api_member, console, op, page, problem, public, r
from .evidence_world import EvidenceWorld

MANAGERS = {"admin", ROOT}  # webhooks.manage, staff.manage (API tokens)


def _endpoint(ew: EvidenceWorld) -> Any:
    from galleria.webhooks import secrets
    from galleria.webhooks.models import Endpoint

    endpoint, _created = Endpoint.objects.get_or_create(
        mall_group=ew.world.group,
        url="http://127.0.0.1:9/evidence",
        defaults={"event_types": ",member.joined,", "secret_sealed": secrets.seal("whsec_evidence")},
    )
    return endpoint


def endpoint_id(ew: EvidenceWorld) -> int:
    return int(_endpoint(ew).pk)


def device_id(ew: EvidenceWorld) -> int:
    """A signed-in device of the evidence member (for the other member: someone else's device)."""
    from galleria.apiauth.models import MemberDevice
    from galleria.apiauth.services import device_sign_in

    row = MemberDevice.objects.filter(member=ew.member, name="证据手机").first()
    if row is None:
        pair = device_sign_in(member_id=ew.member.pk, mall_group_id=ew.world.group.pk, name="证据手机", via="otp")
        return pair.device_id
    return int(row.pk)


def delivery_id(ew: EvidenceWorld) -> int:
    from django.utils import timezone

    from galleria.webhooks.models import Delivery, WebhookEvent

    endpoint = _endpoint(ew)
    delivery = Delivery.objects.filter(endpoint=endpoint).order_by("pk").first()
    if delivery is None:
        now = timezone.now()
        event = WebhookEvent.objects.create(
            mall_group=ew.world.group, kind="member.joined", member_id=ew.member.pk, data={}, created_at=now
        )
        delivery = Delivery.objects.create(
            endpoint=endpoint, event=event, member_id=ew.member.pk, next_attempt_at=now, status="failed"
        )
    return int(delivery.pk)


MATRIX_WEBHOOKS: dict[str, Entry] = {
    "api:POST /app/auth/token": op(
        "POST",
        public(problem(422, "otp.invalid")),
        body=lambda ew: {"phone": "13600003333", "code": "000000", "accept_terms": True},
        note="sign-in itself: public; a wrong code is refused for everyone",
    )(lambda ew: "/api/v1/app/auth/token"),
    "api:POST /app/auth/wechat": op(
        "POST",
        public(problem(422, "members.terms_required")),
        body=lambda ew: {"code": "wx-code", "accept_terms": False},
        note="mini-program sign-in: public; terms not accepted is refused before WeChat is asked",
    )(lambda ew: "/api/v1/app/auth/wechat"),
    "api:POST /app/auth/refresh": op(
        "POST", public(problem(400, "auth.token_invalid")), body=lambda ew: {"refresh_token": "grt_unknown-token"}
    )(lambda ew: "/api/v1/app/auth/refresh"),
    "api:GET /app/me/devices": op("GET", api_member())(lambda ew: "/api/v1/app/me/devices"),
    "api:DELETE /app/me/devices/{device_id}": op(
        "DELETE", api_member(other_member=problem(404, "auth.device_not_found"))
    )(lambda ew: f"/api/v1/app/me/devices/{device_id(ew)}"),
    "console:webhooks": page(console(MANAGERS))(r("console:webhooks")),
    "console:webhook_new": page(console(MANAGERS), note="POST without data: 422")(r("console:webhook_new")),
    "console:webhook_endpoint": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:webhook_endpoint", endpoint_id)
    ),
    "console:webhook_endpoint_toggle": action(console(MANAGERS, scoped=True), note="no data: turns it off")(
        r("console:webhook_endpoint_toggle", endpoint_id)
    ),
    "console:webhook_endpoint_test": action(console(MANAGERS, scoped=True), note="a closed port: logged failure")(
        r("console:webhook_endpoint_test", endpoint_id)
    ),
    "console:webhook_deliveries": page(console(MANAGERS))(r("console:webhook_deliveries")),
    "console:webhook_delivery": page(console(MANAGERS, scoped=True))(r("console:webhook_delivery", delivery_id)),
    "console:webhook_delivery_replay": action(console(MANAGERS, scoped=True))(
        r("console:webhook_delivery_replay", delivery_id)
    ),
}


def staff_token_id(ew: EvidenceWorld) -> int:
    from django.utils import timezone

    from galleria.apiauth.models import StaffApiToken

    row, _created = StaffApiToken.objects.get_or_create(
        token_hash="0" * 64,
        defaults={
            "user": ew.world.users["group_admin"],
            "mall_group": ew.world.group,
            "name": "证据 ERP",
            "scopes": ["members.view"],
            "prefix": "gst_0000",
            "created_at": timezone.now(),
            "created_by": "evidence",
            "expires_at": timezone.now() + dt.timedelta(days=30),
        },
    )
    return int(row.pk)


MATRIX_WEBHOOKS |= {
    "console:api_tokens": page(console(MANAGERS), note="POST without data: 422")(r("console:api_tokens")),
    "console:api_token_revoke": action(console(MANAGERS, scoped=True))(r("console:api_token_revoke", staff_token_id)),
}
