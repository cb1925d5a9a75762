"""Pure rules of the member identity: phones, plates, card numbers, the dynamic member code, masking. No database."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from galleria.core import plates
from galleria.core.ids import luhn_valid

# ---------------------------------------------------------------- phones

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_phone(raw: str, *, regions: Iterable[str] = ("CN",)) -> str | None:
    """E.164 of a mobile number in one of `regions` (the first is the default for numbers without +), else None."""
    regions = [r.upper() for r in regions]
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text or len(text) > 32:
        return None
    text = re.sub(r"[\s\-().]", "", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, regions[0] if regions else "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.region_code_for_number(number) not in regions:
        return None
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_phone(e164: str) -> str:
    """+8613812345678 → 13812345678 (other countries keep their +code)."""
    return e164[3:] if e164.startswith("+86") else e164


def mask_phone(e164: str) -> str:
    """+8613812345678 → 138****5678: what merchants and logs see."""
    national = national_phone(e164)
    if len(national) < 7:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧**娜, Alice → A****."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    if re.fullmatch(r"[\u4e00-\u9fff·]+", name):
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return name[0] + "*" * (len(name) - 1)


# ---------------------------------------------------------------- licence plates


def normalize_plate(raw: str) -> str | None:
    """'粤b·12345' → '粤B12345'; None if it is not a plate we accept (galleria.core.plates: the one normaliser the
    parking rules match car-park events with)."""
    try:
        return plates.normalize_plate(raw or "")
    except plates.PlateError:
        return None


def is_new_energy_plate(plate: str) -> bool:
    return len(plate) == 8


# ---------------------------------------------------------------- card numbers

CARD_RE = re.compile(r"^8\d{11}$")


def looks_like_card_number(text: str) -> bool:
    return bool(CARD_RE.fullmatch(text)) and luhn_valid(text)


def could_be_physical_card(text: str) -> bool:
    """The shape `members.services` accepts for a physical card number (4–32 letters or digits)."""
    return text.isalnum() and 4 <= len(text) <= 32


def could_be_wechat_id(text: str) -> bool:
    """The shape `members.services` accepts for a WeChat openid / unionid (10–64 of letters, digits, - and _)."""
    return 10 <= len(text) <= 64 and all(c.isalnum() or c in "-_" for c in text)


# ---------------------------------------------------------------- dynamic member code

DYNAMIC_PREFIX = "66"
DYNAMIC_LEN = 18
_ID_DIGITS = 10
_OTP_DIGITS = 6


def _hmac(key: str, message: str) -> bytes:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()


def _id_mask(key: str, step: int) -> int:
    return int.from_bytes(_hmac(key, f"mask:{step}")[:8], "big") % 10**_ID_DIGITS


def _otp(key: str, member_id: int, member_secret: str, step: int) -> str:
    digest = _hmac(key, f"otp:{member_id}:{member_secret}:{step}")
    offset = digest[-1] & 0x0F  # RFC 4226 dynamic truncation
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**_OTP_DIGITS:0{_OTP_DIGITS}d}"


def time_step(unix_seconds: float, step_seconds: int) -> int:
    return int(unix_seconds // step_seconds)


def dynamic_code(*, key: str, member_id: int, member_secret: str, step: int) -> str:
    """18 digits: '66' + the member id masked by a per-step keystream + a 6-digit HMAC one-time code.

    The id part changes every step, so a code says nothing stable about the member; only the server's key turns it
    back into a member id, and the one-time code proves it was made for this member in this step.
    """
    if not 0 < member_id < 10**_ID_DIGITS:
        raise ValueError("member id out of range for the dynamic code")
    id_part = (member_id + _id_mask(key, step)) % 10**_ID_DIGITS
    return f"{DYNAMIC_PREFIX}{id_part:0{_ID_DIGITS}d}{_otp(key, member_id, member_secret, step)}"


def looks_like_dynamic_code(text: str) -> bool:
    return len(text) == DYNAMIC_LEN and text.isdigit() and text.startswith(DYNAMIC_PREFIX)


@dataclass(frozen=True)
class DynamicCodeCandidate:
    member_id: int
    step: int
    otp: str


def dynamic_code_candidates(code: str, *, key: str, current_step: int, window: int = 1) -> list[DynamicCodeCandidate]:
    """The member ids the code could belong to, one per accepted step (current and `window` steps before)."""
    if not looks_like_dynamic_code(code):
        return []
    id_part = int(code[2 : 2 + _ID_DIGITS])
    otp = code[2 + _ID_DIGITS :]
    out = []
    for step in range(current_step, current_step - window - 1, -1):
        member_id = (id_part - _id_mask(key, step)) % 10**_ID_DIGITS
        if member_id:
            out.append(DynamicCodeCandidate(member_id=member_id, step=step, otp=otp))
    return out


def dynamic_code_matches(candidate: DynamicCodeCandidate, *, key: str, member_secret: str) -> bool:
    expected = _otp(key, candidate.member_id, member_secret, candidate.step)
    return hmac.compare_digest(expected, candidate.otp)


# ---------------------------------------------------------------- OTP


def otp_hash(*, key: str, phone: str, code: str) -> str:
    return hmac.new(key.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()
