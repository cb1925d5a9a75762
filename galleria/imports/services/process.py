"""The row engine shared by the dry run and the real run: read a batch of rows, decide each row's outcome against
the database and the earlier rows of the file, and (real run) write the batch.

The dry run calls `process_batch(write=False)`: it only reads business tables. The real run calls it with
`write=True` inside the batch's transaction, so the plan and the writes see the same data; a unique constraint
that fires (a concurrent registration took a phone or a card) rolls the batch back and the caller retries it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from galleria.core import timeutil
from galleria.core.ids import new_card_number
from galleria.core.locking import lock_rows
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, TransactionKind
from galleria.ledger.types import Leg
from galleria.malls.models import Mall
from galleria.members import rules as member_rules
from galleria.members.models import (
    Consent,
    ConsentPurpose,
    Gender,
    IdentifierKind,
    JoinChannel,
    Member,
    MemberIdentifier,
)
from galleria.members.selectors import members_active
from galleria.merchants.models import Merchant
from galleria.points import rules as points_rules
from galleria.points.models import PointsLot
from galleria.points.selectors import expiry_config, policy_get
from galleria.tiers import services as tier_services
from galleria.tiers.models import MemberTier, TierChange, TierChangeReason, TierLevel, TierSpend
from galleria.tiers.selectors import tier_ladder

from .. import rules
from ..models import ImportJob, ImportKind, ImportRow, OpeningBalance, Outcome, Phase
from ..types import RawRow

MAX_PLATES = 5
IMPORT_LABEL = "import"


# ---------------------------------------------------------------------------------------------- context


@dataclass
class Context:
    """What a run needs once: the group's malls, tiers, merchants, points policy, today."""

    job: ImportJob
    actor_user_id: int | None
    malls: dict[str, Mall]
    default_mall: Mall | None
    tiers: dict[str, TierLevel]
    ladder: list[TierLevel]
    merchants: dict[str, list[Merchant]]
    mall_tz: dict[int, str]
    today: dt.date
    now: dt.datetime
    expiry_default: dt.date | None
    issued_account_id: int | None = None


def load_context(job: ImportJob, *, actor_user_id: int | None = None) -> Context:
    group_id = job.mall_group_id
    malls = list(Mall.objects.filter(group_id=group_id).order_by("pk"))
    by_key: dict[str, Mall] = {}
    for mall in malls:
        by_key.setdefault(rules.lookup_key(mall.code), mall)
        by_key.setdefault(rules.lookup_key(mall.name), mall)
    ladder = tier_ladder(mall_group_id=group_id)
    tiers: dict[str, TierLevel] = {}
    for level in ladder:
        tiers.setdefault(rules.lookup_key(level.code), level)
        tiers.setdefault(rules.lookup_key(level.name), level)
    merchants: dict[str, list[Merchant]] = defaultdict(list)
    if job.kind == ImportKind.SALES:
        for merchant in Merchant.objects.filter(mall__group_id=group_id).order_by("pk"):
            merchants[rules.lookup_key(merchant.name)].append(merchant)
            merchants[f"#{merchant.pk}"].append(merchant)
    default_mall = next((m for m in malls if m.pk == job.default_mall_id), malls[0] if malls else None)
    tz_name = default_mall.timezone if default_mall else None
    now = timeutil.now()
    today = timeutil.local_date(now, tz_name)
    policy = policy_get(mall_group_id=group_id)
    return Context(
        job=job,
        actor_user_id=actor_user_id,
        malls=by_key,
        default_mall=default_mall,
        tiers=tiers,
        ladder=ladder,
        merchants=dict(merchants),
        mall_tz={m.pk: m.timezone for m in malls},
        today=today,
        now=now,
        expiry_default=points_rules.expiry_date(earned_on=today, config=expiry_config(policy=policy)),
    )


# ---------------------------------------------------------------------------------------------- parsing


