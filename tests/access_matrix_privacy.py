"""Access matrix entries of the privacy area (merged into MATRIX by tests/access_matrix.py)."""

from __future__ import annotations

from typing import Any

from .access_matrix import (
    ROOT,
    Entry,
    Outcome,
    action,
    api_console,
    api_member,
    app,
    console,
    op,
    page,
    problem,
    r,
)
from .evidence_world import MEMBER_PHONE, EvidenceWorld

NOT_FOUND = Outcome("not_found")


def member_id(ew: EvidenceWorld) -> int:
    return ew.member.pk


PRIVACY_MANAGERS = {"admin", "service", ROOT}  # privacy.manage
LOG_READERS = {"admin", "finance", ROOT}  # privacy.access_log


def _export(ew: EvidenceWorld) -> int:
    """A ready export of the evidence member (made on first use, without an audit trace)."""
    import datetime as dt

    from django.utils import timezone

    from galleria.privacy.models import PrivacyRequest
    from galleria.privacy.selectors import member_export_document

    now = timezone.now()
    req, _created = PrivacyRequest.objects.get_or_create(
        member=ew.member,
        kind="export",
        reason="evidence-export",
        defaults={
            "mall_group": ew.world.group,
            "status": "ready",
            "via": "app",
            "requested_at": now,
            "finished_at": now,
            "expires_at": now + dt.timedelta(days=365),
            "data": member_export_document(member=ew.member),
        },
    )
    return req.pk


def _pending_erasure(ew: EvidenceWorld) -> int:
    """Make sure the evidence member has a pending erasure to cancel (without an audit trace)."""
    import datetime as dt

    from django.utils import timezone

    from galleria.privacy.models import PrivacyRequest

    now = timezone.now()
    _req, _created = PrivacyRequest.objects.get_or_create(
        member=ew.member,
        kind="erasure",
        status="pending",
        defaults={
            "mall_group": ew.world.group,
            "via": "app",
            "requested_at": now,
            "due_at": now + dt.timedelta(days=365),
        },
    )
    return ew.member.pk


def _cancel_url(ew: EvidenceWorld) -> str:
    _pending_erasure(ew)
    return "/api/v1/app/me/erasure"


def _console_cancel_url(ew: EvidenceWorld) -> str:
    return f"/api/v1/console/members/{_pending_erasure(ew)}/privacy/erasure"


def _consent_body(ew: EvidenceWorld) -> dict[str, Any]:
    return {"purpose": "marketing_email", "granted": "1", "reason": "evidence"}


MATRIX_PRIVACY: dict[str, Entry] = {
    # console: member 360 actions, requests, access log
    "console:member_privacy_consent": action(console(PRIVACY_MANAGERS, scoped=True), data=_consent_body)(
        r("console:member_privacy_consent", member_id)
    ),
    "console:member_privacy_export": action(console(PRIVACY_MANAGERS, scoped=True))(
        r("console:member_privacy_export", member_id)
    ),
    "console:member_privacy_erasure": action(
        console(PRIVACY_MANAGERS, scoped=True),
        data=lambda ew: {"erasure-reason": "evidence"},
        note="the evidence member's wallet holds money: refused with a message, nothing written",
    )(r("console:member_privacy_erasure", member_id)),
    "console:member_privacy_erasure_cancel": action(console(PRIVACY_MANAGERS, scoped=True))(
        lambda ew: f"/console/members/{_pending_erasure(ew)}/privacy/erasure/cancel/"
    ),
    "console:privacy_requests": page(console(PRIVACY_MANAGERS))(r("console:privacy_requests")),
    "console:privacy_access_log": page(console(LOG_READERS))(r("console:privacy_access_log")),
    # member app
    "app:privacy": page(app())(r("app:privacy")),
    "app:privacy_consent": action(app(), data=lambda ew: {"purpose": "marketing_email", "granted": "1"})(
        r("app:privacy_consent")
    ),
    "app:privacy_export_create": action(app())(r("app:privacy_export_create")),
    "app:privacy_export": page(app(other_member=NOT_FOUND))(r("app:privacy_export", _export)),
    "app:privacy_export_download": page(app(other_member=NOT_FOUND))(r("app:privacy_export_download", _export)),
    "app:privacy_delete": page(app(), data=lambda ew: {"last4": MEMBER_PHONE[-4:], "understand": "on"})(
        r("app:privacy_delete")
    ),
    "app:privacy_delete_cancel": action(app())(r("app:privacy_delete_cancel")),
    # member API
    "api:GET /app/me/consents": op("GET", api_member())(lambda ew: "/api/v1/app/me/consents"),
    "api:PUT /app/me/consents/{purpose}": op("PUT", api_member(), body=lambda ew: {"granted": True})(
        lambda ew: "/api/v1/app/me/consents/marketing_email"
    ),
    "api:POST /app/me/exports": op("POST", api_member())(lambda ew: "/api/v1/app/me/exports"),
    "api:GET /app/me/exports": op("GET", api_member())(lambda ew: "/api/v1/app/me/exports"),
    "api:GET /app/me/exports/{export_id}": op("GET", api_member(other_member=problem(404, "privacy.export_not_found")))(
        lambda ew: f"/api/v1/app/me/exports/{_export(ew)}"
    ),
    "api:GET /app/me/erasure": op("GET", api_member())(lambda ew: "/api/v1/app/me/erasure"),
    "api:POST /app/me/erasure": op(
        "POST",
        api_member(),
        body=lambda ew: {"confirm_last4": MEMBER_PHONE[-4:]},
        note="the evidence member's wallet holds money: 409 privacy.wallet_not_empty; the other member: 422",
    )(lambda ew: "/api/v1/app/me/erasure"),
    "api:DELETE /app/me/erasure": op("DELETE", api_member(other_member=problem(404, "privacy.no_pending_erasure")))(
        _cancel_url
    ),
    # console API
    "api:GET /console/privacy/requests": op("GET", api_console(PRIVACY_MANAGERS))(
        lambda ew: "/api/v1/console/privacy/requests"
    ),
    "api:GET /console/privacy/access-log": op("GET", api_console(LOG_READERS))(
        lambda ew: "/api/v1/console/privacy/access-log"
    ),
    "api:PUT /console/members/{member_id}/consents/{purpose}": op(
        "PUT",
        api_console(PRIVACY_MANAGERS, foreign=problem(404, "members.not_found")),
        body=lambda ew: {"granted": True, "reason": "evidence"},
    )(lambda ew: f"/api/v1/console/members/{ew.member.pk}/consents/marketing_email"),
    "api:POST /console/members/{member_id}/privacy/exports": op(
        "POST", api_console(PRIVACY_MANAGERS, foreign=problem(404, "members.not_found"))
    )(lambda ew: f"/api/v1/console/members/{ew.member.pk}/privacy/exports"),
    "api:POST /console/members/{member_id}/privacy/erasure": op(
        "POST",
        api_console(PRIVACY_MANAGERS, foreign=problem(404, "members.not_found")),
        body=lambda ew: {"reason": "evidence"},
    )(lambda ew: f"/api/v1/console/members/{ew.member.pk}/privacy/erasure"),
    "api:DELETE /console/members/{member_id}/privacy/erasure": op(
        "DELETE", api_console(PRIVACY_MANAGERS, foreign=problem(404, "members.not_found"))
    )(_console_cancel_url),
}
