"""Pure rules of imports: the columns of each file kind, proposing a mapping from header names (Chinese or
English), and reading one cell into a value. No database, no files.

A cell that cannot be read raises `CellError(code, column)`; the row's outcome is then `error` with that code.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# ---------------------------------------------------------------------------------------------- columns

MEMBERS = "members"
SALES = "sales"

MEMBER_FIELDS: tuple[str, ...] = (
    "phone",
    "name",
    "gender",
    "birthday",
    "email",
    "card_no",
    "join_mall",
    "joined_on",
    "plate",
    "points",
    "points_expire_on",
    "tier",
)
SALE_FIELDS: tuple[str, ...] = ("phone", "merchant", "sold_on", "amount")
REQUIRED: dict[str, tuple[str, ...]] = {MEMBERS: ("phone",), SALES: ("phone", "merchant", "sold_on", "amount")}

FIELD_LABELS: dict[str, Promise] = {
    "phone": _("Phone"),
    "name": _("Name"),
    "gender": _("Gender"),
    "birthday": _("Birthday"),
    "email": _("Email"),
    "card_no": _("Card number"),
    "join_mall": _("Join mall"),
    "joined_on": _("Join date"),
    "plate": _("Licence plate"),
    "points": _("Opening points balance"),
    "points_expire_on": _("Points expiry date"),
    "tier": _("Tier"),
    "merchant": _("Merchant"),
    "sold_on": _("Sale date"),
    "amount": _("Amount (yuan)"),
}

# Header names seen in till exports and hand-made sheets, compared after `header_key` (case, spaces, punctuation).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "phone": (
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "电话号码",
        "联系电话",
        "移动电话",
        "mobile",
        "phone",
        "mobilephone",
        "phonenumber",
        "tel",
        "cellphone",
        "cell",
    ),
    "name": ("姓名", "名字", "会员姓名", "客户姓名", "name", "fullname", "membername", "customername"),
    "gender": ("性别", "gender", "sex"),
    "birthday": ("生日", "出生日期", "出生年月", "生日日期", "birthday", "birthdate", "dateofbirth", "dob"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "email", "mail", "emailaddress"),
    "card_no": ("卡号", "会员卡号", "会员卡", "卡号码", "cardno", "cardnumber", "card", "membercard", "membershipno"),
    "join_mall": ("入会商场", "开卡商场", "注册商场", "商场", "门店", "joinmall", "mall", "homemall"),
    "joined_on": (
        "入会日期",
        "入会时间",
        "开卡日期",
        "注册日期",
        "注册时间",
        "joindate",
        "joinedon",
        "joined",
        "registrationdate",
        "signupdate",
    ),
    "plate": ("车牌", "车牌号", "车牌号码", "plate", "licenceplate", "licenseplate", "carplate", "platenumber"),
    "points": ("积分", "积分余额", "当前积分", "可用积分", "points", "pointsbalance", "balance", "openingpoints"),
    "points_expire_on": (
        "积分有效期",
        "积分到期日",
        "积分过期日期",
        "到期日期",
        "过期日期",
        "pointsexpiry",
        "pointsexpireon",
        "expiry",
        "expirydate",
        "expireson",
    ),
    "tier": ("等级", "会员等级", "卡等级", "级别", "tier", "level", "memberlevel", "grade"),
    "merchant": ("商户", "商户名称", "店铺", "品牌", "merchant", "merchantname", "store", "shop", "brand"),
    "sold_on": (
        "消费日期",
        "交易日期",
        "日期",
        "消费时间",
        "交易时间",
        "date",
        "saledate",
        "solddate",
        "soldon",
        "transactiondate",
    ),
    "amount": ("金额", "消费金额", "实付金额", "交易金额", "amount", "total", "paid", "amountpaid", "spend"),
}


def fields_of(kind: str) -> tuple[str, ...]:
    return SALE_FIELDS if kind == SALES else MEMBER_FIELDS


def header_key(text: str) -> str:
    """'Phone Number ' → 'phonenumber', '手机号：' → '手机号' (NFKC, lower case, letters and CJK only)."""
    text = unicodedata.normalize("NFKC", text or "").strip().lower()
    return "".join(ch for ch in text if ch.isalnum())


def propose_mapping(kind: str, headers: Sequence[str]) -> dict[str, int]:
    """field → column index for every field whose synonym matches a header (first match wins, a column is used
    for one field only)."""
    keys = [header_key(h) for h in headers]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for name in fields_of(kind):
        wanted = {header_key(s) for s in SYNONYMS.get(name, ())} | {header_key(name)}
        for index, key in enumerate(keys):
            if key and key in wanted and index not in used:
                mapping[name] = index
                used.add(index)
                break
    return mapping


def mapping_problems(kind: str, mapping: Mapping[str, int], n_columns: int) -> list[str]:
    """Codes of what is wrong with a mapping (empty = fine)."""
    problems = [f"missing:{name}" for name in REQUIRED[kind] if name not in mapping]
    indexes = list(mapping.values())
    if any(not 0 <= i < n_columns for i in indexes):
        problems.append("out_of_range")
    if len(set(indexes)) != len(indexes):
        problems.append("column_twice")
    if any(name not in fields_of(kind) for name in mapping):
        problems.append("unknown_field")
    return problems


# ---------------------------------------------------------------------------------------------- outcomes

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
DUPLICATE = "duplicate"
ERROR = "error"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, DUPLICATE, ERROR)

ERROR_TEXT: dict[str, Promise] = {
    "formula": _("The cell holds a formula; formulas are never evaluated. Enter the value itself."),
    "merged": _("The row is part of merged cells; unmerge them and fill every cell."),
    "phone_missing": _("The phone is empty."),
    "phone_invalid": _("Not a valid mobile phone number."),
    "name_too_long": _("The name has more than 50 characters."),
    "gender_invalid": _("Unknown gender (use 男/女 or male/female)."),
    "date_invalid": _("Not a date (use 2024-03-05, 2024/3/5, 20240305 or 2024年3月5日)."),
    "birthday_range": _("The birthday is not between 1900 and today."),
    "joined_future": _("The join date is in the future."),
    "email_invalid": _("Not a valid email address."),
    "card_invalid": _("A card number is 4–32 letters or digits."),
    "plate_invalid": _("Not a mainland licence plate."),
    "mall_unknown": _("No mall of this group has this code or name."),
    "tier_unknown": _("No tier of this group has this code or name."),
    "points_invalid": _("Points must be a whole number."),
    "points_negative": _("Points cannot be negative."),
    "points_too_large": _("The points balance is implausibly large."),
    "expiry_past": _("The points expiry date is already past."),
    "amount_invalid": _("Not an amount in yuan (at most 2 decimals)."),
    "amount_not_positive": _("The amount must be more than zero."),
    "sold_future": _("The sale date is in the future."),
    "merchant_unknown": _("No merchant of this group has this name."),
    "merchant_ambiguous": _("Several malls have a merchant of this name."),
    "member_unknown": _("No member has this phone; import the members first."),
    "phone_in_file": _("This phone appears on an earlier row of the file."),
    "card_taken": _("This card number already belongs to another member."),
    "plate_taken": _("This licence plate already belongs to another member."),
    "plate_limit": _("The member already has 5 licence plates."),
    "conflict": _("Someone changed this member at the same time; run the import again to finish this row."),
}


def outcome_text(code: str) -> str:
    return str(ERROR_TEXT.get(code, code))


class CellError(Exception):
    """A cell that cannot be read; `code` is a key of ERROR_TEXT, `field` the column's field."""

    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.field = field


