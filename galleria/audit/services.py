from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

from .models import AuditEvent, PiiAccess
from .types import Actor

M = TypeVar("M", bound=models.Model)

SENSITIVE_FIELDS = frozenset({"phone", "name", "birthday", "email", "gender", "role", "is_active", "status"})


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed, values as strings (dates included)."""
    out: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b != a:
            out[key] = [None if b is None else str(b), None if a is None else str(a)]
    return out


def audit_record(
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    target_label: str = "",
    mall_group_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor_id=actor.user_id,
        actor_label=actor.label[:100],
        ip=actor.ip,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=target_label[:150],
        mall_group_id=mall_group_id,
        changes=dict(changes or {}),
    )


def audited_save(
    *,
    obj: M,
    values: Mapping[str, Any],
    fields: Iterable[str],
    actor: Actor,
    action: str,
    label: str,
    mall_group_id: int | None,
    is_new: bool,
    exclude: Iterable[str] = (),
) -> M:
    """Assign `values` (only `fields`), validate like the database will (`full_clean`, constraints included; a
    Django ValidationError comes out for the form to show), save, and record the before/after in the audit log.
    Runs inside the caller's transaction, with the row already locked when it exists."""
    fields = tuple(fields)
    before = {} if is_new else {name: getattr(obj, name) for name in fields}
    for name in fields:
        if name in values:
            setattr(obj, name, values[name])
    obj.full_clean(exclude=list(exclude))
    obj.save()
    audit_record(
        actor=actor,
        action=action,
        target_type=obj._meta.model_name or "",
        target_id=obj.pk,
        target_label=label,
        mall_group_id=mall_group_id,
        changes=diff(before, {name: getattr(obj, name) for name in fields}),
    )
    return obj


PII_BULK_BATCH = 1000


def pii_access_record(
    *,
    actor: Actor,
    mall_group_id: int | None,
    member_ids: Iterable[int],
    fields: Iterable[str],
    source: str,
) -> int:
    """Log that `actor` was shown the unmasked `fields` of these members on `source` (a page or API operation).
    One INSERT for one member, bulk INSERTs of PII_BULK_BATCH rows for a list or an export. Returns the row count."""
    field_text = ",".join(sorted(set(fields)))[:100]
    rows = [
        PiiAccess(
            actor_id=actor.user_id,
            actor_label=actor.label[:100],
            ip=actor.ip,
            mall_group_id=mall_group_id,
            member_id=member_id,
            fields=field_text,
            source=source[:60],
        )
        for member_id in dict.fromkeys(member_ids)
    ]
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    elif rows:
        PiiAccess.objects.bulk_create(rows, batch_size=PII_BULK_BATCH)
    return len(rows)


# ---------------------------------------------------------------- erasure (PIPL): the one exception to append-only

ERASED = "[erased]"
# keys whose values in an audit diff are a member's personal data (profile fields, identifier values, display copies)
PERSONAL_KEYS = frozenset(
    {"phone", "name", "email", "birthday", "card_no", "card", "plate", "value", "absorbed_card", "display", "label"}
)


def redact(value: Any, values: Iterable[str], *, key: str = "") -> Any:
    """`value` with personal data replaced by ERASED: anything under a PERSONAL_KEYS key, and every occurrence of
    one of `values` (the member's phone, card, identifiers…) in any string, at any depth."""
    needles = [v for v in values if v]
    if isinstance(value, Mapping):
        return {k: redact(v, needles, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, needles, key=key) for v in value]
    if key in PERSONAL_KEYS and value not in (None, ""):
        return ERASED
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, ERASED)
    return value


def audit_redact_member(*, member_id: int, values: Iterable[str]) -> int:
    """Erase a member's personal data from the audit events about that member (the diffs keep which fields
    changed and when, not the values) and from the object label. Returns how many events were rewritten."""
    needles = list(values)
    changed = []
    for event in AuditEvent.objects.filter(target_type="member", target_id=str(member_id)):
        changes = redact(event.changes, needles)
        label = redact(event.target_label, needles, key="label")
        if changes != event.changes or label != event.target_label:
            event.changes, event.target_label = changes, label
            changed.append(event)
    AuditEvent.objects.bulk_update(changed, ["changes", "target_label"], batch_size=500)
    return len(changed)
