"""Checking and re-encoding an uploaded receipt photo (pure: bytes in, bytes out; no database, no storage).

Every upload is decoded with Pillow (HEIC through pillow-heif), turned upright by its EXIF orientation, scaled to
at most `stored_max_side` pixels and re-encoded as a fresh JPEG, so nothing of the original file's metadata —
EXIF, GPS position, camera serials, XMP — is ever stored. Refused with a clear message, nothing stored: zero
bytes, over the size limit, not an image, a truncated file, a bitmap over the pixel limit.
"""

from __future__ import annotations

import hashlib
import io
import warnings

import imagehash
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .exceptions import ReceiptImageInvalidError
from .types import CleanImage

try:  # HEIC/HEIF photos (iPhones); optional at import so a missing wheel only refuses those files
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    HEIF = False

ACCEPTED = {"JPEG": "jpeg", "PNG": "png", "HEIF": "heif", "HEIC": "heif", "WEBP": "webp", "MPO": "jpeg"}
JPEG_QUALITY = 85


def _invalid(message: str) -> ReceiptImageInvalidError:
    return ReceiptImageInvalidError(message, fields={"photo": message})


def clean_upload(data: bytes, *, max_bytes: int, max_pixels: int, max_side: int) -> CleanImage:
    if not data:
        raise _invalid(_("The file is empty. Take the photo again."))
    if len(data) > max_bytes:
        raise _invalid(
            _("The photo is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {"size": f"{len(data) / 1048576:.1f}", "limit": f"{max_bytes / 1048576:.0f}"}
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                kind = ACCEPTED.get(probe.format or "")
                if kind is None:
                    raise _invalid(_("Upload a photo (JPEG, PNG or HEIC)."))
                if probe.width * probe.height > max_pixels:
                    raise _invalid(_("The photo has too many pixels. Take it again at a normal size."))
                probe.load()  # decodes everything: a truncated file fails here
                image = ImageOps.exif_transpose(probe)
                image = image.convert("RGB")
        except ReceiptImageInvalidError:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _invalid(_("This file is not a photo we can read. Upload a JPEG, PNG or HEIC photo.")) from None
        except (OSError, SyntaxError, ValueError):
            raise _invalid(_("The photo is damaged or incomplete. Upload it again.")) from None
    if min(image.size) < 50:
        raise _invalid(_("The photo is too small to read."))
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif=…: nothing carried over
    return CleanImage(
        data=out.getvalue(),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(data).hexdigest(),
        phash=str(imagehash.phash(image)),
        source_type=kind,
    )


def phash_distance(a: str, b: str) -> int:
    """Bits that differ between two 64-bit perceptual hashes (hex)."""
    if not a or not b:
        return 64
    return bin(int(a, 16) ^ int(b, 16)).count("1")
