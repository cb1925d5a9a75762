"""API operations of the privacy area: a member's own rights (/app/me/...) and staff requests (/console/...).

Member operations use the member app session (`auth.member_auth`); console operations the staff session with
`privacy.manage` (consents, exports and erasure on a member's behalf, the request list) or `privacy.access_log`.
Errors are problem+json: `members.consent_required`, `privacy.wallet_not_empty`, `privacy.no_pending_erasure`,
`privacy.member_not_active`, `privacy.confirmation_invalid`, `privacy.export_not_found`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field, field_validator

from galleria.accounts import permissions as perms
from galleria.accounts.models import User
from galleria.accounts.types import Scope
from galleria.audit.types import Actor
from galleria.core.errors import NotFoundError, PermissionDeniedError
from galleria.members import rules as member_rules
from galleria.members.models import JoinChannel, Member
from galleria.members.selectors import member_consent_history, member_current_consents, member_get
from galleria.members.services import consent_record
from galleria.privacy import selectors as privacy_selectors
from galleria.privacy import services as privacy_services
from galleria.privacy.exceptions import ConfirmationError, ExportNotFoundError
from galleria.privacy.models import PrivacyRequest, RequestVia

from ..common import actor_for, client_ip
from .auth import api_scope, member_auth, staff_auth
from .schemas import NO_NUL, ProblemOut

app_router = Router(tags=["privacy"])
console_router = Router(tags=["privacy"], auth=staff_auth)

ERRORS: dict[int, type] = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,
    404: ProblemOut,
    409: ProblemOut,
    422: ProblemOut,
}
Id = Annotated[int, Path(ge=1, le=2**62)]
Purpose = Literal["privacy_policy", "marketing_sms", "marketing_wechat", "marketing_email", "personalisation"]


class ConsentOut(Schema):
    purpose: str
    granted: bool
    policy_version: str
    channel: str
    recorded_at: dt.datetime
    recorded_by: Literal["member", "staff"]
    reason: str


class ConsentsOut(Schema):
    current: dict[str, bool] = Field(description="The latest choice per purpose (absent = never asked)")
    history: list[ConsentOut] = Field(description="Newest first, at most 100")


class ConsentIn(Schema):
    granted: bool


class StaffConsentIn(Schema):
    granted: bool
    reason: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


class RequestOut(Schema):
    id: int
    member_id: int
    kind: str
    status: str
    via: str
    requested_at: dt.datetime
    due_at: dt.datetime | None = Field(None, description="Erasure: when the cooling-off window ends")
    expires_at: dt.datetime | None = Field(None, description="Export: downloadable until")
    finished_at: dt.datetime | None
    reason: str
    note: str


class RequestPage(Schema):
    count: int
    results: list[RequestOut]


class ErasureOut(Schema):
    pending: bool
    request: RequestOut | None


class ErasureIn(Schema):
    confirm_last4: str = Field(
        min_length=4, max_length=4, pattern=r"^[0-9]{4}$", description="The last 4 digits of the member's phone"
    )


class StaffErasureIn(Schema):
    reason: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


def _request_out(r: PrivacyRequest) -> RequestOut:
    return RequestOut(
        id=r.pk,
        member_id=r.member_id,
        kind=r.kind,
        status=r.status,
        via=r.via,
        requested_at=r.requested_at,
        due_at=r.due_at,
        expires_at=r.expires_at,
        finished_at=r.finished_at,
        reason=r.reason,
        note=r.note,
    )


def _consents_out(member: Member) -> ConsentsOut:
    return ConsentsOut(
        current=member_current_consents(member=member),
        history=[
            ConsentOut(
                purpose=c.purpose,
                granted=c.is_granted,
                policy_version=c.policy_version,
                channel=c.channel,
                recorded_at=c.recorded_at,
                recorded_by="staff" if c.recorded_by_id else "member",
                reason=c.reason,
            )
            for c in member_consent_history(member_id=member.pk)[:100]
        ],
    )


def _member(request: HttpRequest) -> Member:
    member = request.auth  # type: ignore[attr-defined]
    assert isinstance(member, Member)
    return member


def _member_actor(request: HttpRequest, member: Member) -> Actor:
    return Actor(user_id=None, label=f"member:{member.pk}", ip=client_ip(request))


# ---------------------------------------------------------------- the member's own rights


@app_router.get("/me/consents", response={200: ConsentsOut, 401: ProblemOut}, auth=member_auth)
def my_consents(request: HttpRequest) -> ConsentsOut:
    """My current choices per purpose and their history."""
    return _consents_out(_member(request))


@app_router.put("/me/consents/{purpose}", response={200: ConsentsOut, **ERRORS}, auth=member_auth)
def my_consent_set(request: HttpRequest, purpose: Purpose, payload: ConsentIn) -> ConsentsOut:
    """Grant or withdraw one purpose (the privacy policy itself cannot be withdrawn: delete the account)."""
    member = _member(request)
    consent_record(
        member_id=member.pk,
        purpose=purpose,
        is_granted=payload.granted,
        channel=JoinChannel.APP,
        actor=_member_actor(request, member),
        mall_group_id=member.mall_group_id,
    )
    return _consents_out(member)


@app_router.post("/me/exports", response={201: RequestOut, **ERRORS}, auth=member_auth)
def my_export_create(request: HttpRequest) -> Status:
    """Prepare my data export (ready at once); download it with GET /me/exports/{id}."""
    member = _member(request)
    req = privacy_services.export_create(
        member_id=member.pk,
        mall_group_id=member.mall_group_id,
        actor=_member_actor(request, member),
        via=RequestVia.API,
    )
    return Status(201, _request_out(req))


@app_router.get("/me/exports", response={200: RequestPage, 401: ProblemOut}, auth=member_auth)
def my_exports(request: HttpRequest) -> RequestPage:
    """My exports that can still be downloaded, newest first."""
    rows = list(privacy_selectors.member_exports_available(member_id=_member(request).pk)[:20])
    return RequestPage(count=len(rows), results=[_request_out(r) for r in rows])


@app_router.get("/me/exports/{export_id}", response={200: dict[str, Any], **ERRORS}, auth=member_auth)
def my_export_download(request: HttpRequest, export_id: Id) -> dict[str, Any]:
    """The export document (format `galleria.member-export/2`, see docs/privacy.md). Only the member's own."""
    member = _member(request)
    req = privacy_selectors.member_export_get(member_id=member.pk, export_id=export_id)
    if req is None or req.data is None:
        raise ExportNotFoundError()
    privacy_services.export_downloaded(request=req, actor=_member_actor(request, member), fmt="api")
    data: dict[str, Any] = req.data
    return data


