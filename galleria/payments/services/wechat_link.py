"""Linking a member's WeChat (web authorisation, snsapi_base) and their 智慧商圈 authorisation, for the member
app's "WeChat Pay points" page.

- **The OAuth app** (`WechatOAuthApp`, one per group): the Official Account's AppSecret, sealed at rest (or
  `env:NAME`), and the two WeChat hosts. Its appid is the group's WeChat Pay credential's appid: 商圈
  notifications and JSAPI payments name members by the openid under that appid, so linking under any other
  appid would give an openid nothing ever matches.
- **Link**: `wechat_link_start` gives the authorisation URL and a fresh `state` that the web layer keeps in the
  member's session and consumes once (CSRF); `wechat_link_finish` trades the single-use code for the openid
  (gateways.wechat_oauth, not retried) and adds it to the member as a `wechat_openid` identifier (one member per
  openid: another member's openid is `members.identifier_taken`).
- **Authorisation**: `mall_points_status` reads what WeChat reported (MALL_AUTH notices, `MallPointsAuth`) and,
  while nothing is recorded, asks WeChat (`user-authorizations`); an AUTHORIZED answer is recorded, so a member
  whose notice was lost still earns from now on. (Once recorded, the page does not ask again: the query runs
  under the adapter's retry policy, up to 30 s when WeChat is down, too long for every page view.)
  `mall_auth_url`: where the member authorises — WeChat's own UI; with the sandbox gateway, its page standing
  for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError, ValidationError
from galleria.core.locking import lock_one
from galleria.members.services import member_identifier_add

from ..exceptions import GatewayDownError, ProviderNotConfiguredError
from ..gateways.base import GatewayError, GatewayUnavailableError, MallGateway
from ..gateways.wechat_client import PRODUCTION_BASE_URL
from ..gateways.wechat_oauth import OAuthConfig, OAuthRefusedError, authorize_url, code_exchange
from ..models import MallPointsAuth, WechatOAuthApp
from ..sandbox.wechat_oauth import oauth_secret
from ..secrets import SecretUnavailableError, seal, unseal
from ..selectors_mall import mall_auth_get, member_wechat_openid, oauth_app_get
from ._gateway import credential_for, gateway_of, notify_url

log = logging.getLogger("galleria.payments.mall")

OPENID_KIND = "wechat_openid"


class WechatLinkUnavailableError(ValidationError):
    code = "payments.wechat_link_unavailable"

    def default_message(self) -> str | Promise:
        return _("Linking WeChat is not set up for this mall yet.")


class WechatLinkRefusedError(ApplicationError):
    code = "payments.wechat_link_refused"
    status = 400

    def default_message(self) -> str | Promise:
        return _("WeChat did not confirm who you are. Please try again.")


@dataclass(frozen=True)
class LinkStart:
    url: str
    state: str


@dataclass(frozen=True)
class MallPointsStatus:
    available: bool  # the group takes WeChat Pay (商圈 needs it)
    can_link: bool  # web authorisation is set up
    openid: str  # "" = WeChat not linked
    authorised: bool | None  # None: not linked, or WeChat could not be asked and nothing is recorded
    authorised_at: dt.datetime | None
    asked_wechat: bool  # the answer comes from WeChat just now (not only from our record)


# ------------------------------------------------------------------------------------------------- configuration


def wechat_oauth_config(*, mall_group_id: int) -> OAuthConfig:
    """The group's web-authorisation app, or WechatLinkUnavailableError."""
    try:
        credential = credential_for(mall_group_id=mall_group_id, provider="wechat")
    except ProviderNotConfiguredError as exc:
        raise WechatLinkUnavailableError() from exc
    app = oauth_app_get(mall_group_id=mall_group_id)
    if app is None or not app.app_secret_enc:
        raise WechatLinkUnavailableError()
    try:
        secret = unseal(app.app_secret_enc)
    except SecretUnavailableError as exc:
        raise WechatLinkUnavailableError() from exc
    return OAuthConfig(
        app_id=credential.app_id,
        app_secret=secret,
        authorize_base=app.authorize_base_url,
        api_base=app.api_base_url,
        timeout_s=float(settings.GALLERIA_PAYMENT_TIMEOUT_S),
    )


def oauth_app_save(
    *, mall_group_id: int, app_secret: str, authorize_base_url: str, api_base_url: str, actor: Actor
) -> WechatOAuthApp:
    """Create or update the group's web-authorisation app; an empty `app_secret` keeps the stored one."""
    with transaction.atomic(durable=True):
        _found, created = WechatOAuthApp.objects.get_or_create(mall_group_id=mall_group_id)
        app = lock_one(WechatOAuthApp.objects.filter(mall_group_id=mall_group_id))
        changed = [
            name
            for name, value in (("authorize_base_url", authorize_base_url), ("api_base_url", api_base_url))
            if getattr(app, name) != value
        ]
        app.authorize_base_url, app.api_base_url = authorize_base_url, api_base_url
        if app_secret:
            app.app_secret_enc = seal(app_secret)
            changed.append("app_secret")
        app.save()
        audit_record(
            actor=actor,
            action="payments.oauth_app_save",
            target_type="wechat_oauth_app",
            target_id=app.pk,
            target_label=f"oauth:{mall_group_id}",
            mall_group_id=mall_group_id,
            changes={"fields": sorted(changed), "created": created},  # names only: never the secret
        )
        return app