@dataclass
class Plan:
    """One row: its outcome and, for rows that write, what to write."""

    raw: RawRow
    outcome: str = ""
    code: str = ""
    field: str = ""
    other_line: int | None = None
    member_id: int | None = None
    key: str = ""
    card: str = ""
    plate: str = ""
    label: str = ""
    values: dict[str, Any] = dc_field(default_factory=dict)
    changes: dict[str, Any] = dc_field(default_factory=dict)

    def fail(self, code: str, field_name: str = "") -> None:
        self.outcome, self.code, self.field = Outcome.ERROR, code, field_name
        self.key = self.card = self.plate = ""

    def duplicate(self, code: str, *, member_id: int | None = None, other_line: int | None = None) -> None:
        self.outcome, self.code, self.member_id, self.other_line = Outcome.DUPLICATE, code, member_id, other_line
        self.card = self.plate = ""


def _cell(raw: RawRow, mapping: dict[str, int], name: str) -> str:
    index = mapping.get(name)
    if index is None:
        return ""
    if index in raw.formulas:
        raise rules.CellError("formula", name)
    return rules.clean(raw.cells[index])


def _raw_label(raw: RawRow, mapping: dict[str, int], *names: str) -> str:
    """What an error row was, for the report: the phone masked like everywhere else, a name masked, other cells
    cut short; a formula cell shows as "=…" (never its text)."""
    parts: list[str] = []
    for name in names:
        index = mapping.get(name)
        if index is None or index >= len(raw.cells):
            continue
        if index in raw.formulas:
            parts.append("=…")
            continue
        text = rules.clean(raw.cells[index])
        if name == "phone":
            digits = "".join(ch for ch in text if ch.isdigit())
            text = member_rules.mask_phone(digits) if len(digits) >= 7 else text[:16]
        elif name == "name":
            text = member_rules.mask_name(text[:50])
        parts.append(text[:24])
    return " ".join(p for p in parts if p)[:80]


def _parse_member(raw: RawRow, mapping: dict[str, int], ctx: Context) -> Plan:
    plan = Plan(raw=raw, label=_raw_label(raw, mapping, "phone", "name"))
    if raw.merged:
        plan.fail("merged")
        return plan
    try:
        for name in mapping:
            if mapping[name] in raw.formulas:
                raise rules.CellError("formula", name)
        phone_text = _cell(raw, mapping, "phone")
        if not phone_text:
            raise rules.CellError("phone_missing", "phone")
        phone = member_rules.normalize_phone(phone_text, regions=settings.GALLERIA_PHONE_REGIONS)
        if phone is None:
            raise rules.CellError("phone_invalid", "phone")
        values: dict[str, Any] = {"phone": phone}
        name = _cell(raw, mapping, "name")
        if len(name) > 50:
            raise rules.CellError("name_too_long", "name")
        if name:
            values["name"] = name
        gender_text = _cell(raw, mapping, "gender")
        if gender_text:
            try:
                gender = rules.parse_gender(gender_text)
            except rules.CellError as exc:
                raise rules.CellError(exc.code, "gender") from exc
            if gender != Gender.UNKNOWN:
                values["gender"] = gender
        for name_, target in (("birthday", "birthday"), ("joined_on", "joined_on"), ("points_expire_on", "expires")):
            text = _cell(raw, mapping, name_)
            if text:
                try:
                    values[target] = rules.parse_date(text)
                except rules.CellError as exc:
                    raise rules.CellError(exc.code, name_) from exc
        birthday = values.get("birthday")
        if birthday is not None and not dt.date(1900, 1, 1) <= birthday <= ctx.today:
            raise rules.CellError("birthday_range", "birthday")
        joined = values.get("joined_on")
        if joined is not None and joined > ctx.today:
            raise rules.CellError("joined_future", "joined_on")
        email = _cell(raw, mapping, "email")
        if email:
            values["email"] = _with_field(rules.parse_email, email, "email")
        card = _cell(raw, mapping, "card_no")
        if card:
            values["card"] = _with_field(rules.parse_card, card, "card_no")
        plate_text = _cell(raw, mapping, "plate")
        if plate_text:
            plate = member_rules.normalize_plate(plate_text)
            if plate is None:
                raise rules.CellError("plate_invalid", "plate")
            values["plate"] = plate
        mall_text = _cell(raw, mapping, "join_mall")
        mall = ctx.malls.get(rules.lookup_key(mall_text)) if mall_text else ctx.default_mall
        if mall is None:
            raise rules.CellError("mall_unknown", "join_mall")
        values["mall"] = mall
        tier_text = _cell(raw, mapping, "tier")
        if tier_text:
            level = ctx.tiers.get(rules.lookup_key(tier_text))
            if level is None:
                raise rules.CellError("tier_unknown", "tier")
            values["tier"] = level
        points_text = _cell(raw, mapping, "points")
        points = _with_field(rules.parse_points, points_text, "points") if points_text else 0
        if points:
            values["points"] = points
            expires = values.get("expires")
            if expires is not None and expires < ctx.today:
                raise rules.CellError("expiry_past", "points_expire_on")
            values["expires_on"] = expires if expires is not None else ctx.expiry_default
    except rules.CellError as exc:
        plan.fail(exc.code, exc.field)
        return plan
    plan.values = values
    plan.key = phone
    plan.card = values.get("card", "")
    plan.plate = values.get("plate", "")
    plan.label = f"{member_rules.mask_phone(phone)} {member_rules.mask_name(values.get('name', ''))}".strip()[:80]
    return plan


