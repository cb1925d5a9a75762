"""A picture staff upload (a points-mall item, an event's poster): checked and re-encoded (pure: bytes in, bytes
out; no database, no storage).

Decoded with Pillow, turned upright by its EXIF orientation, scaled to at most 1200 pixels a side and re-encoded as
a fresh JPEG — nothing of the original file (EXIF, GPS, XMP, a script in a polyglot) is stored, as receipt photos.
Refused with the caller's error class (a ValidationError with its own code) and a message on the `image` field:
empty, over 8 MB, not a picture, damaged, a decompression bomb."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ValidationError

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 1200
JPEG_QUALITY = 85
ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


@dataclass(frozen=True)
class CleanPicture:
    data: bytes
    width: int
    height: int
    sha256: str  # of the stored bytes


class _Refused(Exception):
    pass


def clean_picture(data: bytes, *, error: type[ValidationError]) -> CleanPicture:
    """The re-encoded picture, or `error(message, fields={"image": message})`."""
    try:
        return _clean(data)
    except _Refused as exc:
        message = str(exc)
        raise error(message, fields={"image": message}) from None


def _invalid(message: str) -> _Refused:
    return _Refused(message)


def _clean(data: bytes) -> CleanPicture:
    if not data:
        raise _invalid(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise _invalid(_("The picture is larger than 8 MB."))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if (probe.format or "") not in ACCEPTED:
                    raise _invalid(_("Upload a picture (JPEG, PNG, WebP or GIF)."))
                if probe.width * probe.height > MAX_PIXELS:
                    raise _invalid(_("The picture has too many pixels."))
                probe.load()
                image = ImageOps.exif_transpose(probe).convert("RGB")
        except _Refused:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _invalid(_("This file is not a picture we can read.")) from None
        except (OSError, SyntaxError, ValueError):
            raise _invalid(_("The picture is damaged or incomplete.")) from None
    if min(image.size) < 32:
        raise _invalid(_("The picture is too small (at least 32 pixels a side)."))
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)  # nothing of the original carried over
    stored = out.getvalue()
    return CleanPicture(data=stored, width=image.width, height=image.height, sha256=hashlib.sha256(stored).hexdigest())
