"""Console forms: they parse and check input; the services decide. Every label is translatable."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Model
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.accounts.models import GROUP_ROLES, MERCHANT_ROLES, Role
from galleria.accounts.types import Scope
from galleria.malls.models import Mall, MallGroup
from galleria.members.models import ConsentPurpose, Gender, IdentifierKind, JoinChannel
from galleria.merchants.models import Category, Merchant, MerchantStatus, Store
from galleria.merchants.selectors import (
    mall_group_list,
    mall_list,
    merchant_name_taken,
    merchant_options,
    store_unit_taken,
)
from galleria.merchants.services import MERCHANT_FIELDS, STORE_FIELDS
from galleria.tiers.models import TierLevel
from galleria.tiers.selectors import tier_level_options


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class MallChoiceField(forms.ModelChoiceField):
    """A mall picker; the group is named when the scope spans several groups (platform admins)."""

    def __init__(self, *, scope: Scope, **kwargs: Any) -> None:
        self.show_group = scope.is_platform
        super().__init__(queryset=mall_list(mall_group_id=scope.mall_group_id), **kwargs)

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Mall)
        return f"{obj.group.name} · {obj.name}" if self.show_group else obj.name


class MerchantChoiceField(forms.ModelChoiceField):
    def __init__(self, *, scope: Scope, **kwargs: Any) -> None:
        self.show_group = scope.is_platform
        super().__init__(queryset=merchant_options(mall_group_id=scope.mall_group_id), **kwargs)

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Merchant)
        where = f"{obj.mall.group.name} · {obj.mall.name}" if self.show_group else obj.mall.name
        return f"{obj.name} ({where})"


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


# ---------------------------------------------------------------- members


class TierChoiceField(forms.ModelChoiceField):
    """A tier picker; the group is named when the scope spans several groups (platform admins)."""

    def __init__(self, *, scope: Scope, **kwargs: Any) -> None:
        self.show_group = scope.is_platform
        super().__init__(queryset=tier_level_options(mall_group_id=scope.mall_group_id), **kwargs)

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, TierLevel)
        return f"{obj.mall_group.name} · {obj.name}" if self.show_group else obj.name


MAX_POINTS_FILTER = 10**12


class MemberOrderChoice(models.TextChoices):
    """How the console member list is sorted (the view maps each to a selector's index walk)."""

    JOINED_DESC = "-joined", _("Newest members first")
    JOINED_ASC = "joined", _("Oldest members first")
    NAME = "name", _("By name")
    POINTS_DESC = "-points", _("Most points first")
    POINTS_ASC = "points", _("Fewest points first")


class MemberFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Phone, card no., member code, plate, WeChat id or name"),
                "autocomplete": "off",
            }
        ),
    )
    channel = forms.ChoiceField(
        label=_("Join channel"), required=False, choices=_blank(_("All channels")) + list(JoinChannel.choices)
    )
    mall = forms.ModelChoiceField(label=_("Join mall"), required=False, queryset=Mall.objects.none())
    tier = forms.ModelChoiceField(label=_("Tier"), required=False, queryset=TierLevel.objects.none())
    min_points = forms.IntegerField(
        label=_("Points from"),
        required=False,
        min_value=0,
        max_value=MAX_POINTS_FILTER,
        widget=forms.NumberInput(attrs={"placeholder": "0", "inputmode": "numeric", "aria-label": _("Points from")}),
    )
    max_points = forms.IntegerField(
        label=_("Points to"),
        required=False,
        min_value=0,
        max_value=MAX_POINTS_FILTER,
        widget=forms.NumberInput(attrs={"placeholder": "∞", "inputmode": "numeric", "aria-label": _("Points to")}),
    )
    order = forms.ChoiceField(label=_("Sort by"), required=False, choices=MemberOrderChoice.choices)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mall"] = MallChoiceField(
            scope=scope, label=_("Join mall"), required=False, empty_label=_("All malls")
        )
        self.fields["tier"] = TierChoiceField(scope=scope, label=_("Tier"), required=False, empty_label=_("All tiers"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("min_points"), data.get("max_points")
        if low is not None and high is not None and low > high:
            self.add_error("max_points", _("The upper bound is below the lower bound."))
            data.pop("min_points", None)  # which bound is wrong is not known: the range is ignored
        return data

    def filters(self) -> dict[str, Any]:
        """The valid filters only: a bad value is ignored (and shown inline) rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        mall = data.get("mall")
        return {
            "query": data.get("q") or "",
            "channel": data.get("channel") or "",
            "mall_id": mall.pk if mall else None,
            "tier": data.get("tier"),
            "min_points": data.get("min_points"),
            "max_points": data.get("max_points"),
            "order": data.get("order") or MemberOrderChoice.JOINED_DESC,
        }


def _check_birthday(value: dt.date | None) -> dt.date | None:
    if value is not None and not (dt.date(1900, 1, 1) <= value <= timezone.localdate()):
        raise forms.ValidationError(_("Enter a birthday between 1900 and today."))
    return value


class MemberProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=50)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=DateInput())
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)

    def __init__(self, *args: Any, with_pii: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_pii:  # a role that may not read birthday and email may not overwrite them either
            del self.fields["birthday"]
            del self.fields["email"]

    def clean_birthday(self) -> dt.date | None:
        return _check_birthday(self.cleaned_data.get("birthday"))


MARKETING_PURPOSES = [(p.value, p.label) for p in ConsentPurpose if p != ConsentPurpose.PRIVACY_POLICY]


class MemberRegisterForm(MemberProfileForm):
    field_order = ["phone", "join_mall", "name", "gender", "birthday", "email"]

    phone = forms.CharField(
        label=_("Mobile phone"), max_length=32, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})
    )
    join_mall = forms.ModelChoiceField(label=_("Join mall"), queryset=Mall.objects.none())
    accepts_policy = forms.BooleanField(
        label=_("The member has read and accepts the privacy policy and membership terms"),
        error_messages={"required": _("A member can only join after accepting the privacy policy.")},
    )
    marketing = forms.MultipleChoiceField(
        label=_("Marketing consents"),
        required=False,
        choices=MARKETING_PURPOSES,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["join_mall"] = MallChoiceField(scope=scope, label=_("Join mall"), empty_label=None)

    def consents(self) -> list[str]:
        return [ConsentPurpose.PRIVACY_POLICY.value, *self.cleaned_data.get("marketing", [])]


ADDABLE_IDENTIFIERS = [
    (k.value, k.label)
    for k in (
        IdentifierKind.PLATE,
        IdentifierKind.PHYSICAL_CARD,
        IdentifierKind.WECHAT_OPENID,
        IdentifierKind.WECHAT_UNIONID,
    )
]


class IdentifierAddForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ADDABLE_IDENTIFIERS)
    value = forms.CharField(label=_("Value"), max_length=64)
    licence_seen = forms.BooleanField(
        label=_("Plate: vehicle licence (行驶证) seen — verify it"),
        required=False,
        help_text=_("Verifies the plate for this member, moving it from another member who bound it."),
    )


# ---------------------------------------------------------------- merchants


def _model_fields(model: type[Model], names: tuple[str, ...]) -> dict[str, forms.Field]:
    return {name: field for name, field in fields_for_model(model, fields=names).items() if field is not None}


class MerchantFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, contract no. or unit"), "autocomplete": "off"}
        ),
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=_blank(_("All categories")) + list(Category.choices)
    )
    mall = forms.ModelChoiceField(label=_("Mall"), required=False, queryset=Mall.objects.none())
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(_("All statuses")) + list(MerchantStatus.choices)
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mall"] = MallChoiceField(scope=scope, label=_("Mall"), required=False, empty_label=_("All malls"))

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        mall = data.get("mall")
        return {
            "query": data.get("q") or "",
            "category": data.get("category") or "",
            "mall_id": mall.pk if mall else None,
            "status": data.get("status") or "",
        }


class MerchantForm(forms.Form):
    """Every merchant field (MERCHANT_FIELDS); the mall is chosen on create only."""

    def __init__(self, *args: Any, scope: Scope, merchant: Merchant | None = None, **kwargs: Any) -> None:
        if merchant is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(merchant, name) for name in MERCHANT_FIELDS}
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        if merchant is None:
            self.fields["mall"] = MallChoiceField(scope=scope, label=_("Mall"), empty_label=None)
        self.fields.update(_model_fields(Merchant, MERCHANT_FIELDS))
        for name in ("contract_starts_on", "contract_ends_on"):
            self.fields[name].widget = DateInput()
        commission = self.fields["commission_bp"]
        commission.validators.append(MaxValueValidator(10000))
        commission.widget.attrs.update({"min": 0, "max": 10000, "step": 1})
        self.fields["area_m2"].widget.attrs.update({"min": 0})
        self.fields["credit_code"].widget.attrs.update({"class": "mono"})
        for name in ("opens_at", "closes_at"):  # present once MERCHANT_FIELDS lists the member-app fields
            if name in self.fields:
                self.fields[name].widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

    @property
    def mall_id(self) -> int | None:
        if self.merchant is not None:
            return self.merchant.mall_id
        mall = self.cleaned_data.get("mall")
        return mall.pk if mall else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("contract_starts_on"), data.get("contract_ends_on")
        if starts and ends and ends < starts:
            self.add_error("contract_ends_on", _("The contract cannot end before it starts."))
        if "opens_at" in self.fields and (data.get("opens_at") is None) != (data.get("closes_at") is None):
            # the member app shows the merchant's own hours or the mall's: both times, or neither
            self.add_error("closes_at", _("Give both the opening and the closing time, or leave both empty."))
        name, mall_id = data.get("name"), self.mall_id
        if (
            name
            and mall_id
            and merchant_name_taken(mall_id=mall_id, name=name, exclude_id=self.merchant.pk if self.merchant else None)
        ):
            self.add_error("name", _("A merchant with this name already exists in this mall."))
        return data

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in MERCHANT_FIELDS if name in self.cleaned_data}


class StoreForm(forms.Form):
    def __init__(self, *args: Any, merchant: Merchant, store: Store | None = None, **kwargs: Any) -> None:
        if store is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(store, name) for name in STORE_FIELDS}
        super().__init__(*args, **kwargs)
        self.merchant, self.store = merchant, store
        self.fields.update(_model_fields(Store, STORE_FIELDS))
        self.fields["floor"].widget.attrs.update({"placeholder": "L1"})
        self.fields["unit_no"].widget.attrs.update({"placeholder": "L1-018"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        unit = data.get("unit_no")
        if unit and store_unit_taken(
            merchant_id=self.merchant.pk, unit_no=unit, exclude_id=self.store.pk if self.store else None
        ):
            self.add_error("unit_no", _("This merchant already has a store in this unit."))
        return data

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in STORE_FIELDS if name in self.cleaned_data}


# ---------------------------------------------------------------- staff


def _role_choices(scope: Scope) -> list[tuple[str, Any]]:
    roles = [*GROUP_ROLES, *MERCHANT_ROLES]
    if scope.is_platform:
        roles = [Role.PLATFORM_ADMIN, *roles]
    return [(r.value, r.label) for r in roles]


class StaffFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Username or display name")}),
    )


class _StaffRoleMixin(forms.Form):
    """Role + the merchant a merchant role works for (+ the group a group role belongs to, for platform admins)."""

    scope: Scope

    def _add_role_fields(self, scope: Scope) -> None:
        self.scope = scope
        self.fields["role"] = forms.ChoiceField(label=_("Role"), choices=_blank("—") + _role_choices(scope))
        self.fields["merchant"] = MerchantChoiceField(
            scope=scope,
            label=_("Merchant"),
            required=False,
            empty_label=_("Choose a merchant"),
            help_text=_("Only for merchant roles: the shop this person works for."),
        )
        if scope.is_platform:
            self.fields["mall_group"] = forms.ModelChoiceField(
                label=_("Mall group"),
                queryset=mall_group_list(mall_group_id=None),
                required=False,
                help_text=_("Only for mall group roles."),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if role in MERCHANT_ROLES and not data.get("merchant"):
            self.add_error("merchant", _("Choose the merchant this person works for."))
        if role in GROUP_ROLES and "mall_group" in self.fields and not data.get("mall_group"):
            self.add_error("mall_group", _("Choose the mall group this person works for."))
        return data

    @property
    def merchant_id(self) -> int | None:
        merchant = self.cleaned_data.get("merchant")
        return merchant.pk if merchant is not None and self.cleaned_data.get("role") in MERCHANT_ROLES else None

    @property
    def mall_group_id(self) -> int | None:
        group: MallGroup | None = self.cleaned_data.get("mall_group")
        return group.pk if group is not None else self.scope.mall_group_id


class StaffCreateForm(_StaffRoleMixin):
    field_order = ["username", "display_name", "password", "role", "mall_group", "merchant"]

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; the person can change it after signing in."),
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_role_fields(scope)
        self.order_fields(self.field_order)


class StaffEditForm(_StaffRoleMixin):
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, help_text=_("Inactive accounts cannot sign in."))

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_role_fields(scope)
        self.fields.pop("mall_group", None)  # moving staff between groups is not an edit
        self.order_fields(["display_name", "role", "merchant", "is_active"])


# ---------------------------------------------------------------- audit


class AuditFilterForm(forms.Form):
    """The audit log's filters. The view passes the menus (labelled actions grouped by area, object types) and turns
    the mall-local dates into a time range."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    actor = forms.CharField(
        label=_("Actor"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Username")}),
    )
    action = forms.ChoiceField(label=_("Action"), required=False)
    target_type = forms.ChoiceField(label=_("Object type"), required=False)
    target = forms.CharField(
        label=_("Object"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("ID, card number or name")}),
    )

    def __init__(
        self,
        *args: Any,
        actions: list[tuple[Any, Any]],
        target_types: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = _blank(_("All actions")) + actions
        cast(forms.ChoiceField, self.fields["target_type"]).choices = _blank(_("All objects")) + target_types

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> dict[str, Any]:
        """The valid filters (all empty when the form is not bound or not valid)."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "action": data.get("action") or "",
            "actor": data.get("actor") or "",
            "target_type": data.get("target_type") or "",
            "target": data.get("target") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
