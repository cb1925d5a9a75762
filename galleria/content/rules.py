"""Pure rules of the home layout and of uploaded images (no database).

A layout is an ordered list of blocks, each a small dict:

- ``{"id", "type": "entries", "keys": [...]}``: the quick entries (icons) from a fixed set;
- ``{"id", "type": "banner", "image_id", "alt", "link_kind", "link_target", "starts_on", "ends_on"}``;
- ``{"id", "type": "section", "kind", "title", "text"}``: claimable coupons, merchants with offers, or a notice.

`clean_blocks` is the one gate every draft passes through: it returns the normalised blocks or raises
`LayoutInvalidError` naming the block and the field. Banners link to a coupon template, a merchant, an app page or
an https URL; which templates and merchants exist is checked by the caller (the service checks merchants and images,
the console checks coupon templates, which live above this app).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from .exceptions import BlockNotFoundError, ImageInvalidError, LayoutInvalidError

Block = dict[str, Any]

MAX_BLOCKS = 20
MAX_ALT = 80
MAX_TITLE = 40
MAX_TEXT = 500
MAX_URL = 300

# ------------------------------------------------------------------------------------------------- vocabularies

# The fixed set of quick entries, in their default order. `False`: the page does not exist yet; the editor shows
# the entry disabled ("coming soon") and the app never shows it, even in a published layout.
ENTRY_KEYS: dict[str, bool] = {
    "code": True,
    "pay": True,
    "coupons": True,
    "claim_centre": True,
    "bills": True,
    "merchants": True,
    "inbox": True,
    "points": True,
    "receipts": True,
    "parking": True,
    "events": True,
    "amenities": True,
    "games": True,
    "points_mall": True,
    "online_mall": True,
}
ENTRY_LABELS = {
    "code": _("Member code"),
    "pay": _("Pay at a shop"),
    "coupons": _("My coupons"),
    "claim_centre": _("Claim centre"),
    "bills": _("Bills"),
    "merchants": _("Merchants"),
    "inbox": _("Inbox"),
    "points": _("Points"),
    "receipts": _("Snap a receipt"),
    "parking": _("Parking"),
    "events": _("Events"),
    "amenities": _("Member services"),
    "games": _("Games"),
    "points_mall": _("Points mall"),
    "online_mall": _("Online mall"),
}
DEFAULT_ENTRIES = (
    "code",
    "pay",
    "parking",
    "coupons",
    "claim_centre",
    "bills",
    "merchants",
    "inbox",
    "points",
    "receipts",
    "online_mall",
    "points_mall",
    "events",
    "amenities",
    "games",
)

SECTION_KINDS = {
    "claimable_coupons": _("Claimable coupons"),
    "merchant_offers": _("Merchants with offers"),
    "notice": _("Notice text"),
    "for_you": _("For you (recommendations)"),
}
LINK_KINDS = {
    "none": _("No link"),
    "coupon": _("A coupon in the claim centre"),
    "merchant": _("A merchant"),
    "page": _("An app page"),
    "url": _("A web address (https)"),
}
# App pages a banner may link to (all exist).
PAGE_KEYS = {
    "code": _("Member code"),
    "pay": _("Pay at a shop"),
    "coupons": _("My coupons"),
    "claim_centre": _("Claim centre"),
    "bills": _("Bills"),
    "merchants": _("Merchants"),
    "inbox": _("Inbox"),
    "points": _("Points"),
    "tier": _("Tier"),
    "wallet": _("Wallet"),
    "parking": _("Parking"),
    "points_mall": _("Points mall"),
    "online_mall": _("Online mall"),
    "events": _("Events"),
    "amenities": _("Member services"),
    "games": _("Games"),
    "for_you": _("For you"),
}
BLOCK_TYPES = {"entries": _("Quick entries"), "banner": _("Banner"), "section": _("Section")}

_ID_RE = re.compile(r"^[a-z0-9]{6,12}$")
_URL_RE = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[^\s<>\"']*)?$")


def new_block_id() -> str:
    return secrets.token_hex(4)


def default_blocks() -> list[Block]:
    """What the app shows when a group has never published a layout."""
    return [
        {"id": "default01", "type": "entries", "keys": list(DEFAULT_ENTRIES)},
        {"id": "default02", "type": "section", "kind": "claimable_coupons", "title": "", "text": ""},
        {"id": "default03", "type": "section", "kind": "merchant_offers", "title": "", "text": ""},
    ]


# ------------------------------------------------------------------------------------------------- validation


def _invalid(index: int, field: str, message: Any) -> LayoutInvalidError:
    return LayoutInvalidError(message, fields={field: message}, extra={"block": index})


def _text(value: object, *, multiline: bool = False) -> str:
    """Text without NUL bytes; one line (runs of white space collapsed) unless `multiline`."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError
    value = value.replace("\x00", "")
    if multiline:
        return "\n".join(" ".join(line.split()) for line in value.strip().splitlines())
    return " ".join(value.split())