@app_router.get("/me/erasure", response={200: ErasureOut, 401: ProblemOut}, auth=member_auth)
def my_erasure(request: HttpRequest) -> ErasureOut:
    """Is a deletion of my account pending, and until when can I cancel it?"""
    pending = privacy_selectors.erasure_pending(member_id=_member(request).pk)
    return ErasureOut(pending=pending is not None, request=_request_out(pending) if pending else None)


@app_router.post("/me/erasure", response={201: ErasureOut, **ERRORS}, auth=member_auth)
def my_erasure_request(request: HttpRequest, payload: ErasureIn) -> Status:
    """Ask for my account to be deleted after the cooling-off window, confirming with my phone's last 4 digits."""
    member = _member(request)
    if payload.confirm_last4 != member_rules.national_phone(member.phone)[-4:]:
        raise ConfirmationError(fields={"confirm_last4": str(ConfirmationError().message)})
    req = privacy_services.erasure_request(
        member_id=member.pk,
        mall_group_id=member.mall_group_id,
        actor=_member_actor(request, member),
        via=RequestVia.API,
    )
    return Status(201, ErasureOut(pending=True, request=_request_out(req)))


@app_router.delete("/me/erasure", response={200: ErasureOut, **ERRORS}, auth=member_auth)
def my_erasure_cancel(request: HttpRequest) -> ErasureOut:
    """Cancel the pending deletion of my account."""
    member = _member(request)
    req = privacy_services.erasure_cancel(
        member_id=member.pk, mall_group_id=member.mall_group_id, actor=_member_actor(request, member)
    )
    return ErasureOut(pending=False, request=_request_out(req))


# ---------------------------------------------------------------- staff


def _scope(request: HttpRequest, permission: str) -> Scope:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    scope = api_scope(request, user)  # a staff API token carries only its scopes
    if not scope.can(permission):
        raise PermissionDeniedError(_("Your role does not allow this."), code="auth.forbidden")
    return scope


def _scoped_member(scope: Scope, member_id: int) -> Member:
    try:
        return member_get(mall_group_id=scope.mall_group_id, member_id=member_id)
    except Member.DoesNotExist as exc:
        raise NotFoundError(_("No such member."), code="members.not_found") from exc


class RequestQuery(Schema):
    kind: Literal["", "export", "erasure"] = ""
    status: Literal["", "pending", "ready", "done", "cancelled", "blocked", "expired"] = ""
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(25, ge=1, le=100)