def mall_points_sandbox_install(*, mall_group_id: int, keys: dict[str, Any], base_url: str, actor: Actor) -> None:
    """The demo's (and tests') web authorisation at the sandbox gateway: its derived AppSecret, its URL for both
    WeChat hosts. Install the WeChat Pay credentials first (`sandbox_credentials_install`)."""
    base = base_url.rstrip("/")
    oauth_app_save(
        mall_group_id=mall_group_id,
        app_secret=oauth_secret(keys),
        authorize_base_url=base,
        api_base_url=base,
        actor=actor,
    )


# ------------------------------------------------------------------------------------------------------- linking


def wechat_link_start(*, mall_group_id: int, redirect_uri: str) -> LinkStart:
    config = wechat_oauth_config(mall_group_id=mall_group_id)
    state = secrets.token_urlsafe(24)
    return LinkStart(url=authorize_url(config, redirect_uri=redirect_uri, state=state), state=state)


def wechat_link_finish(*, mall_group_id: int, member_id: int, code: str, actor: Actor) -> str:
    """Trade the code for the openid and link it to the member; returns the openid."""
    config = wechat_oauth_config(mall_group_id=mall_group_id)
    try:
        token = code_exchange(config, code=code)
    except OAuthRefusedError as exc:
        log.warning("WeChat link refused for member %s: %s", member_id, exc)
        raise WechatLinkRefusedError(extra={"errcode": exc.errcode}) from exc
    except GatewayUnavailableError as exc:
        raise GatewayDownError() from exc
    if token.is_snapshot_user:  # WeChat's preview mode hands out a virtual openid: not the member's
        raise WechatLinkRefusedError()
    member_identifier_add(member_id=member_id, actor=actor, kind=OPENID_KIND, value=token.openid)
    return token.openid


# ------------------------------------------------------------------------------------------------ authorisation


def mall_points_status(*, mall_group_id: int, member_id: int, ask_wechat: bool = True) -> MallPointsStatus:
    openid = member_wechat_openid(member_id=member_id)
    try:
        credential = credential_for(mall_group_id=mall_group_id, provider="wechat")
    except ProviderNotConfiguredError:
        credential = None
    app = oauth_app_get(mall_group_id=mall_group_id)
    record = mall_auth_get(mall_group_id=mall_group_id, openid=openid)
    authorised: bool | None = True if record else (None if not openid else False)
    asked = False
    if openid and credential is not None and ask_wechat and record is None:  # recorded: no need to ask
        try:
            answer = cast(MallGateway, gateway_of(credential)).mall_user_authorized(openid=openid)
        except (GatewayError, ProviderNotConfiguredError, ValueError) as exc:  # ValueError: an incomplete account
            log.warning("商圈 authorisation query failed: %s", exc)
        else:
            asked, authorised = True, answer
            if answer and record is None:
                record, _created = MallPointsAuth.objects.get_or_create(
                    mall_group_id=mall_group_id,
                    openid=openid,
                    defaults={"authorized_at": timezone.now(), "source": "query"},
                )
    return MallPointsStatus(
        available=credential is not None,
        can_link=credential is not None and app is not None and bool(app.app_secret_enc),
        openid=openid,
        authorised=authorised,
        authorised_at=record.authorized_at if record and authorised else None,
        asked_wechat=asked,
    )


def mall_auth_url(*, mall_group_id: int, return_url: str) -> str:
    """Where the member authorises 商圈 points: with the sandbox gateway its page (which notifies this group's
    notify URL); in production the link set in GALLERIA_WECHAT_MALL_AUTH_URL (the mall's WeChat Pay 商圈 page or
    mini-program link), or "" — then the page tells the member to authorise in WeChat."""
    try:
        credential = credential_for(mall_group_id=mall_group_id, provider="wechat")
    except ProviderNotConfiguredError:
        return ""
    base = credential.base_url.rstrip("/")
    if settings.GALLERIA_SANDBOX_PAYMENTS and base != PRODUCTION_BASE_URL:
        query = urlencode({"return_url": return_url, "notify_url": notify_url(credential)})
        return f"{base}/sandbox/wechat/mall-auth?{query}"
    return str(getattr(settings, "GALLERIA_WECHAT_MALL_AUTH_URL", "") or "")