def _with_field(parse: Any, text: str, name: str) -> Any:
    try:
        return parse(text)
    except rules.CellError as exc:
        raise rules.CellError(exc.code, name) from exc


# ---------------------------------------------------------------------------------------------- members


def _earlier(job: ImportJob, phase: str, column: str, values: set[str], before: int) -> dict[str, ImportRow]:
    """Rows of earlier batches (same job and phase) that claimed these phones / cards / plates."""
    if not values:
        return {}
    rows = (
        ImportRow.objects.filter(job=job, phase=phase, line__lt=before, **{f"{column}__in": list(values)})
        .exclude(outcome__in=(Outcome.ERROR, Outcome.DUPLICATE))
        .order_by("line")
    )
    found: dict[str, ImportRow] = {}
    for row in rows.only("line", "key", "card", "plate", "member_id"):
        found.setdefault(getattr(row, column), row)
    return found


def _owners(group_id: int, kind: str, values: set[str]) -> dict[str, int]:
    if not values:
        return {}
    return dict(
        MemberIdentifier.objects.filter(mall_group_id=group_id, kind=kind, value__in=list(values)).values_list(
            "value", "member_id"
        )
    )


def _plan_members(plans: list[Plan], ctx: Context, phase: str) -> None:
    job = ctx.job
    group_id = job.mall_group_id
    live = [p for p in plans if not p.outcome]
    if not live:
        return
    first = plans[0].raw.line
    phones = {p.key for p in live}
    cards = {p.card for p in live if p.card}
    plates = {p.plate for p in live if p.plate}
    earlier_phone = _earlier(job, phase, "key", phones, first)
    earlier_card = _earlier(job, phase, "card", cards, first)
    earlier_plate = _earlier(job, phase, "plate", plates, first)
    by_phone = _owners(group_id, IdentifierKind.PHONE, phones)
    card_owner = _owners(group_id, IdentifierKind.PHYSICAL_CARD, cards)
    plate_owner = _owners(group_id, IdentifierKind.PLATE, plates)
    existing_ids = set(by_phone.values())
    members = {m.pk: m for m in members_active().filter(pk__in=existing_ids)}
    plate_counts = dict(
        MemberIdentifier.objects.filter(member_id__in=existing_ids, kind=IdentifierKind.PLATE)
        .values("member_id")
        .annotate(n=Count("id"))
        .values_list("member_id", "n")
    )
    balanced = set(
        OpeningBalance.objects.filter(
            mall_group_id=group_id, source=job.source, member_id__in=existing_ids
        ).values_list("member_id", flat=True)
    )
    tier_of = dict(MemberTier.objects.filter(member_id__in=existing_ids).values_list("member_id", "level_id"))
    seen_phone: dict[str, Plan] = {}
    seen_card: dict[str, Plan] = {}
    seen_plate: dict[str, Plan] = {}
    for plan in live:
        v = plan.values
        before = seen_phone.get(plan.key) or earlier_phone.get(plan.key)
        if before is not None:
            line = before.raw.line if isinstance(before, Plan) else before.line
            plan.duplicate("phone_in_file", member_id=before.member_id, other_line=line)
            continue
        member_id = by_phone.get(plan.key)
        member = members.get(member_id) if member_id else None
        if member_id and member is None:
            plan.fail("phone_invalid", "phone")  # the phone belongs to a merged or erased record: staff decide
            continue
        plan.member_id = member_id
        if plan.card:
            owner = card_owner.get(plan.card)
            other = seen_card.get(plan.card) or earlier_card.get(plan.card)
            if owner is not None and owner != member_id:
                plan.duplicate("card_taken", member_id=owner)
                continue
            if other is not None:
                line = other.raw.line if isinstance(other, Plan) else other.line
                plan.duplicate("card_taken", member_id=other.member_id, other_line=line)
                continue
        if plan.plate:
            owner = plate_owner.get(plan.plate)
            other = seen_plate.get(plan.plate) or earlier_plate.get(plan.plate)
            if owner is not None and owner != member_id:
                plan.duplicate("plate_taken", member_id=owner)
                continue
            if other is not None:
                line = other.raw.line if isinstance(other, Plan) else other.line
                plan.duplicate("plate_taken", member_id=other.member_id, other_line=line)
                continue
        seen_phone[plan.key] = plan
        if plan.card:
            seen_card[plan.card] = plan
        if plan.plate:
            seen_plate[plan.plate] = plan
        if member is None:
            plan.outcome = Outcome.CREATED
            continue
        changes: dict[str, Any] = {}
        for name in ("name", "birthday", "email"):
            if v.get(name) and not getattr(member, name):
                changes[name] = v[name]
        if v.get("gender") and member.gender == Gender.UNKNOWN:
            changes["gender"] = v["gender"]
        if plan.card and card_owner.get(plan.card) != member.pk:
            changes["card"] = plan.card
        if plan.plate and plate_owner.get(plan.plate) != member.pk:
            if plate_counts.get(member.pk, 0) >= MAX_PLATES:
                plan.fail("plate_limit", "plate")
                continue
            changes["plate"] = plan.plate
        if v.get("points") and member.pk not in balanced:
            changes["points"] = v["points"]
        if v.get("tier") and tier_of.get(member.pk) != v["tier"].pk:
            changes["tier"] = v["tier"]
        plan.changes = changes
        plan.outcome = Outcome.UPDATED if changes else Outcome.UNCHANGED