@console_router.get("/privacy/requests", response={200: RequestPage, **ERRORS})
def requests_list(request: HttpRequest, filters: Query[RequestQuery]) -> RequestPage:
    """Privacy requests of the caller's group (exports, erasures with their due dates), newest first."""
    scope = _scope(request, perms.PRIVACY_MANAGE)
    qs = privacy_selectors.request_list(mall_group_id=scope.mall_group_id, kind=filters.kind, status=filters.status)
    rows = list(qs[filters.offset : filters.offset + filters.limit])
    return RequestPage(count=qs.count(), results=[_request_out(r) for r in rows])


class AccessOut(Schema):
    at: dt.datetime
    actor: str
    member_id: int
    fields: str
    source: str
    ip: str | None


class AccessPage(Schema):
    count: int
    results: list[AccessOut]


class AccessQuery(Schema):
    actor: str = Field("", max_length=100, pattern=NO_NUL, description="Staff user name (fragment)")
    member_id: int | None = Field(None, ge=1, le=2**62)
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(50, ge=1, le=200)

    @field_validator("since", "until")
    @classmethod
    def _in_utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        """Any offset ISO 8601 allows (up to ±23:59) as the same instant in UTC: PostgreSQL takes ±15:59 at most."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("out of range") from None


@console_router.get("/privacy/access-log", response={200: AccessPage, **ERRORS})
def access_log(request: HttpRequest, filters: Query[AccessQuery]) -> AccessPage:
    """Who was shown whose unmasked personal data, newest first; `since` inclusive, `until` exclusive."""
    scope = _scope(request, perms.PRIVACY_ACCESS_LOG)
    qs = privacy_selectors.access_log_search(
        mall_group_id=scope.mall_group_id,
        actor=filters.actor,
        member_id=filters.member_id,
        date_from=filters.since,
        date_to=filters.until,
    )
    rows = list(qs[filters.offset : filters.offset + filters.limit])
    return AccessPage(
        count=qs.count(),
        results=[
            AccessOut(at=r.at, actor=r.actor_label, member_id=r.member_id, fields=r.fields, source=r.source, ip=r.ip)
            for r in rows
        ],
    )


@console_router.put("/members/{member_id}/consents/{purpose}", response={200: ConsentsOut, **ERRORS})
def member_consent_set(request: HttpRequest, member_id: Id, purpose: Purpose, payload: StaffConsentIn) -> ConsentsOut:
    """Record a consent change on the member's behalf, with the reason (audited)."""
    scope = _scope(request, perms.PRIVACY_MANAGE)
    member = _scoped_member(scope, member_id)
    consent_record(
        member_id=member.pk,
        purpose=purpose,
        is_granted=payload.granted,
        channel=JoinChannel.DESK,
        actor=actor_for(request),
        reason=payload.reason,
        mall_group_id=member.mall_group_id,
    )
    return _consents_out(member)


@console_router.post("/members/{member_id}/privacy/exports", response={201: RequestOut, **ERRORS})
def member_export_create(request: HttpRequest, member_id: Id) -> Status:
    """Prepare the member's export on their behalf. Only the member can download it (in the app or API)."""
    scope = _scope(request, perms.PRIVACY_MANAGE)
    member = _scoped_member(scope, member_id)
    req = privacy_services.export_create(
        member_id=member.pk, mall_group_id=member.mall_group_id, actor=actor_for(request), via=RequestVia.CONSOLE
    )
    return Status(201, _request_out(req))


@console_router.post("/members/{member_id}/privacy/erasure", response={201: ErasureOut, **ERRORS})
def member_erasure_request(request: HttpRequest, member_id: Id, payload: StaffErasureIn) -> Status:
    """Request the member's erasure on their behalf (cooling-off window as for the member's own request)."""
    scope = _scope(request, perms.PRIVACY_MANAGE)
    member = _scoped_member(scope, member_id)
    req = privacy_services.erasure_request(
        member_id=member.pk,
        mall_group_id=member.mall_group_id,
        actor=actor_for(request),
        via=RequestVia.CONSOLE,
        reason=payload.reason,
    )
    return Status(201, ErasureOut(pending=True, request=_request_out(req)))


@console_router.delete("/members/{member_id}/privacy/erasure", response={200: ErasureOut, **ERRORS})
def member_erasure_cancel(request: HttpRequest, member_id: Id) -> ErasureOut:
    """Cancel the member's pending erasure."""
    scope = _scope(request, perms.PRIVACY_MANAGE)
    member = _scoped_member(scope, member_id)
    req = privacy_services.erasure_cancel(
        member_id=member.pk, mall_group_id=member.mall_group_id, actor=actor_for(request)
    )
    return ErasureOut(pending=False, request=_request_out(req))
