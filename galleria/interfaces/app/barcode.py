"""Code 128 barcodes as inline SVG, for the laser scanners at tills that read 1D barcodes only.

python-barcode encodes (an all-digit code gets code set C, two digits per symbol: the 18-digit member code is
start + 9 symbols + check + stop = 134 modules); the bars are drawn here as one small inline SVG — no XML prolog,
no text, no fonts, nothing fetched — whose size the stylesheet sets. The quiet zone (10 modules of white each side,
the symbology's minimum) is part of the drawing, so a tight layout cannot eat it.
"""

from __future__ import annotations

import re

from barcode.codex import Code128
from django.utils.html import escape

QUIET_ZONE = 10  # modules of white either side of the bars
_BARS = re.compile("1+")


def code128_modules(data: str) -> str:
    """`data` in Code 128 from start to stop, one character per module: "1" a bar module, "0" a space module."""
    if not data or not data.isascii() or not data.isprintable():
        raise ValueError("Code 128 here takes printable ASCII text")
    return str(Code128(data).build()[0])


def code128_svg(data: str, *, title: str = "", css_class: str = "barcode") -> str:
    """An inline <svg> of `data` in Code 128: one path, a unit per module, stretched to the height CSS gives it."""
    modules = code128_modules(data)
    width = len(modules) + 2 * QUIET_ZONE
    path = "".join(
        f"M{QUIET_ZONE + bar.start()} 0h{bar.end() - bar.start()}v1h-{bar.end() - bar.start()}z"
        for bar in _BARS.finditer(modules)
    )
    label = escape(title or data)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" viewBox="0 0 {width} 1" '
        f'preserveAspectRatio="none" shape-rendering="crispEdges" role="img" aria-label="{label}">'
        f'<title>{label}</title><rect width="{width}" height="1" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