def _new_cards(group_id: int, n: int) -> list[str]:
    """n fresh member card numbers unused in the group (random; a collision is drawn again)."""
    cards: set[str] = set()
    while len(cards) < n:
        wanted = {new_card_number() for _ in range(n - len(cards))} - cards
        taken = set(
            MemberIdentifier.objects.filter(
                mall_group_id=group_id, kind=IdentifierKind.CARD, value__in=list(wanted)
            ).values_list("value", flat=True)
        )
        cards |= wanted - taken
    return list(cards)


def _write_members(plans: list[Plan], ctx: Context) -> None:
    job = ctx.job
    group_id = job.mall_group_id
    now = ctx.now
    new = [p for p in plans if p.outcome == Outcome.CREATED]
    updated = [p for p in plans if p.outcome == Outcome.UPDATED]
    identifiers: list[MemberIdentifier] = []
    tiers: list[MemberTier] = []
    changes: list[TierChange] = []
    credit: list[tuple[Plan, int]] = []  # (plan, member id)
    if new:
        cards = _new_cards(group_id, len(new))
        rows = []
        for plan, card in zip(new, cards, strict=True):
            v = plan.values
            joined = v.get("joined_on")
            mall: Mall = v["mall"]
            created_at = timeutil.local_day_bounds(joined, mall.timezone)[0] if isinstance(joined, dt.date) else now
            rows.append(
                Member(
                    mall_group_id=group_id,
                    phone=plan.key,
                    card_no=card,
                    name=v.get("name", ""),
                    gender=v.get("gender", Gender.UNKNOWN),
                    birthday=v.get("birthday"),
                    email=v.get("email", ""),
                    join_channel=JoinChannel.IMPORT,
                    join_mall=mall,
                    created_by_id=ctx.actor_user_id,
                    code_secret=secrets.token_hex(16),
                    created_at=created_at,
                )
            )
        members = Member.objects.bulk_create(rows)
        consents = []
        for plan, member in zip(new, members, strict=True):
            plan.member_id = member.pk
            identifiers.append(_ident(group_id, member.pk, IdentifierKind.PHONE, plan.key))
            identifiers.append(_ident(group_id, member.pk, IdentifierKind.CARD, member.card_no))
            if plan.card:
                identifiers.append(_ident(group_id, member.pk, IdentifierKind.PHYSICAL_CARD, plan.card))
            if plan.plate:
                identifiers.append(_ident(group_id, member.pk, IdentifierKind.PLATE, plan.plate))
            consents.append(
                Consent(
                    member_id=member.pk,
                    purpose=ConsentPurpose.PRIVACY_POLICY,
                    is_granted=True,
                    channel=JoinChannel.IMPORT,
                )
            )
            if ctx.ladder:
                level = plan.values.get("tier") or ctx.ladder[0]
                tiers.append(MemberTier(member_id=member.pk, level=level, since=now))
                given = "tier" in plan.values
                changes.append(
                    TierChange(
                        member_id=member.pk,
                        from_level=None,
                        to_level=level,
                        reason=TierChangeReason.IMPORT if given else TierChangeReason.JOIN,
                        note=f"import #{job.pk} line {plan.raw.line}",
                        actor_label=IMPORT_LABEL,
                        at=now,
                    )
                )
            if plan.values.get("points"):
                credit.append((plan, member.pk))
        Consent.objects.bulk_create(consents)
    if updated:
        ids = [p.member_id for p in updated if p.member_id]
        locked = {m.pk: m for m in lock_rows(Member.objects.filter(pk__in=ids))}
        dirty: dict[str, list[Member]] = defaultdict(list)
        for plan in updated:
            assert plan.member_id is not None
            member = locked[plan.member_id]
            c = plan.changes
            for name in ("name", "gender", "birthday", "email"):
                if name in c:
                    setattr(member, name, c[name])
                    dirty[name].append(member)
            if "card" in c:
                identifiers.append(_ident(group_id, member.pk, IdentifierKind.PHYSICAL_CARD, c["card"]))
            if "plate" in c:
                identifiers.append(_ident(group_id, member.pk, IdentifierKind.PLATE, c["plate"]))
            if "tier" in c:
                _set_tier(member.pk, c["tier"], ctx, plan.raw.line)
            if "points" in c:
                credit.append((plan, member.pk))
        for name, rows_ in dirty.items():
            Member.objects.bulk_update(rows_, [name])
    MemberIdentifier.objects.bulk_create(identifiers)
    MemberTier.objects.bulk_create(tiers)
    TierChange.objects.bulk_create(changes)
    _credit_opening(credit, ctx, new_ids={p.member_id for p in new})


