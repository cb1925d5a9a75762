"""Errors of the messaging app. Each has a stable `code` and a translatable message."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import NotFoundError, ValidationError


class InboxMessageInvalidError(ValidationError):
    code = "inbox.invalid"

    def default_message(self) -> str | Promise:
        return _("The message is not valid.")


class InboxMessageNotFoundError(NotFoundError):
    code = "inbox.not_found"

    def default_message(self) -> str | Promise:
        return _("This message is not in your inbox.")


class WechatSubscriptionInvalidError(ValidationError):
    code = "wechat.subscription_invalid"

    def default_message(self) -> str | Promise:
        return _("These subscription results cannot be recorded.")


class WechatOpenidMissingError(ValidationError):
    code = "wechat.no_openid"

    def default_message(self) -> str | Promise:
        return _("Sign in with WeChat first: your account has no WeChat identity yet.")


class PushSubscriptionInvalidError(ValidationError):
    code = "push.subscription_invalid"

    def default_message(self) -> str | Promise:
        return _("This push subscription is not valid.")
