"""Realistic Chinese till receipts for tests, the demo and the OCR benchmark (not used on the request path).

`render_receipt(spec)` draws a receipt with a CJK font found on the machine at run time (Noto Sans CJK from
Debian's fonts-noto-cjk, or WenQuanYi Zen Hei), in one of three layouts (supermarket till, café, department
store), on slightly tinted paper, then adds speckle noise, blur, rotation and JPEG compression as asked. The
spec carries the truth, so a test or the benchmark can score what the OCR read.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: Simplified Chinese
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)
LAYOUTS = ("supermarket", "cafe", "department")


class NoCjkFontError(RuntimeError):
    pass


@cache
def font_path() -> tuple[str, int]:
    for path, index in FONT_CANDIDATES:
        if Path(path).is_file():
            return path, index
    for found in sorted(Path("/usr/share/fonts").rglob("*CJK*Regular*")):
        return str(found), 0
    raise NoCjkFontError("no CJK font: install Debian's fonts-noto-cjk")


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    path, index = font_path()
    return ImageFont.truetype(path, size, index=index)


@dataclass(frozen=True)
class ReceiptSpec:
    shop: str
    receipt_no: str
    occurred_at: dt.datetime  # mall-local wall time
    items: tuple[tuple[str, int, int], ...]  # (name, quantity, unit price fen)
    tax_no: str = ""
    layout: str = "supermarket"
    discount_fen: int = 0
    rotation: float = 0.0  # degrees
    noise: float = 0.0  # 0..1: speckles and blur
    seed: int = 0
    fmt: str = "JPEG"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def total_fen(self) -> int:
        return sum(q * p for _n, q, p in self.items)

    @property
    def paid_fen(self) -> int:
        return self.total_fen - self.discount_fen


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _lines(spec: ReceiptSpec) -> list[tuple[str, str]]:
    """(alignment, text) rows; alignment c(entre), l(eft), or s (separator)."""
    when = spec.occurred_at
    rows: list[tuple[str, str]] = []
    if spec.layout == "cafe":
        rows += [("c", spec.shop), ("c", "欢迎光临")]
        if spec.tax_no:
            rows.append(("l", f"商户号：{spec.tax_no}"))
        rows += [("l", f"单号：{spec.receipt_no}"), ("l", f"日期：{when:%Y/%m/%d %H:%M}"), ("s", "")]
        for name, qty, price in spec.items:
            rows.append(("l", f"{name} x{qty}  {yuan(qty * price)}"))
        rows += [("s", ""), ("l", f"应收：{yuan(spec.total_fen)}")]
        if spec.discount_fen:
            rows.append(("l", f"优惠：-{yuan(spec.discount_fen)}"))
        rows += [("l", f"实付：￥{yuan(spec.paid_fen)}"), ("l", "支付方式：微信支付"), ("c", "谢谢惠顾，欢迎再来")]
    elif spec.layout == "department":
        rows += [("c", "收 款 收 据"), ("l", f"商户名称：{spec.shop}")]
        if spec.tax_no:
            rows.append(("l", f"纳税人识别号：{spec.tax_no}"))
        rows += [
            ("l", f"流水号：{spec.receipt_no}"),
            ("l", f"交易时间：{when.year}年{when.month}月{when.day}日 {when:%H:%M:%S}"),
            ("s", ""),
            ("l", "品名　　　数量　　金额"),
        ]
        for name, qty, price in spec.items:
            rows.append(("l", f"{name}　{qty}　{yuan(qty * price)}"))
        rows += [("s", ""), ("l", f"金额合计（元）：{yuan(spec.total_fen)}")]
        if spec.discount_fen:
            rows.append(("l", f"折扣优惠：{yuan(spec.discount_fen)}"))
        rows += [("l", f"实收金额：{yuan(spec.paid_fen)}"), ("l", "收银员：0032"), ("c", "请妥善保管此收据")]
    else:
        rows += [("c", spec.shop)]
        if spec.tax_no:
            rows.append(("c", f"税号：{spec.tax_no}"))
        rows += [
            ("l", f"小票号：{spec.receipt_no}"),
            ("l", f"收银员：{spec.seed % 90 + 10}号  机号：03"),
            ("l", f"日期：{when:%Y-%m-%d %H:%M:%S}"),
            ("s", ""),
        ]
        for name, qty, price in spec.items:
            rows.append(("l", f"{name}  {qty}  ¥{yuan(price)}  ¥{yuan(qty * price)}"))
        rows += [
            ("s", ""),
            ("l", f"件数：{sum(q for _n, q, _p in spec.items)}"),
            ("l", f"合计：￥{yuan(spec.total_fen)}"),
        ]
        if spec.discount_fen:
            rows.append(("l", f"优惠：￥{yuan(spec.discount_fen)}"))
        rows += [("l", f"实收：￥{yuan(spec.paid_fen)}"), ("l", "找零：￥0.00"), ("c", "谢谢惠顾")]
    return rows


def printed_lines(spec: ReceiptSpec) -> list[str]:
    """The text lines the receipt prints, top to bottom (what a perfect read returns; the demo records it)."""
    return [text for align, text in _lines(spec) if align != "s"]


def render_receipt(spec: ReceiptSpec) -> bytes:
    rng = random.Random(spec.seed)
    size = 26
    font = _font(size)
    title = _font(32)
    width = 560
    rows = _lines(spec)
    height = 80 + len(rows) * 46
    tint = (250 - rng.randint(0, 12), 248 - rng.randint(0, 14), 240 - rng.randint(0, 20))
    image = Image.new("RGB", (width, height), tint)
    draw = ImageDraw.Draw(image)
    y = 40
    for index, (align, text) in enumerate(rows):
        f = title if index == 0 else font
        if align == "s":
            draw.text((30, y), "-" * 44, fill=(90, 90, 90), font=font)
        elif align == "c":
            w = draw.textlength(text, font=f)
            draw.text(((width - w) / 2, y), text, fill=(20, 20, 25), font=f)
        else:
            draw.text((32, y), text, fill=(20, 20, 25), font=f)
        y += 46
    if spec.noise:
        pixels = image.load()
        assert pixels is not None
        for _ in range(int(width * height * 0.004 * spec.noise)):
            x, yy = rng.randrange(width), rng.randrange(height)
            shade = rng.randint(60, 200)
            pixels[x, yy] = (shade, shade, shade)
        image = image.filter(ImageFilter.GaussianBlur(radius=0.6 * spec.noise))
    canvas = Image.new("RGB", (width + 160, height + 160), (70, 66, 60))  # the table under the receipt
    canvas.paste(image, (80, 80))
    if spec.rotation:
        canvas = canvas.rotate(spec.rotation, expand=True, fillcolor=(70, 66, 60), resample=Image.Resampling.BICUBIC)
    out = io.BytesIO()
    if spec.fmt == "PNG":
        canvas.save(out, format="PNG")
    else:
        canvas.save(out, format="JPEG", quality=max(50, 90 - int(spec.noise * 30)))
    return out.getvalue()


SHOPS = (
    ("喜茶", "91440300MA5F000018"),
    ("优衣库", "91310000607389123X"),
    ("星巴克咖啡", "91310000MA1K000001"),
    ("屈臣氏", "91440101MA59ABCDE1"),
    ("海底捞火锅", "91110105MA01XYZ234"),
)
ITEMS = (
    ("多肉葡萄", 2900),
    ("芝芝莓莓", 3200),
    ("纯棉T恤", 9900),
    ("牛仔裤", 29900),
    ("拿铁(大杯)", 3800),
    ("蓝莓松饼", 2250),
    ("洗面奶", 6900),
    ("面膜10片装", 12900),
    ("肥牛拼盘", 8800),
    ("番茄锅底", 3800),
)


def random_spec(seed: int, *, shop: tuple[str, str] | None = None, now: dt.datetime | None = None) -> ReceiptSpec:
    """A varied receipt: layout, items, discount, rotation and noise chosen by the seed."""
    rng = random.Random(seed)
    name, tax_no = shop or SHOPS[rng.randrange(len(SHOPS))]
    now = now or dt.datetime(2026, 11, 20, 12, 0)
    when = (now - dt.timedelta(minutes=rng.randint(30, 60 * 24 * 3))).replace(microsecond=0)
    picks = rng.sample(ITEMS, rng.randint(1, 3))
    items = tuple((n, rng.randint(1, 2), p) for n, p in picks)
    total = sum(q * p for _n, q, p in items)
    discount = rng.choice((0, 0, 500, 1000)) if total > 3000 else 0
    return ReceiptSpec(
        shop=name,
        tax_no=tax_no if rng.random() < 0.7 else "",
        receipt_no=f"{when:%Y%m%d}{rng.randint(10000, 99999)}",
        occurred_at=when,
        items=items,
        layout=LAYOUTS[seed % len(LAYOUTS)],
        discount_fen=discount,
        rotation=rng.choice((0.0, 0.0, -3.5, 2.0, 6.0, -8.0)),
        noise=rng.choice((0.0, 0.3, 0.6, 1.0)),
        seed=seed,
    )
