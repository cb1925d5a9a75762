"""How the console reads an audit event aloud: translated names for the keys of its `changes`, stored values shown
as their labels (choices, money, booleans, lists), personal data masked for roles without members.view_pii, and a
readable object. Used by the audit log and by member 360's history."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Model
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from galleria.accounts import permissions as perms
from galleria.accounts.models import Role, ThrottleKind
from galleria.accounts.types import Scope
from galleria.audit.models import AuditEvent
from galleria.core.money import format_cny
from galleria.imports.models import ImportKind, Outcome, Phase
from galleria.interfaces.item_categories import item_category_label, list_separator
from galleria.members import rules as member_rules
from galleria.members.models import ConsentPurpose, Gender, IdentifierKind, JoinChannel, Member, MemberStatus
from galleria.merchants.models import Category, Merchant, MerchantStatus, Store
from galleria.privacy.models import RequestVia

SENSITIVE_KEYS = frozenset({"phone", "birthday", "email", "name"})
EMPTY = "—"

# Object types that are not a model's name, and models whose verbose name is not translated.
TARGET_TYPE_LABELS: dict[str, Promise] = {
    "inbox_message": _("Inbox message"),
    "content_image": _("Image"),
    "home_layout": _("App home layout"),
    "tiersettings": _("Tier settings"),
    "user": _("Staff account"),
    "points_mall": _("Points mall"),
    "points_mall_item": _("Points mall item"),
    "points_mall_category": _("Points mall category"),
    "points_mall_order": _("Points mall order"),
}

# Keys of `changes` that are not a model field (or whose field name reads badly).
KEY_LABELS: dict[str, Promise] = {
    "channel": _("Channel"),
    "count": _("Rows"),
    "phones": _("Phones"),
    "filters": _("Filters"),
    "fields": _("Fields"),
    "terminal": _("Terminal"),
    "points": _("Points"),
    "reason": _("Reason"),
    "adjustment": _("Adjustment"),
    "tier": _("Tier"),
    "override_until": _("Override until"),
    "grace_until": _("Grace until"),
    "method": _("Sign-in method"),
    "counter": _("Locked by"),
    "seconds": _("Seconds"),
    "left": _("Recovery codes left"),
    "had_two_step": _("Had 2-step sign-in"),
    "audience": _("Audience"),
    "tier_level_id": _("Tier"),
    "member_id": _("Member"),
    "member": _("Member"),
    "members": _("Members"),
    "version": _("Version"),
    "blocks": _("Blocks"),
    "revision": _("Revision"),
    "type": _("File type"),
    "width": _("Width (px)"),
    "height": _("Height (px)"),
    "bytes": _("File size"),
    "merge": _("Merge"),
    "absorbed": _("Merged-away member"),
    "absorbed_card": _("Merged-away card"),
    "moved": _("Moved"),
    "rows": _("Rows"),
    "lots": _("Points lots"),
    "tier_changed": _("Tier changed"),
    "request": _("Request"),
    "via": _("Requested via"),
    "due_at": _("Due"),
    "format": _("Format"),
    "wallet_fen": _("Wallet money"),
    "member_wallet": _("Wallet money"),
    "member_wallet_bonus": _("Wallet bonus"),
    "member_points": _("Points"),
    "points_forfeited": _("Points forfeited"),
    "bonus_forfeited_fen": _("Bonus forfeited"),
    "coupons_voided": _("Coupons voided"),
    "coupons_paid_fen": _("Paid coupons forfeited"),
    "phase": _("Run"),
    "kind": _("Kind"),
    "file": _("File"),
    "from_line": _("From line"),
    "merchant": _("Merchant"),
    "note": _("Note"),
    "matched_by": _("Found by"),
    "levels": _("Tiers"),
    "pair": _("Members"),
    "reversals": _("Reversals"),
    "status": _("Status"),
    "q": _("Search"),
    "mall": _("Mall"),
    "min_points": _("Points from"),
    "max_points": _("Points to"),
    "order": _("Sort by"),
}

# Stored values of keys that are not a model's choices.
VALUE_LABELS: dict[str, dict[str, Promise]] = {
    "method": {"password": _("Password"), "totp": _("2-step code"), "recovery_code": _("Recovery code")},
    "phones": {"full": _("Full numbers"), "masked": _("Masked")},
    "format": {"json": _("JSON file"), "csv": _("CSV file")},
    "matched_by": {"code": _("Member code"), "card": _("Card number"), "phone": _("Phone")},
}
# Keys whose numbers are ids (shown "#12") or money in fen (shown "¥1,234.50"); other numbers get separators.
ID_KEYS = frozenset({"merge", "request", "absorbed", "member", "merchant", "adjustment", "reversals", "tier_level"})
MONEY_KEYS = frozenset({"member_wallet", "member_wallet_bonus"})
LIST_OF_IDS = frozenset({"pair", "reversals"})  # lists that are not a [before, after] change
ITEM_CATEGORY_KEYS = frozenset({"excluded_categories", "excluded_line_categories"})  # codes sent by tills
FIELD_NAMES: dict[str, Promise] = {
    "phone": _("Phone"),
    "name": _("Name"),
    "birthday": _("Birthday"),
    "email": _("E-mail"),
}


@cache
def _models_by_type() -> dict[str, type[Model]]:
    return {
        model._meta.model_name or "": model for model in apps.get_models() if model.__module__.startswith("galleria.")
    }


def model_for(target_type: str) -> type[Model] | None:
    return _models_by_type().get(target_type)


def target_type_labels() -> dict[str, str]:
    """Audit target types (model names and a few others) → translated names."""
    labels = {name: capfirst(str(model._meta.verbose_name)) for name, model in _models_by_type().items()}
    labels.update({k: str(v) for k, v in TARGET_TYPE_LABELS.items()})
    return labels


def audit_labels() -> dict[str, str]:
    """Readable, translated names for the keys found in audit diffs (model fields, identifier kinds, purposes)."""
    labels: dict[str, str] = {}
    models: list[type[Model]] = [Member, Merchant, Store, *_models_by_type().values()]
    for model in models:
        for field in model._meta.get_fields():
            verbose = getattr(field, "verbose_name", None)
            if verbose and field.name not in labels:
                labels[field.name] = capfirst(str(verbose))
    labels.update({k: str(v) for k, v in IdentifierKind.choices})
    labels.update({k: str(v) for k, v in ConsentPurpose.choices})
    labels.update({k: str(v) for k, v in Outcome.choices})  # an import's counts by outcome
    labels.update({k: str(v) for k, v in KEY_LABELS.items()})
    for name in [n for n in labels if not n.endswith("_id")]:
        labels.setdefault(f"{name}_id", labels[name])  # merchant_id → "Merchant"
    return labels


def value_labels(target_type: str = "") -> dict[str, dict[str, str]]:
    """Stored values in audit diffs (e.g. "desk", "dining", "password") → their translated labels, per key; the
    choices of the event's own model first."""
    out: dict[str, dict[str, str]] = {
        "channel": {k: str(v) for k, v in JoinChannel.choices},
        "join_channel": {k: str(v) for k, v in JoinChannel.choices},
        "gender": {k: str(v) for k, v in Gender.choices},
        "category": {k: str(v) for k, v in Category.choices},
        "categories": {k: str(v) for k, v in Category.choices},
        "scope_categories": {k: str(v) for k, v in Category.choices},
        "status": {**{k: str(v) for k, v in MerchantStatus.choices}, **{k: str(v) for k, v in MemberStatus.choices}},
        "role": {k: str(v) for k, v in Role.choices},
        "counter": {k: str(v) for k, v in ThrottleKind.choices},
        "via": {k: str(v) for k, v in RequestVia.choices},
        "phase": {k: str(v) for k, v in Phase.choices},
        "kind": {k: str(v) for k, v in ImportKind.choices},
        **{key: {k: str(v) for k, v in values.items()} for key, values in VALUE_LABELS.items()},
    }
    model = model_for(target_type)
    if model is not None:
        for field in model._meta.concrete_fields:
            if field.choices:
                out[field.name] = {str(k): str(v) for k, v in field.flatchoices}
    return out


