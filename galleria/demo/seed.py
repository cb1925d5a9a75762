"""The demo data set: one mall group, two malls, ~90 merchants, thousands of members, staff in every role.

Deterministic: every value comes from `random.Random` and `Faker("zh_CN")` seeded from `seed` (one stream per part,
so adding shops does not change the members) and from today's date in the mall's time zone. Fast: members, their
identifiers and consents are built in memory and written with `bulk_create`; the service layer (one transaction,
audit record and card-number retry per member) is for real registrations, not for 5,000 at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from faker import Faker

from galleria.accounts.models import Role, User
from galleria.core import timeutil
from galleria.core.ids import luhn_check_digit
from galleria.ledger.services import clear_caches
from galleria.malls.models import Mall, MallGroup
from galleria.members import rules
from galleria.members.models import (
    Consent,
    ConsentPurpose,
    Gender,
    IdentifierKind,
    JoinChannel,
    Member,
    MemberIdentifier,
)
from galleria.merchants.models import Category, Merchant, MerchantStatus, PosTerminal, Store

from . import catalog

BATCH = 1000
HISTORY_DAYS = 730  # members joined over the last 24 months
MALL_TZ = "Asia/Shanghai"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # plates never use I or O
DIGITS = "0123456789"
_T = TypeVar("_T")


class AlreadySeededError(Exception):
    pass


class SeedRefusedError(Exception):
    pass


@dataclass
class SeedResult:
    malls: int = 0
    merchants: int = 0
    stores: int = 0
    terminals: int = 0
    members: int = 0
    identifiers: int = 0
    consents: int = 0
    users: int = 0
    seconds: float = 0.0
    today: dt.date = dt.date.min


def is_seeded() -> bool:
    return MallGroup.objects.filter(code=catalog.GROUP_CODE).exists()


def seed_demo(
    *,
    members: int = catalog.DEFAULT_MEMBERS,
    seed: int = catalog.DEFAULT_SEED,
    reset: bool = False,
    today: dt.date | None = None,
) -> SeedResult:
    """Write the demo data in one transaction. Raises AlreadySeededError if it is there and `reset` is off.

    `reset` wipes the whole database first (flush) — refused when it holds any mall group but the demo's.
    """
    started = time.perf_counter()
    today = today or timeutil.local_date(timezone.now(), MALL_TZ)
    with transaction.atomic():
        if reset:
            _wipe()
        elif is_seeded():
            raise AlreadySeededError(catalog.GROUP_CODE)
        taken = sorted(
            User.objects.filter(username__in=[s.username for s in catalog.STAFF]).values_list("username", flat=True)
        )
        if taken:
            raise SeedRefusedError(f"staff user(s) {', '.join(taken)} exist already; --reset wipes a demo database")
        result = SeedResult(today=today)
        group, malls = _seed_malls(today)
        result.malls = len(malls)
        merchants = _seed_merchants(malls, seed=seed, today=today, result=result)
        result.users = _seed_staff(group, merchants)
        _seed_members(group, malls, merchants, count=members, seed=seed, today=today, result=result)
    result.seconds = time.perf_counter() - started
    return result


def _wipe() -> None:
    others = MallGroup.objects.exclude(code=catalog.GROUP_CODE).values_list("code", flat=True)
    if others.exists():
        raise SeedRefusedError(
            f"the database holds other mall groups ({', '.join(others[:5])}); --reset only wipes a demo database"
        )
    if connection.vendor == "postgresql":
        # TRUNCATE refuses tables with pending deferred-constraint checks in this transaction: run them now.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)
    clear_caches()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# ---------------------------------------------------------------- helpers


def _weighted(rng: random.Random, pairs: Sequence[tuple[_T, int]]) -> _T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _local(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time(hour, minute, second))
    return naive.replace(tzinfo=timeutil.zone(MALL_TZ)).astimezone(dt.UTC)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _backdate(queryset: models.QuerySet[Any], when: dt.datetime) -> None:
    """`auto_now_add` stamps "now" on insert; one UPDATE writes the history the demo tells."""
    queryset.update(created_at=when)


def mobile(rng: random.Random, seen: set[str]) -> str:
    """A unique, valid mainland mobile number in E.164 (checked with the same rule the services use)."""
    while True:
        national = f"{rng.choice(catalog.PHONE_PREFIXES)}{rng.randrange(10**8):08d}"
        e164 = rules.normalize_phone(national)
        if e164 is not None and e164 not in seen:
            seen.add(e164)
            return e164


def card_number(rng: random.Random, seen: set[str]) -> str:
    """'8' + 10 digits + Luhn check digit: the format of galleria.core.ids, drawn from the seeded generator."""
    while True:
        base = f"8{rng.randrange(10**10):010d}"
        number = base + luhn_check_digit(base)
        if number not in seen:
            seen.add(number)
            return number


def plate(rng: random.Random, seen: set[str]) -> str:
    """A unique plate: mostly 粤B, one in five an 8-character new-energy plate (粤BD12345)."""
    while True:
        region = _weighted(rng, catalog.PLATE_REGIONS)
        if rng.random() < catalog.NEW_ENERGY_SHARE:
            body = rng.choice("DDDDF") + rng.choice(LETTERS + DIGITS) + f"{rng.randrange(10**4):04d}"
        else:
            body = "".join(
                rng.choice(LETTERS) if i < 3 and rng.random() < 0.2 else rng.choice(DIGITS) for i in range(5)
            )
        value = rules.normalize_plate(region + body)
        if value is not None and value not in seen:
            seen.add(value)
            return value


def credit_code(rng: random.Random) -> str:
    """An 18-character unified social credit code (GB 32100) with a correct check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    body = "91440300" + "".join(rng.choice(alphabet) for _ in range(9))
    check = (31 - sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True)) % 31) % 31
    return body + alphabet[check]


