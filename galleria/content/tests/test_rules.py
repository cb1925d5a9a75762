"""Pure rules of the home layout and image sniffing (no database)."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

import pytest

from galleria.content import rules
from galleria.content.exceptions import BlockNotFoundError, ImageInvalidError, LayoutInvalidError


def png(width: int = 10, height: int = 4) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def banner(**over):
    base = {"id": "abc123", "type": "banner", "image_id": 1, "alt": "Sale", "link_kind": "none", "link_target": ""}
    return {**base, **over}


def test_default_layout_is_valid_and_only_has_existing_entries():
    blocks = rules.clean_blocks(rules.default_blocks())
    entries = blocks[0]["keys"]
    assert all(rules.ENTRY_KEYS[k] for k in entries)


def test_banner_links_are_normalised_and_checked():
    assert rules.clean_block(banner(link_kind="merchant", link_target=" 7 "))["link_target"] == "7"
    assert rules.clean_block(banner(link_kind="page", link_target="bills"))["link_target"] == "bills"
    ok = rules.clean_block(banner(link_kind="url", link_target="https://example.com/a?b=1"))
    assert ok["link_target"] == "https://example.com/a?b=1"
    for kind, target in [
        ("url", "http://example.com"),
        ("url", "javascript:alert(1)"),
        ("page", "admin"),
        ("merchant", "x"),
        ("coupon", "-1"),
        ("nope", ""),
    ]:
        with pytest.raises(LayoutInvalidError) as exc:
            rules.clean_block(banner(link_kind=kind, link_target=target))
        assert "link_target" in exc.value.fields


def test_banner_needs_alt_text_and_ordered_dates():
    with pytest.raises(LayoutInvalidError) as exc:
        rules.clean_block(banner(alt="   "))
    assert "alt" in exc.value.fields
    with pytest.raises(LayoutInvalidError) as exc:
        rules.clean_block(banner(starts_on="2026-05-02", ends_on="2026-05-01"))
    assert "ends_on" in exc.value.fields
    with pytest.raises(LayoutInvalidError):
        rules.clean_block(banner(starts_on="tomorrow"))


def test_layout_limits():
    with pytest.raises(LayoutInvalidError):
        rules.clean_blocks(
            [
                {"id": "e00001", "type": "entries", "keys": ["code"]},
                {"id": "e00002", "type": "entries", "keys": ["bills"]},
            ]
        )
    with pytest.raises(LayoutInvalidError):
        rules.clean_blocks([banner(id="same01"), banner(id="same01")])
    with pytest.raises(LayoutInvalidError):
        rules.clean_blocks([banner(id=f"b{i:05d}") for i in range(rules.MAX_BLOCKS + 1)])
    with pytest.raises(LayoutInvalidError):
        rules.clean_block({"id": "n00001", "type": "section", "kind": "notice", "text": ""})
    with pytest.raises(LayoutInvalidError):
        rules.clean_block({"id": "n00001", "type": "entries", "keys": ["teleport"]})


def test_move_reorder_remove():
    blocks = [banner(id="aaaaaa"), banner(id="bbbbbb"), banner(id="cccccc")]
    assert [b["id"] for b in rules.move_block(blocks, "cccccc", to=0)] == ["cccccc", "aaaaaa", "bbbbbb"]
    assert [b["id"] for b in rules.move_block(blocks, "aaaaaa", to=99)] == ["bbbbbb", "cccccc", "aaaaaa"]
    assert [b["id"] for b in rules.reorder(blocks, ["bbbbbb", "aaaaaa", "cccccc"])] == ["bbbbbb", "aaaaaa", "cccccc"]
    with pytest.raises(LayoutInvalidError):
        rules.reorder(blocks, ["aaaaaa", "bbbbbb"])
    assert [b["id"] for b in rules.remove_block(blocks, "bbbbbb")] == ["aaaaaa", "cccccc"]
    with pytest.raises(BlockNotFoundError):
        rules.remove_block(blocks, "zzzzzz")


def test_visible_blocks_respect_dates_and_missing_pages(monkeypatch):
    monkeypatch.setitem(rules.ENTRY_KEYS, "events", False)  # a page not built yet (every page is built today)
    blocks = [
        banner(id="early1", starts_on="2026-05-02"),
        banner(id="late01", ends_on="2026-04-30"),
        banner(id="today1", starts_on="2026-05-01", ends_on="2026-05-01"),
        {"id": "ent001", "type": "entries", "keys": ["events", "bills"]},
        {"id": "ent002", "type": "entries", "keys": ["events"]},
    ]
    shown = rules.visible_blocks(blocks, today=dt.date(2026, 5, 1))
    assert [b["id"] for b in shown] == ["today1", "ent001"]
    assert shown[1]["keys"] == ["bills"]


def test_sniff_reads_real_type_and_size():
    info = rules.sniff_image(png(300, 120), max_bytes=10_000, max_side=4096)
    assert (info.content_type, info.width, info.height) == ("image/png", 300, 120)
    info = rules.sniff_image(jpeg_header(1000, 400), max_bytes=10_000, max_side=4096)
    assert (info.content_type, info.width, info.height) == ("image/jpeg", 1000, 400)
    gif = b"GIF89a" + struct.pack("<HH", 5, 6) + b"\x00" * 10
    assert rules.sniff_image(gif, max_bytes=1000, max_side=10).content_type == "image/gif"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<html>hi</html>",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff\xe0\x00",
    ],
)
def test_sniff_refuses_what_is_not_a_raster_image(data):
    with pytest.raises(ImageInvalidError):
        rules.sniff_image(data, max_bytes=10_000, max_side=4096)


def test_sniff_refuses_too_big_files_and_sides():
    with pytest.raises(ImageInvalidError):
        rules.sniff_image(png(10, 10), max_bytes=20, max_side=4096)
    with pytest.raises(ImageInvalidError):
        rules.sniff_image(png(5000, 10), max_bytes=100_000, max_side=4096)