def mask_value(key: str, value: Any) -> Any:
    """Hide personal data in an audit diff for scopes without members.view_pii."""
    if value in (None, ""):
        return value
    text = str(value)
    if key == "phone" and text.startswith("+"):
        return member_rules.mask_phone(text)
    if key == "name":
        return member_rules.mask_name(text)
    return "•••"


def _listed(value: Any) -> Any:
    """A JSON list stored as its Python text by the diff ("['gift_card', 'tobacco']", "[]") → the list."""
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        if isinstance(parsed, list):
            return parsed
    return value


def value_text(key: str, value: Any, choices: Mapping[str, Mapping[str, str]]) -> str:
    """One stored value as a person reads it: its label, ¥ for fen, Yes/No, a list joined, "—" for nothing."""
    value = _listed(value)
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, list | tuple):
        return list_separator().join(value_text(key, v, choices) for v in value)
    if isinstance(value, bool) or value in ("True", "False"):
        return str(_("Yes")) if value in (True, "True") else str(_("No"))
    text = str(value)
    if key == "fields":
        return list_separator().join(str(FIELD_NAMES.get(f.strip(), f.strip())) for f in text.split(",") if f.strip())
    if key in choices and text in choices[key]:
        return choices[key][text]
    if key in ITEM_CATEGORY_KEYS:
        return item_category_label(text)
    number = text.lstrip("-").isdigit()
    if number and (key.endswith("_fen") or key in MONEY_KEYS):
        return format_cny(int(text))
    if number and (key.endswith("_id") or key in ID_KEYS):
        return f"#{text}"
    if isinstance(value, int):  # a count or points; digit strings may be card numbers or phones: left as they are
        return intcomma(value)
    moment = _moment(text)
    if moment is not None:
        return moment
    return text


