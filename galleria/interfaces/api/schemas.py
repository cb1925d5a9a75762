from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

Phone = Annotated[str, StringConstraints(min_length=5, max_length=32, strip_whitespace=True)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(max_length=50, strip_whitespace=True)]
MallCode = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str
    errors: dict[str, str] | None = None


class OtpRequestIn(Schema):
    phone: Phone
    mall: MallCode | None = None


class OtpRequestOut(Schema):
    sent: bool
    expires_in: int
    resend_after: int


class OtpVerifyIn(Schema):
    phone: Phone
    code: Annotated[str, StringConstraints(min_length=1, max_length=8)]
    mall: MallCode | None = None
    accept_terms: bool = Field(description="The member accepts the membership terms and privacy policy.")


class IdentifierOut(Schema):
    id: int
    kind: str
    value: str


class MemberSelfOut(Schema):
    id: int
    card_no: str
    phone: str
    name: str
    gender: str
    birthday: dt.date | None
    email: str
    joined_at: dt.datetime
    plates: list[str]
    is_new: bool = False


class MemberCodeOut(Schema):
    code: str
    card_no: str
    expires_in: int
    qr_svg: str


class ProfileIn(Schema):
    name: ShortText | None = None
    gender: Annotated[str, StringConstraints(max_length=10)] | None = None
    birthday: dt.date | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None


class PlateIn(Schema):
    plate: Annotated[str, StringConstraints(min_length=1, max_length=16)]


class StaffMemberOut(Schema):
    id: int
    card_no: str
    phone: str = Field(description="Masked unless the caller may see personal data")
    name: str
    gender: str
    join_channel: str
    join_mall: str
    joined_at: dt.datetime
    last_active_at: dt.datetime | None
    matched_by: str | None = None


class StaffMemberDetailOut(StaffMemberOut):
    birthday: dt.date | None = None
    email: str = ""
    identifiers: list[IdentifierOut]
    consents: dict[str, bool]


class MemberPage(Schema):
    count: int
    results: list[StaffMemberOut]


class RegisterIn(Schema):
    phone: Phone
    mall_id: int = Field(ge=1, le=2**62)
    name: ShortText = ""
    gender: Annotated[str, StringConstraints(max_length=10)] = "unknown"
    birthday: dt.date | None = None
    email: Annotated[str, StringConstraints(max_length=254)] = ""


class MaskedMemberOut(Schema):
    card_no: str
    phone: str
    name: str
    joined_at: dt.datetime
    matched_by: str