def _ident(group_id: int, member_id: int, kind: str, value: str) -> MemberIdentifier:
    return MemberIdentifier(mall_group_id=group_id, member_id=member_id, kind=kind, value=value)


def _set_tier(member_id: int, level: TierLevel, ctx: Context, line: int) -> None:
    """Put an existing member on the imported tier, with a TierChange of reason `import` (no grace, no
    override: the daily review treats it like any other level from now on)."""
    row = tier_services.tier_lock_in_tx(member_id=member_id, mall_group_id=ctx.job.mall_group_id)
    if row is None or row.level_id == level.pk:
        return
    previous = row.level_id
    row.level = level
    row.since = ctx.now
    row.grace_until = None
    row.override_until = None
    row.save(update_fields=["level", "since", "grace_until", "override_until"])
    TierChange.objects.create(
        member_id=member_id,
        from_level_id=previous,
        to_level=level,
        reason=TierChangeReason.IMPORT,
        note=f"import #{ctx.job.pk} line {line}",
        actor_label=IMPORT_LABEL,
        at=ctx.now,
    )


def _credit_opening(credit: list[tuple[Plan, int]], ctx: Context, *, new_ids: set[int | None]) -> None:
    """Opening balances: one ledger transaction (kind `import`) per member, member points account credited from
    the group's points-issued account (funder: the mall), a lot with the expiry date, and the `OpeningBalance`
    row whose unique (group, member, source) constraint makes a second posting impossible."""
    if not credit:
        return
    job = ctx.job
    group_id = job.mall_group_id
    issued = ctx.issued_account_id or ledger.system_account_id(mall_group_id=group_id, kind=AccountKind.POINTS_ISSUED)
    fresh = [Account(mall_group_id=group_id, member_id=m, kind=AccountKind.MEMBER_POINTS, asset=Asset.POINTS, balance=0)
             for _p, m in credit if m in new_ids]  # fmt: skip
    accounts: dict[int, Account] = {a.member_id: a for a in Account.objects.bulk_create(fresh) if a.member_id}
    for _plan, member_id in credit:
        if member_id not in accounts:
            locked = ledger.lock_member_accounts(
                mall_group_id=group_id, member_id=member_id, kinds=[AccountKind.MEMBER_POINTS]
            )
            accounts[member_id] = locked[AccountKind.MEMBER_POINTS]
    lots: list[PointsLot] = []
    balances: list[OpeningBalance] = []
    for plan, member_id in credit:
        points = int(plan.values["points"])
        expires_on = plan.values.get("expires_on")
        account = accounts[member_id]
        tx = ledger.post(
            mall_group_id=group_id,
            kind=TransactionKind.IMPORT,
            legs=[Leg(account.pk, Asset.POINTS, points), Leg(issued, Asset.POINTS, -points)],
            member_accounts={account.pk: account},
            occurred_at=ctx.now,
            memo=f"opening balance ({job.source})",
            source=f"import:{job.pk}",
            explanation={"import": job.pk, "line": plan.raw.line, "source": job.source, "funding": {"mall": points}},
        )
        lots.append(
            PointsLot(
                mall_group_id=group_id,
                member_id=member_id,
                transaction_id=tx.pk,
                points=points,
                remaining=points,
                earned_at=ctx.now,
                expires_on=expires_on,
            )
        )
        balances.append(
            OpeningBalance(
                mall_group_id=group_id,
                member_id=member_id,
                source=job.source,
                job=job,
                points=points,
                expires_on=expires_on,
                transaction_id=tx.pk,
            )
        )
    PointsLot.objects.bulk_create(lots)
    OpeningBalance.objects.bulk_create(balances)


