from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

# Every string the API accepts is bounded and NUL-free: PostgreSQL text cannot hold NUL, and a pattern makes
# pydantic-core refuse unpaired surrogates ("\ud800" in JSON) too, so such input is a 422, never a 500.
NO_NUL = r"^[^\x00]*$"
Phone = Annotated[str, StringConstraints(min_length=5, max_length=32, strip_whitespace=True, pattern=NO_NUL)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True, pattern=NO_NUL)]
ShortText = Annotated[str, StringConstraints(max_length=50, strip_whitespace=True, pattern=NO_NUL)]
MallCode = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NO_NUL)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=8, pattern=NO_NUL)]
Gender = Annotated[str, StringConstraints(max_length=10, pattern=NO_NUL)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=NO_NUL)]
PlateText = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=NO_NUL)]
PathText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]


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
    code: Code
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
    gender: Gender | None = None
    birthday: dt.date | None = None
    email: Email | None = None


class PlateIn(Schema):
    plate: PlateText


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
    gender: Gender = "unknown"
    birthday: dt.date | None = None
    email: Email = ""


class MaskedMemberOut(Schema):
    card_no: str
    phone: str
    name: str
    joined_at: dt.datetime
    matched_by: str