# ---------------------------------------------------------------- malls and merchants


def _seed_malls(today: dt.date) -> tuple[MallGroup, dict[str, Mall]]:
    group = MallGroup.objects.create(name=catalog.GROUP_NAME, code=catalog.GROUP_CODE)
    malls = {
        spec.code: Mall(
            group=group,
            name=spec.name,
            code=spec.code,
            timezone=MALL_TZ,
            city=spec.city,
            address=spec.address,
            phone=spec.phone,
            opens_at=spec.opens_at,
            closes_at=spec.closes_at,
            parking_spaces=spec.parking_spaces,
        )
        for spec in catalog.MALLS
    }
    Mall.objects.bulk_create(malls.values())
    _backdate(MallGroup.objects.filter(pk=group.pk), opened_at(today))
    _backdate(Mall.objects.filter(group=group), opened_at(today))
    return group, malls


def opened_at(today: dt.date) -> dt.datetime:
    """When the malls and their shops opened: a month before the first member joined."""
    return _local(today - dt.timedelta(days=HISTORY_DAYS + 30), 9, 0)


def _seed_merchants(
    malls: dict[str, Mall], *, seed: int, today: dt.date, result: SeedResult
) -> dict[tuple[str, str], Merchant]:
    rng = random.Random(f"{seed}:merchants")
    fake = Faker("zh_CN")
    fake.seed_instance(f"{seed}:merchants")
    phones: set[str] = set()
    units: dict[tuple[str, str], int] = {}
    merchants: dict[tuple[str, str], Merchant] = {}
    floors: dict[tuple[str, str], str] = {}
    contract_seq = itertools.count(1)
    for spec in catalog.MALLS:
        for category, brands in catalog.BRANDS.items():
            profile = catalog.PROFILES[category]
            for name, where in brands:
                if spec.key not in where:
                    continue
                floor_choices, area = catalog.OVERRIDES.get(name, (profile.floors, profile.area_m2))
                term_days = profile.term_years * 365
                starts_on = today - dt.timedelta(days=rng.randint(30, term_days - 60))
                ends_on = _add_years(starts_on, profile.term_years) - dt.timedelta(days=1)
                key = (spec.code, name)
                merchants[key] = Merchant(
                    mall=malls[spec.code],
                    name=name,
                    category=category,
                    status=MerchantStatus.SUSPENDED if key == catalog.SUSPENDED else MerchantStatus.ACTIVE,
                    legal_name=f"深圳市{rng.choice(catalog.LEGAL_STEMS)}{profile.industry}有限公司",
                    credit_code=credit_code(rng),
                    contact_name=fake.name(),
                    contact_phone=mobile(rng, phones),
                    contract_no=f"XH-{spec.short}-{starts_on.year}-{next(contract_seq):04d}",
                    contract_starts_on=starts_on,
                    contract_ends_on=ends_on,
                    commission_bp=rng.randrange(profile.commission_bp[0], profile.commission_bp[1] + 1, 50),
                    area_m2=rng.randint(*area),
                )
                floors[key] = rng.choice(floor_choices)
    Merchant.objects.bulk_create(merchants.values(), batch_size=BATCH)

    stores: list[Store] = []
    for (mall_code, name), merchant in merchants.items():
        floor = floors[(mall_code, name)]
        number = units.get((mall_code, floor), rng.randint(1, 6)) + rng.randint(1, 4)
        units[(mall_code, floor)] = number
        mall_name = next(m.name for m in catalog.MALLS if m.code == mall_code)
        stores.append(
            Store(
                merchant=merchant,
                name=f"{name} {mall_name}店",
                floor=floor,
                unit_no=f"{floor}-{number:03d}",
                phone=f"0755-{rng.randint(2, 8)}{rng.randrange(10**7):07d}",
                is_active=merchant.status == MerchantStatus.ACTIVE,
            )
        )
    Store.objects.bulk_create(stores, batch_size=BATCH)
    terminals = [
        PosTerminal(store=store, name=f"收银台 {i}") for store in stores for i in range(1, rng.choice((1, 1, 2)) + 1)
    ]
    PosTerminal.objects.bulk_create(terminals, batch_size=BATCH)
    # The shops opened with the malls (the contracts are the current terms).
    group_malls = list(malls.values())
    _backdate(Merchant.objects.filter(mall__in=group_malls), opened_at(today))
    _backdate(Store.objects.filter(merchant__mall__in=group_malls), opened_at(today))
    _backdate(PosTerminal.objects.filter(store__merchant__mall__in=group_malls), opened_at(today))
    result.merchants, result.stores, result.terminals = len(merchants), len(stores), len(terminals)
    return merchants