# ---------------------------------------------------------------------------------------------- past sales


def _parse_sale(raw: RawRow, mapping: dict[str, int], ctx: Context) -> Plan:
    plan = Plan(raw=raw, label=_raw_label(raw, mapping, "phone", "merchant", "sold_on"))
    if raw.merged:
        plan.fail("merged")
        return plan
    try:
        phone = member_rules.normalize_phone(_cell(raw, mapping, "phone"), regions=settings.GALLERIA_PHONE_REGIONS)
        if phone is None:
            raise rules.CellError("phone_invalid", "phone")
        merchant_text = _cell(raw, mapping, "merchant")
        found = ctx.merchants.get(rules.lookup_key(merchant_text)) if merchant_text else None
        if not found:
            raise rules.CellError("merchant_unknown", "merchant")
        if len(found) > 1:
            raise rules.CellError("merchant_ambiguous", "merchant")
        merchant = found[0]
        sold_on = _with_field(rules.parse_date, _cell(raw, mapping, "sold_on"), "sold_on")
        if sold_on > ctx.today:
            raise rules.CellError("sold_future", "sold_on")
        amount = _with_field(rules.parse_amount_fen, _cell(raw, mapping, "amount"), "amount")
    except rules.CellError as exc:
        plan.fail(exc.code, exc.field)
        return plan
    start, end = timeutil.local_day_bounds(sold_on, ctx.mall_tz.get(merchant.mall_id))
    digest = hashlib.sha256(f"{phone}|{merchant.pk}|{sold_on.isoformat()}|{amount}".encode()).hexdigest()[:40]
    plan.key = digest
    plan.values = {"phone": phone, "merchant": merchant, "amount": amount, "at": start + (end - start) / 2}
    plan.label = f"{member_rules.mask_phone(phone)} {merchant.name} {sold_on.isoformat()}"[:80]
    return plan