def _date(value: object) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError
    return dt.date.fromisoformat(value).isoformat()


def _positive_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError
    number = int(str(value).strip()) if isinstance(value, str) else int(value)  # type: ignore[call-overload]
    if number <= 0 or number > 2**62:
        raise ValueError
    return number


def clean_link(kind: object, target: object) -> tuple[str, str]:
    """(kind, target) normalised; raises ValueError with a message key on a bad pair."""
    kind = str(kind or "none")
    if kind not in LINK_KINDS:
        raise ValueError("kind")
    raw = "" if target is None else str(target).strip()
    if kind == "none":
        return "none", ""
    if kind in ("coupon", "merchant"):
        return kind, str(_positive_int(raw))
    if kind == "page":
        if raw not in PAGE_KEYS:
            raise ValueError("page")
        return kind, raw
    if len(raw) > MAX_URL or not _URL_RE.match(raw):
        raise ValueError("url")
    return kind, raw


def clean_block(raw: Mapping[str, Any], *, index: int = 0) -> Block:
    """One block normalised, or LayoutInvalidError naming the field."""
    if not isinstance(raw, Mapping):
        raise _invalid(index, "type", _("A block must be an object."))
    block_id = str(raw.get("id") or "")
    if not _ID_RE.match(block_id) and not block_id.startswith("default"):
        raise _invalid(index, "id", _("A block needs an id of 6 to 12 lower-case letters or digits."))
    kind = raw.get("type")
    if kind == "entries":
        keys = raw.get("keys")
        if not isinstance(keys, (list, tuple)):
            raise _invalid(index, "keys", _("Choose the quick entries to show."))
        seen: list[str] = []
        for key in keys:
            if key not in ENTRY_KEYS:
                raise _invalid(index, "keys", _("Unknown quick entry."))
            if key not in seen:
                seen.append(str(key))
        if not seen:
            raise _invalid(index, "keys", _("Choose at least one quick entry."))
        return {"id": block_id, "type": "entries", "keys": seen}
    if kind == "banner":
        try:
            image_id = _positive_int(raw.get("image_id"))
        except (TypeError, ValueError):
            raise _invalid(index, "image_id", _("A banner needs an image.")) from None
        try:
            alt = _text(raw.get("alt"))
        except TypeError:
            alt = ""
        if not alt:
            raise _invalid(index, "alt", _("Describe the image for members who cannot see it (alt text)."))
        if len(alt) > MAX_ALT:
            raise _invalid(index, "alt", _("Keep the alt text under 80 characters."))
        try:
            link_kind, link_target = clean_link(raw.get("link_kind"), raw.get("link_target"))
        except (TypeError, ValueError) as exc:
            which = str(exc)
            message = {
                "page": _("Choose an app page."),
                "url": _("Enter a web address that starts with https://."),
                "kind": _("Choose what the banner links to."),
            }.get(which, _("Choose what the banner links to (a coupon or merchant by its number)."))
            raise _invalid(index, "link_target", message) from None
        try:
            starts_on = _date(raw.get("starts_on"))
            ends_on = _date(raw.get("ends_on"))
        except (TypeError, ValueError):
            raise _invalid(index, "starts_on", _("Enter dates as YYYY-MM-DD.")) from None
        if starts_on and ends_on and ends_on < starts_on:
            raise _invalid(index, "ends_on", _("The end date is before the start date."))
        return {
            "id": block_id,
            "type": "banner",
            "image_id": image_id,
            "alt": alt,
            "link_kind": link_kind,
            "link_target": link_target,
            "starts_on": starts_on,
            "ends_on": ends_on,
        }
    if kind == "section":
        section = raw.get("kind")
        if section not in SECTION_KINDS:
            raise _invalid(index, "kind", _("Choose a kind of section."))
        try:
            title = _text(raw.get("title"))
            text = _text(raw.get("text"), multiline=True)
        except TypeError:
            raise _invalid(index, "title", _("Title and text must be text.")) from None
        if len(title) > MAX_TITLE:
            raise _invalid(index, "title", _("Keep the title under 40 characters."))
        if len(text) > MAX_TEXT:
            raise _invalid(index, "text", _("Keep the notice under 500 characters."))
        if section == "notice" and not text:
            raise _invalid(index, "text", _("Write the notice text."))
        return {
            "id": block_id,
            "type": "section",
            "kind": section,
            "title": title,
            "text": text if section == "notice" else "",
        }
    raise _invalid(index, "type", _("Unknown kind of block."))


def clean_blocks(raw: object) -> list[Block]:
    if not isinstance(raw, (list, tuple)):
        raise LayoutInvalidError(_("A layout is a list of blocks."))
    if len(raw) > MAX_BLOCKS:
        raise LayoutInvalidError(_("A home page holds at most 20 blocks."))
    blocks = [clean_block(b, index=i) for i, b in enumerate(raw)]
    ids = [b["id"] for b in blocks]
    if len(set(ids)) != len(ids):
        raise LayoutInvalidError(_("Two blocks share an id."))
    if sum(1 for b in blocks if b["type"] == "entries") > 1:
        raise LayoutInvalidError(_("The quick entries can appear only once."))
    return blocks