# ---------------------------------------------------------------- staff


def _seed_staff(group: MallGroup, merchants: dict[tuple[str, str], Merchant]) -> int:
    password = make_password(catalog.DEMO_PASSWORD)  # hashed once (Argon2 is slow on purpose), shared by all
    users = []
    for spec in catalog.STAFF:
        is_platform = spec.role == Role.PLATFORM_ADMIN
        users.append(
            User(
                username=spec.username,
                display_name=spec.display_name,
                role=spec.role,
                password=password,
                mall_group=None if is_platform else group,
                merchant=merchants[spec.merchant] if spec.merchant else None,
                is_staff=is_platform,
                is_superuser=is_platform,
            )
        )
    User.objects.bulk_create(users)
    return len(users)


# ---------------------------------------------------------------- members

_HOUR_WEIGHTS = tuple(
    zip(range(8, 24), (1, 2, 5, 7, 10, 11, 8, 7, 8, 10, 12, 12, 10, 7, 3, 1), strict=True)
)  # fmt: skip
_NAMELESS: dict[str, float] = {JoinChannel.POS: 0.25, JoinChannel.PARKING: 0.2}
_POS_CATEGORY_WEIGHT: dict[str, int] = {Category.DINING: 4, Category.SUPERMARKET: 3, Category.FASHION: 2}


def _joined_at(rng: random.Random, today: dt.date, channel: str) -> dt.datetime:
    """Growth: the density of sign-ups rises linearly (×3 over the window); imports came in the first month."""
    if channel == JoinChannel.IMPORT:
        days_ago = HISTORY_DAYS - rng.randint(0, 30)
    else:
        x = (math.sqrt(1 + 8 * rng.random()) - 1) / 2  # inverse CDF of f(x) ∝ 1 + 2x on [0, 1]
        days_ago = max(1, math.ceil((1 - x) * HISTORY_DAYS))
    hour = _weighted(rng, _HOUR_WEIGHTS)
    if channel != JoinChannel.APP:
        hour = min(max(hour, 10), 21)  # at a till or desk: opening hours only
    return _local(today - dt.timedelta(days=days_ago), hour, rng.randrange(60), rng.randrange(60))


