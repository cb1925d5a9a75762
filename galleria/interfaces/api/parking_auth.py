"""Car-park system authentication: every request signed with HMAC-SHA256, exactly like the POS API (docs/api.md,
"Authentication for POS terminals"), with the car park's own keys (docs/parking.md, "Integration API").

The same four headers, the same string to sign, the same ±300 s clock window, the same error codes; the signing rule
itself is galleria/merchants/rules.py and the request-target forms are pos_auth's. A nonce is spent by every signed
request whatever its answer, claimed before the operation runs (in its own statement): car-park events are
idempotent by their event id, so a request retried with a fresh nonce is safe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyHeader

from galleria.parking.services_keys import (
    car_park_key_active,
    car_park_key_touch,
    car_park_key_verify,
    car_park_nonce_use,
)

from .pos_auth import SignatureError, key_unknown, nonce_reused, signature_headers, signed_targets


@dataclass(frozen=True)
class CarParkContext:
    key: Any  # the CarParkKey (its model stays private to the parking app)
    car_park: Any  # the key's CarPark, with its mall

    @property
    def car_park_id(self) -> int:
        return int(self.car_park.pk)


class CarParkSignature(APIKeyHeader):
    param_name = "X-Galleria-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> CarParkContext | None:
        if not key:
            return None
        timestamp, nonce, signature = signature_headers(request, key)
        car_park_key = car_park_key_active(key_id=key)
        if car_park_key is None:
            raise key_unknown()
        if not car_park_key_verify(
            key=car_park_key,
            signature=signature,
            method=request.method or "",
            targets=signed_targets(request),
            timestamp=timestamp,
            nonce=nonce,
            body=request.body,
        ):
            raise SignatureError(_("The signature does not match the request."))
        if not car_park_nonce_use(key=car_park_key, nonce=nonce):
            raise nonce_reused()
        car_park_key_touch(key=car_park_key)
        return CarParkContext(key=car_park_key, car_park=car_park_key.car_park)


car_park_auth = CarParkSignature()