def _plan_sales(plans: list[Plan], ctx: Context, phase: str) -> None:
    job = ctx.job
    live = [p for p in plans if not p.outcome]
    if not live:
        return
    first = plans[0].raw.line
    keys = {p.key for p in live}
    before = Counter(
        dict(
            ImportRow.objects.filter(job=job, phase=phase, line__lt=first, key__in=list(keys))
            .values("key")
            .annotate(n=Count("id"))
            .values_list("key", "n")
        )
    )
    owners = _owners(job.mall_group_id, IdentifierKind.PHONE, {p.values["phone"] for p in live})
    active = set(members_active().filter(pk__in=set(owners.values())).values_list("pk", flat=True))
    for plan in live:
        ordinal = before[plan.key]
        before[plan.key] += 1
        plan.values["source"] = f"import:{plan.key}:{ordinal}"
        member_id = owners.get(plan.values["phone"])
        if member_id is None or member_id not in active:
            plan.fail("member_unknown", "phone")
            plan.key = plan.values["source"].split(":")[1]  # still counts for the ordinal of identical rows
            continue
        plan.member_id = member_id
    sources = {p.values["source"] for p in live if not p.outcome}
    recorded = set(
        TierSpend.objects.filter(mall_group_id=job.mall_group_id, source__in=list(sources)).values_list(
            "source", flat=True
        )
    )
    for plan in live:
        if not plan.outcome:
            plan.outcome = Outcome.UNCHANGED if plan.values["source"] in recorded else Outcome.CREATED


def _write_sales(plans: list[Plan], ctx: Context) -> None:
    for plan in plans:
        if plan.outcome != Outcome.CREATED or plan.member_id is None:
            continue
        tier_services.tier_record_spend_in_tx(
            member_id=plan.member_id,
            mall_group_id=ctx.job.mall_group_id,
            amount_fen=int(plan.values["amount"]),
            occurred_at=plan.values["at"],
            source=plan.values["source"],
        )


# ---------------------------------------------------------------------------------------------- a batch


def process_batch(batch: list[RawRow], ctx: Context, *, phase: str, write: bool) -> Counter[str]:
    """Decide (and with `write`, apply) a batch of rows, store their `ImportRow`s; returns the outcome counts.
    With `write`, call inside the batch's transaction."""
    mapping = {k: int(v) for k, v in ctx.job.mapping.items()}
    if ctx.job.kind == ImportKind.SALES:
        plans = [_parse_sale(raw, mapping, ctx) for raw in batch]
        _plan_sales(plans, ctx, phase)
        if write:
            _write_sales(plans, ctx)
    else:
        plans = [_parse_member(raw, mapping, ctx) for raw in batch]
        _plan_members(plans, ctx, phase)
        if write:
            _write_members(plans, ctx)
    ImportRow.objects.bulk_create(
        [
            ImportRow(
                job_id=ctx.job.pk,
                phase=phase,
                line=p.raw.line,
                outcome=p.outcome,
                code=p.code,
                field=p.field,
                member_id=p.member_id,
                other_line=p.other_line,
                key=p.key if p.outcome != Outcome.ERROR or ctx.job.kind == ImportKind.SALES else "",
                card=p.card if p.outcome not in (Outcome.ERROR, Outcome.DUPLICATE) else "",
                plate=p.plate if p.outcome not in (Outcome.ERROR, Outcome.DUPLICATE) else "",
                label=p.label,
            )
            for p in plans
        ]
    )
    return Counter(p.outcome for p in plans)


def when_now() -> dt.datetime:
    return timezone.now()


__all__ = ["Context", "Phase", "load_context", "process_batch"]
