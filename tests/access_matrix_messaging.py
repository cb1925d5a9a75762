"""Access matrix of the messaging hooks: SMS delivery receipts pushed by the providers (no session; a token in the
path, galleria/interfaces/hooks/sms.py)."""

from __future__ import annotations

from .access_matrix import NOT_ALLOWED, Entry, public, status

MATRIX_MESSAGING: dict[str, Entry] = {
    "sms_receipt": Entry(
        url=lambda ew: "/hooks/sms/aliyun/not-the-token/",
        get=public(NOT_ALLOWED),
        post=public(status(403)),
        note="a provider's receipt push: no session; without the installation's token it is 403",
    ),
}