def _seed_members(
    group: MallGroup,
    malls: dict[str, Mall],
    merchants: dict[tuple[str, str], Merchant],
    *,
    count: int,
    seed: int,
    today: dt.date,
    result: SeedResult,
) -> None:
    rng = random.Random(f"{seed}:members")
    fake = Faker("zh_CN")
    fake.seed_instance(f"{seed}:members")
    start_of_today = _local(today, 0, 0)
    mall_pairs = [(malls[spec.code], spec.share) for spec in catalog.MALLS]
    pos_merchants = {
        mall.pk: [
            (m, _POS_CATEGORY_WEIGHT.get(m.category, 1))
            for m in merchants.values()
            if m.mall_id == mall.pk and m.status == MerchantStatus.ACTIVE
        ]
        for mall in malls.values()
    }
    phones: set[str] = set()
    cards: set[str] = set()
    plate_seen: set[str] = set()
    rows: list[tuple[Member, list[str], bool]] = []
    for _ in range(count):
        channel = _weighted(rng, catalog.JOIN_CHANNELS)
        mall = _weighted(rng, mall_pairs)
        created_at = _joined_at(rng, today, channel)
        roll = rng.random()
        gender = Gender.FEMALE if roll < 0.54 else Gender.MALE if roll < 0.97 else Gender.UNKNOWN
        name = {Gender.FEMALE: fake.name_female, Gender.MALE: fake.name_male}.get(gender, fake.name)()
        if rng.random() < _NAMELESS.get(channel, 0.0):
            name = ""  # "pay = join" and the car park ask for a phone only
        birthday = None
        if rng.random() >= 0.15:
            age_days = int(rng.triangular(18.05, 70.95, 31) * 365.25)
            birthday = today - dt.timedelta(days=age_days)
        if channel == JoinChannel.PARKING or rng.random() < 0.28:
            plates = [plate(rng, plate_seen) for _ in range(1 if rng.random() < 0.8 else 2)]
        else:
            plates = []
        since = (start_of_today - created_at).total_seconds()
        if rng.random() < 0.12:
            last_active_at = created_at + dt.timedelta(minutes=rng.randint(1, 30))  # never came back
        else:
            last_active_at = created_at + dt.timedelta(seconds=int(since * rng.random() ** 0.6))
        member = Member(
            mall_group_id=group.pk,
            phone=mobile(rng, phones),
            card_no=card_number(rng, cards),
            name=name,
            gender=gender,
            birthday=birthday,
            email=fake.safe_email() if rng.random() < 0.12 else "",
            join_channel=channel,
            join_mall_id=mall.pk,
            join_merchant_id=(_weighted(rng, pos_merchants[mall.pk]).pk if channel == JoinChannel.POS else None),
            code_secret=f"{rng.getrandbits(128):032x}",
            created_at=created_at,
            last_active_at=min(last_active_at, start_of_today),
        )
        rows.append((member, plates, rng.random() < 0.6))

    rows.sort(key=lambda row: row[0].created_at)  # ids follow the order members joined in
    Member.objects.bulk_create([row[0] for row in rows], batch_size=BATCH)
    identifiers: list[MemberIdentifier] = []
    consents: list[Consent] = []
    for member, plates, marketing in rows:
        ident = {"mall_group_id": group.pk, "member_id": member.pk}
        identifiers.append(MemberIdentifier(kind=IdentifierKind.PHONE, value=member.phone, **ident))
        identifiers.append(MemberIdentifier(kind=IdentifierKind.CARD, value=member.card_no, **ident))
        identifiers.extend(MemberIdentifier(kind=IdentifierKind.PLATE, value=p, **ident) for p in plates)
        purposes = [ConsentPurpose.PRIVACY_POLICY, *([ConsentPurpose.MARKETING_SMS] if marketing else [])]
        consents.extend(
            Consent(member_id=member.pk, purpose=p, is_granted=True, channel=member.join_channel) for p in purposes
        )
    MemberIdentifier.objects.bulk_create(identifiers, batch_size=BATCH)
    Consent.objects.bulk_create(consents, batch_size=BATCH)
    # auto_now_add stamped "now": date both back to the day the member joined, in one statement each.
    joined = Subquery(Member.objects.filter(pk=OuterRef("member_id")).values("created_at")[:1])
    MemberIdentifier.objects.filter(mall_group=group).update(created_at=joined)
    Consent.objects.filter(member__mall_group=group).update(recorded_at=joined)
    result.members, result.identifiers, result.consents = len(rows), len(identifiers), len(consents)
