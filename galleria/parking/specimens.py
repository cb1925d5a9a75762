"""A made-up vehicle licence (行驶证) page as a JPEG, for the demo's plate-claims queue, the tests and the docs:
the plate and invented details drawn with a CJK font when one is installed (fonts-noto-cjk or wqy-zenhei)."""

from __future__ import annotations

import glob
import io
from typing import Any

from PIL import Image, ImageDraw, ImageFont


def licence_photo(plate: str) -> bytes:
    """The page with `plate` as its 号牌号码 (owner and dates invented)."""
    image = Image.new("RGB", (900, 600), (226, 236, 226))
    draw = ImageDraw.Draw(image)
    fonts = sorted(glob.glob("/usr/share/fonts/**/NotoSansCJK*.tt[cf]", recursive=True))
    fonts += sorted(glob.glob("/usr/share/fonts/**/wqy-zenhei.tt[cf]", recursive=True))
    font: Any
    try:
        font = ImageFont.truetype(fonts[0], 40) if fonts else ImageFont.load_default(size=40)
    except OSError:
        font = ImageFont.load_default()
    draw.rectangle((20, 20, 880, 580), outline=(40, 80, 40), width=4)
    lines = [
        "中华人民共和国机动车行驶证",
        f"号牌号码 {plate}",
        "车辆类型 小型轿车",
        "所有人 张**",
        "注册日期 2021-05-18",
    ]
    for i, text in enumerate(lines):
        draw.text((60, 60 + i * 100), text, fill=(20, 40, 20), font=font)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