# ---------------------------------------------------------------------------------------------- cells

FORMULA_START = ("=", "+", "-", "@")
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s]+(\.\d+)?$")


def is_formula_text(value: str) -> bool:
    """A CSV cell that a spreadsheet would run as a formula: it starts with = or @, or with + / - and is not a
    plain number (so "+8613800138000" and "-5" are values, "+SUM(A1)" and "-1+2" formulas)."""
    if not value:
        return False
    if value[0] in "=@":
        return True
    if value[0] in "+-":
        return not _PLAIN_NUMBER.fullmatch(value)
    return False


def clean(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: str) -> dt.date:
    """2024-03-05, 2024/3/5, 2024.3.5, 20240305, 2024年3月5日, and ISO date-times (XLSX dates arrive so)."""
    text = clean(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                break
    raise CellError("date_invalid")


GENDERS = {
    "男": "male", "m": "male", "male": "male", "先生": "male", "1": "male",
    "女": "female", "f": "female", "female": "female", "女士": "female", "2": "female",
    "": "unknown", "未知": "unknown", "保密": "unknown", "unknown": "unknown", "0": "unknown",
}  # fmt: skip


def parse_gender(value: str) -> str:
    gender = GENDERS.get(clean(value).lower())
    if gender is None:
        raise CellError("gender_invalid")
    return gender


MAX_POINTS = 1_000_000_000


def parse_points(value: str) -> int:
    """'1,234' → 1234; '12.0' (a spreadsheet's number) → 12; decimals, words → error; negative → error."""
    text = clean(value).replace(",", "").replace(" ", "")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise CellError("points_invalid") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError("points_invalid")
    if number < 0:
        raise CellError("points_negative")
    if number > MAX_POINTS:
        raise CellError("points_too_large")
    return int(number)


MAX_AMOUNT_FEN = 10**12


def parse_amount_fen(value: str) -> int:
    """'¥1,234.50' → 123450 fen (exact decimal arithmetic; more than 2 decimals is an error)."""
    text = clean(value).replace(",", "").replace(" ", "").lstrip("¥￥").removesuffix("元")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise CellError("amount_invalid") from exc
    if not number.is_finite():
        raise CellError("amount_invalid")
    fen = number * 100
    if fen != fen.to_integral_value() or abs(fen) > MAX_AMOUNT_FEN:
        raise CellError("amount_invalid")
    if fen <= 0:
        raise CellError("amount_not_positive")
    return int(fen)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_email(value: str) -> str:
    text = clean(value)
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise CellError("email_invalid")
    return text


def parse_card(value: str) -> str:
    text = clean(value).upper()
    if not text.isalnum() or not 4 <= len(text) <= 32 or not text.isascii():
        raise CellError("card_invalid")
    return text


def lookup_key(text: str) -> str:
    """How mall, tier and merchant names are matched: NFKC, case-insensitive, inner spaces ignored."""
    return re.sub(r"\s+", "", clean(text)).lower()
