"""Forms of staff sign-in: the password step (with the failure limits), the 2-step code, 2-step set-up."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from galleria.accounts.exceptions import SignInFailedError, SignInLockedError
from galleria.accounts.services.signin import signin_password
from galleria.interfaces.common import client_ip


class StaffLoginForm(AuthenticationForm):
    """Django's sign-in form, checked through `signin_password` (limits per account and IP, audit)."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = signin_password(
                    username=username, password=password, ip=client_ip(self.request) if self.request else None
                )
            except SignInLockedError as exc:
                raise ValidationError(str(exc.message), code="locked") from exc
            except SignInFailedError as exc:
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class CodeForm(forms.Form):
    """One code: 6 digits from the authenticator app, or (where allowed) a recovery code."""

    code = forms.CharField(
        label=_("Authentication code"),
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def __init__(self, *args: Any, allow_recovery: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        if allow_recovery:
            field.help_text = _("The 6-digit code from your authenticator app, or one of your recovery codes.")
        else:
            field.help_text = _("The 6-digit code your authenticator app shows now.")
            field.widget.attrs["inputmode"] = "numeric"