def referenced_ids(blocks: Iterable[Block], link_kind: str) -> set[int]:
    return {int(b["link_target"]) for b in blocks if b["type"] == "banner" and b["link_kind"] == link_kind}


def image_ids(blocks: Iterable[Block]) -> set[int]:
    return {int(b["image_id"]) for b in blocks if b["type"] == "banner"}


# ------------------------------------------------------------------------------------------------- editing


def _index(blocks: Sequence[Block], block_id: str) -> int:
    for i, block in enumerate(blocks):
        if block["id"] == block_id:
            return i
    raise BlockNotFoundError()


def add_block(blocks: Sequence[Block], block: Block) -> list[Block]:
    return [*blocks, block]


def replace_block(blocks: Sequence[Block], block_id: str, block: Mapping[str, Any]) -> list[Block]:
    i = _index(blocks, block_id)
    out = list(blocks)
    out[i] = {**block, "id": block_id}
    return out


def remove_block(blocks: Sequence[Block], block_id: str) -> list[Block]:
    i = _index(blocks, block_id)
    return [b for j, b in enumerate(blocks) if j != i]


def move_block(blocks: Sequence[Block], block_id: str, *, to: int) -> list[Block]:
    """Move one block to position `to` (clamped), the others keeping their order."""
    i = _index(blocks, block_id)
    out = list(blocks)
    block = out.pop(i)
    out.insert(max(0, min(len(out), to)), block)
    return out


def reorder(blocks: Sequence[Block], order: Sequence[str]) -> list[Block]:
    """The blocks in the order of `order` (a drag-and-drop result); it must name every block exactly once."""
    by_id = {b["id"]: b for b in blocks}
    if sorted(order) != sorted(by_id) or len(order) != len(by_id):
        raise LayoutInvalidError(_("The new order does not match the draft. Reload the page and try again."))
    return [by_id[i] for i in order]


# ------------------------------------------------------------------------------------------------- what the app shows


def visible_blocks(blocks: Iterable[Block], *, today: dt.date) -> list[Block]:
    """The blocks shown on `today` (mall date): banners inside their dates, entries that exist."""
    out: list[Block] = []
    for block in blocks:
        if block["type"] == "banner":
            if block.get("starts_on") and today < dt.date.fromisoformat(block["starts_on"]):
                continue
            if block.get("ends_on") and today > dt.date.fromisoformat(block["ends_on"]):
                continue
        if block["type"] == "entries":
            keys = [k for k in block["keys"] if ENTRY_KEYS.get(k)]
            if not keys:
                continue
            block = {**block, "keys": keys}
        out.append(block)
    return out


# ------------------------------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int
    extension: str


def _png(data: bytes) -> ImageInfo | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 33:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return ImageInfo("image/png", width, height, "png")


def _gif(data: bytes) -> ImageInfo | None:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return ImageInfo("image/gif", width, height, "gif")


def _jpeg(data: bytes) -> ImageInfo | None:
    if data[:3] != b"\xff\xd8\xff":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            return None
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return ImageInfo("image/jpeg", width, height, "jpg")
        i += 2 + length
    return None


def _webp(data: bytes) -> ImageInfo | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
    elif chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = (v & 0x3FFF for v in struct.unpack("<HH", data[26:30]))
    elif chunk == b"VP8L":
        if data[20] != 0x2F:
            return None
        bits = int.from_bytes(data[21:25], "little")
        width = (bits & 0x3FFF) + 1
        height = ((bits >> 14) & 0x3FFF) + 1
    else:
        return None
    return ImageInfo("image/webp", width, height, "webp")


def sniff_image(data: bytes, *, max_bytes: int, max_side: int) -> ImageInfo:
    """The image's real type and size from its bytes (never from the name or the browser's claim).

    Only PNG, JPEG, GIF and WebP pass; SVG and anything else is refused (an SVG can carry script). The caller
    serves the bytes with the sniffed type and `nosniff`, so a polyglot cannot become HTML."""
    if not data:
        raise ImageInvalidError(_("The file is empty."), fields={"image": _("The file is empty.")})
    if len(data) > max_bytes:
        message = _("The image is larger than %(kb)s KB.") % {"kb": max_bytes // 1024}
        raise ImageInvalidError(message, fields={"image": message})
    for probe in (_png, _jpeg, _gif, _webp):
        try:
            info = probe(data)
        except (struct.error, IndexError, ValueError):
            info = None
        if info is not None:
            break
    else:
        raise ImageInvalidError(fields={"image": ImageInvalidError().message})
    if not (1 <= info.width <= max_side and 1 <= info.height <= max_side):
        message = _("The image must be at most %(px)s pixels wide and high.") % {"px": max_side}
        raise ImageInvalidError(message, fields={"image": message})
    return info
