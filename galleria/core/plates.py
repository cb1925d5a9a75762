"""Chinese licence plates: normalise what a camera, a member or a clerk typed into one canonical string.

Canonical form: upper-case, no separators, simplified characters, e.g. `粤B12345`, `粤BD12345` (new energy),
`粤Z1234港`, `使224001`, `KA12345` (military), `WJ粤12345` (armed police). Two texts are the same plate exactly when
their canonical forms are equal, so the canonical form is what is stored, bound to members and matched against
car-park events. What is accepted (and why) is documented in docs/parking.md, section "Plates". Plain Python (no
Django): the members app binds plates with it and the parking rules match car-park events with it — one normaliser.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = ["PlateError", "PlateKind", "format_plate", "mask_plate", "normalize_plate", "plate_in_text", "plate_kind"]


class PlateError(ValueError):
    """A text that is not a Chinese licence plate we accept. `code` (`plate.*`) is stable; `params` are the values a
    translated message may show; `str()` is a developer message for logs only."""

    def __init__(self, code: str, message: str, **params: int | str) -> None:
        self.code = code
        self.params: Mapping[str, int | str] = MappingProxyType(dict(params))
        super().__init__(f"{code}: {message}")


PROVINCES = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
DIGITS = frozenset("0123456789")
# The issuing-authority letter (发牌机关代号): any Latin letter but I.
AUTHORITY_LETTERS = frozenset("ABCDEFGHJKLMNOPQRSTUVWXYZ")
# Serial letters: I and O are never used (they read as 1 and 0).
SERIAL_LETTERS = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ")
SERIAL_CHARS = DIGITS | SERIAL_LETTERS
# New-energy letters (GA 36 as amended): A B C D E = pure electric, F G H J K = not purely electric.
NEW_ENERGY_LETTERS = frozenset("ABCDEFGHJK")
MAX_INPUT_LENGTH = 32
# PLA plates: the first letter is the branch or theatre (V central, K air force, H navy, B/N/S/L/Z/G/C/J the
# theatres and former regions); anything else is a misread civilian plate, not a military one.
MILITARY_FIRST_LETTERS = frozenset("VKHBNSLZGCJ")

# Characters removed before parsing (after NFKC, so full-width forms are already folded to these).
SEPARATORS = frozenset(".·・•∙‧。-‐‑‒–—")
# Traditional forms of the characters a plate can hold, folded to the simplified ones.
TRADITIONAL = str.maketrans(
    {
        "滬": "沪",
        "雲": "云",
        "遼": "辽",
        "魯": "鲁",
        "蘇": "苏",
        "贛": "赣",
        "晉": "晋",
        "陝": "陕",
        "閩": "闽",
        "貴": "贵",
        "粵": "粤",
        "寧": "宁",
        "瓊": "琼",
        "掛": "挂",
        "學": "学",
        "領": "领",
        "試": "试",
    }
)


class PlateKind(StrEnum):
    ORDINARY = "ordinary"
    NEW_ENERGY = "new_energy"
    TRAILER = "trailer"  # 挂
    COACH = "coach"  # 学 (driving-school car)
    POLICE = "police"  # 警
    HONG_KONG = "hong_kong"  # 港 (粤Z cross-border)
    MACAO = "macao"  # 澳 (粤Z cross-border)
    CONSULATE = "consulate"  # 领
    TEST = "test"  # 试 (temporary, test drive)
    OVERSIZE = "oversize"  # 超 (temporary, oversize transport)
    EMBASSY = "embassy"  # 使
    MILITARY = "military"  # PLA: two letters + five digits
    ARMED_POLICE = "armed_police"  # WJ + province + five characters


SUFFIXES: dict[str, PlateKind] = {
    "挂": PlateKind.TRAILER,
    "学": PlateKind.COACH,
    "警": PlateKind.POLICE,
    "港": PlateKind.HONG_KONG,
    "澳": PlateKind.MACAO,
    "领": PlateKind.CONSULATE,
    "试": PlateKind.TEST,
    "超": PlateKind.OVERSIZE,
}
ALLOWED_CHARS = DIGITS | AUTHORITY_LETTERS | {"I"} | PROVINCES | frozenset(SUFFIXES) | {"使"}


@dataclass(frozen=True)
class _Plate:
    """A parsed plate: `prefix` (issuer) + `serial` + `suffix`; their concatenation is the canonical form."""

    prefix: str
    serial: str
    suffix: str
    kind: PlateKind

    @property
    def canonical(self) -> str:
        return self.prefix + self.serial + self.suffix


def normalize_plate(text: str) -> str:
    """The canonical form of a plate, or PlateError (`plate.*` code) when the text is not a plate we accept."""
    return _parse(text).canonical


def plate_kind(plate: str) -> PlateKind:
    """The kind of a plate (normalised first, so any accepted spelling works)."""
    return _parse(plate).kind


def format_plate(plate: str) -> str:
    """Display form with the conventional middle dot after the issuer: `粤B·12345`, `使·224001`, `WJ粤·12345`."""
    parsed = _parse(plate)
    return f"{parsed.prefix}·{parsed.serial}{parsed.suffix}"


def mask_plate(plate: str) -> str:
    """A plate for lists seen by other people: the issuer and the last serial character stay, e.g. `粤B·****5`.

    Never raises: a text that is not a plate (an unread plate from a camera, say) keeps only its first and last
    characters.
    """
    try:
        parsed = _parse(plate)
    except PlateError:
        cleaned = "".join(ch for ch in str(plate)[:MAX_INPUT_LENGTH] if not ch.isspace())
        if len(cleaned) <= 2:
            return "*" * len(cleaned)
        return cleaned[0] + "*" * (len(cleaned) - 2) + cleaned[-1]
    serial = "*" * (len(parsed.serial) - 1) + parsed.serial[-1]
    return f"{parsed.prefix}·{serial}{parsed.suffix}"


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise PlateError("plate.empty", "a plate is a string")
    if len(text) > MAX_INPUT_LENGTH:
        raise PlateError("plate.length", "far too long for a plate", length=len(text))
    folded = unicodedata.normalize("NFKC", text).translate(TRADITIONAL).upper()
    cleaned = "".join(ch for ch in folded if not ch.isspace() and ch not in SEPARATORS)
    if not cleaned:
        raise PlateError("plate.empty", "no plate given")
    first = cleaned[0]
    if first not in PROVINCES and first not in ALLOWED_CHARS - DIGITS and not cleaned.endswith("使"):
        raise PlateError("plate.province", f"{first!r} is not a province abbreviation", char=first)
    for ch in cleaned:
        if ch not in ALLOWED_CHARS:
            raise PlateError("plate.character", f"{ch!r} cannot appear in a plate", char=ch)
    return cleaned


def _parse(text: str) -> _Plate:
    plate = _clean(text)
    first = plate[0]
    if first == "使" or plate.endswith("使"):
        return _embassy(plate)
    if plate.startswith("WJ"):
        return _armed_police(plate)
    if first in PROVINCES:
        return _civil(plate)
    if first in AUTHORITY_LETTERS or first == "I":
        return _military(plate)
    raise PlateError("plate.province", f"{first!r} is not a province abbreviation", char=first)


def _civil(plate: str) -> _Plate:
    if len(plate) not in (7, 8):
        raise PlateError("plate.length", "a plate has 7 characters (8 for new energy)", length=len(plate))
    province, authority = plate[0], plate[1]
    if authority not in AUTHORITY_LETTERS:
        raise PlateError("plate.authority", "the second character is a letter (not I)", char=authority)
    prefix = province + authority
    last = plate[-1]
    if len(plate) == 7 and last in SUFFIXES:
        kind = SUFFIXES[last]
        serial = _serial(prefix, plate[2:6], last)
        if kind in (PlateKind.HONG_KONG, PlateKind.MACAO) and prefix != "粤Z":
            raise PlateError("plate.suffix", "港 and 澳 plates are issued as 粤Z only", char=last)
        if kind is PlateKind.CONSULATE and not _all(serial, DIGITS):
            raise PlateError("plate.format", "a consulate serial is four digits")
        return _Plate(prefix, serial, last, kind)
    serial = _serial(prefix, plate[2:], "")
    if len(plate) == 7:
        return _Plate(prefix, serial, "", PlateKind.ORDINARY)
    small = serial[0] in NEW_ENERGY_LETTERS and _all(serial[2:], DIGITS)  # 粤B·D12345, 粤B·DF1234
    large = _all(serial[:5], DIGITS) and serial[5] in NEW_ENERGY_LETTERS  # 粤B·12345D
    if not (small or large):
        raise PlateError("plate.new_energy", "an 8-character plate is a new-energy plate (letter A–K first or last)")
    return _Plate(prefix, serial, "", PlateKind.NEW_ENERGY)


def _serial(prefix: str, serial: str, suffix: str) -> str:
    """Check a serial's characters; an I or O gets a `suggestion` (1 or 0) when that makes a valid plate."""
    for ch in serial:
        if ch in ("I", "O"):
            guess = prefix + serial.replace("I", "1").replace("O", "0") + suffix
            params: dict[str, str] = {"char": ch}
            with contextlib.suppress(PlateError):
                params["suggestion"] = _parse(guess).canonical
            raise PlateError("plate.letter_io", "serials never use the letters I and O", **params)
        if ch not in SERIAL_CHARS:
            raise PlateError("plate.format", f"{ch!r} cannot appear in a serial", char=ch)
    return serial


