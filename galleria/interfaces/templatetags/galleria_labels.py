"""Stored codes as a person reads them, for templates: `{{ job.source|import_source }}` ("legacy" → "Previous
member system"), `{{ row.fields|pii_fields }}` ("birthday,email" → "Birthday, E-mail"), `{{ row.source|access_source }}`
("console:member_detail" → "Member page"), `{{ code|item_category }}` ("gift_card" → "Gift cards"). Unknown codes are
shown as they are."""

from __future__ import annotations

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..item_categories import item_category_label, list_separator

register = template.Library()

DEFAULT_IMPORT_SOURCE = "legacy"  # imports.services.import_upload's default source

PII_FIELDS: dict[str, Promise] = {
    "phone": _("Phone"),
    "name": _("Name"),
    "birthday": _("Birthday"),
    "email": _("E-mail"),
    "address": _("Address"),
}

# Where unmasked personal data was shown (audit.PiiAccess.source): the page or API operation.
ACCESS_SOURCES: dict[str, Promise] = {
    "console:member_detail": _("Member page"),
    "console:member_phone": _("Member page: full phone shown"),
    "console:member_edit": _("Member profile form"),
    "console:members_export": _("Member list export (CSV)"),
    "console:duplicate_pair": _("Duplicate review"),
    "console:duplicate_phones": _("Duplicate review: full phones shown"),
    "api:console.members_search": _("Console API: member search"),
    "api:console.member_detail": _("Console API: member record"),
    "api:console.member_register": _("Console API: member registration"),
    "merchant:shop_order": _("Online order in the merchant portal: delivery address"),
}


@register.filter
def import_source(value: str | None) -> str:
    if not value:
        return ""
    return str(_("Previous member system")) if value == DEFAULT_IMPORT_SOURCE else value


@register.filter
def item_category(value: str | None) -> str:
    return item_category_label(value) if value else ""


@register.filter
def pii_fields(value: str | None) -> str:
    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    return list_separator().join(str(PII_FIELDS.get(name, name)) for name in names)


@register.filter
def access_source(value: str | None) -> str:
    if not value:
        return ""
    label = ACCESS_SOURCES.get(value)
    return str(label) if label is not None else value