def _moment(text: str) -> str | None:
    """An ISO date-time with its offset ("2026-10-22 00:00:00+00:00") in the mall's time zone, to the minute."""
    if len(text) < 19 or text[4] != "-" or text[10] not in " T":
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def change_rows(
    changes: Mapping[str, Any], scope: Scope, labels: Mapping[str, str] | None = None, *, target_type: str = ""
) -> list[tuple[str, str]]:
    """An audit event's changes as (label, text) rows — "before → after" for a change, the value otherwise —
    personal data masked unless the scope may see it."""
    can_pii = scope.can(perms.MEMBERS_VIEW_PII)
    labels = labels or {}
    choices = value_labels(target_type)
    rows = []
    for key, value in changes.items():
        key = str(key)
        if key in LIST_OF_IDS and isinstance(value, list | tuple):
            text = ", ".join(f"#{v}" for v in value)
        elif key == "adjustment" and isinstance(value, list | tuple) and len(value) == 2:
            status = value_text("status", value[1], value_labels("pointsadjustment"))
            text = f"#{value[0]} · {status}"
        elif isinstance(value, list | tuple) and len(value) == 2:
            before, after = value
            if not can_pii and key in SENSITIVE_KEYS:
                before, after = mask_value(key, before), mask_value(key, after)
            text = f"{value_text(key, before, choices)} → {value_text(key, after, choices)}"
        elif isinstance(value, dict):
            text = ", ".join(
                f"{labels.get(str(k), str(k))}: {value_text(str(k), v, choices)}" for k, v in value.items()
            )
            text = text or EMPTY
        elif value is None:
            continue  # not applicable (e.g. the tier of a message sent to everyone)
        else:
            if not can_pii and key in SENSITIVE_KEYS:
                value = mask_value(key, value)
            text = value_text(key, value, choices)
        rows.append((labels.get(key, key), text))
    return rows


def object_label(event: AuditEvent) -> str:
    """The object as a person reads it ("12 members" for an export, whose stored label is English)."""
    if event.action == "member.export" and isinstance(event.changes.get("count"), int):
        n = event.changes["count"]
        return ngettext("%(n)s member", "%(n)s members", n) % {"n": intcomma(n)}
    return event.target_label or f"#{event.target_id}"