def _embassy(plate: str) -> _Plate:
    digits = plate[1:] if plate[0] == "使" else plate[:-1]
    if len(plate) != 7 or not _all(digits, DIGITS):
        raise PlateError("plate.format", "an embassy plate is 使 and six digits")
    return _Plate("使", digits, "", PlateKind.EMBASSY)


def _armed_police(plate: str) -> _Plate:
    if len(plate) != 8 or plate[2] not in PROVINCES:
        raise PlateError("plate.format", "an armed-police plate is WJ, a province and five characters")
    return _Plate(plate[:3], _serial(plate[:3], plate[3:], ""), "", PlateKind.ARMED_POLICE)


def _military(plate: str) -> _Plate:
    if (
        len(plate) != 7
        or plate[0] not in MILITARY_FIRST_LETTERS
        or not _all(plate[:2], SERIAL_LETTERS)
        or not _all(plate[2:], DIGITS)
    ):
        raise PlateError("plate.format", "a plate starts with a province (military plates: two letters, five digits)")
    return _Plate(plate[:2], plate[2:], "", PlateKind.MILITARY)


def _all(text: str, allowed: frozenset[str]) -> bool:
    return all(ch in allowed for ch in text)


def plate_in_text(plate: str, text: str) -> bool:
    """Whether a (canonical) plate appears in free text, e.g. what OCR read off a vehicle licence (行驶证):
    `号牌号码 粤B·12345` contains `粤B12345`. The text is folded like a plate (NFKC, upper case, traditional
    characters, separators and spaces removed) and the serial's O and I are read as 0 and 1, as plates never use
    them. A hint for a reviewer, never a proof."""
    if not plate or not text:
        return False
    folded = unicodedata.normalize("NFKC", str(text)[:20_000]).upper().translate(TRADITIONAL)
    folded = "".join(ch for ch in folded if not ch.isspace() and ch not in SEPARATORS)
    if plate in folded:
        return True
    return plate in folded.replace("O", "0").replace("I", "1")
