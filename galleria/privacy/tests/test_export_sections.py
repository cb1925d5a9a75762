"""The registry of export sections (settings.GALLERIA_EXPORT_SECTIONS): every path imports and takes the member and
the group, section names are unique, a name used twice is an error, and a member with nothing but a profile
exports plain JSON. The export of a member with data in every area, and the check that every table keyed by a
member is exported or left out with a reason, cross the apps above privacy: tests/test_export_sweep.py."""

from __future__ import annotations

import inspect
import itertools
import json

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from galleria.audit.types import Actor
from galleria.members.models import Member
from galleria.members.services import member_register
from galleria.privacy import selectors

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, label="member-app")
_phones = itertools.count(31000000)

# The sections of the core document (privacy's own reads), which the registered areas may not reuse.
CORE = {"format", "generated_at", "mall_group", "profile", "identifiers", "consents", "points", "tier", "wallet"}
CORE |= {"sales", "refunds", "coupons"}


def _register(world, phone: str) -> Member:
    return member_register(mall=world.mall, phone=phone, channel="app", actor=ACTOR, consents=("privacy_policy",))


def test_every_registered_section_function_imports_and_takes_member_and_group():
    assert settings.GALLERIA_EXPORT_SECTIONS
    for path in settings.GALLERIA_EXPORT_SECTIONS:
        function = selectors.export_sections_function(path)
        params = inspect.signature(function).parameters
        assert {"member_id", "mall_group_id"} <= set(params), path
        assert all(params[name].kind is inspect.Parameter.KEYWORD_ONLY for name in ("member_id", "mall_group_id"))


def test_registered_sections_have_their_own_names(world):
    """No two areas, and no area and the core document, use one section name."""
    member = _register(world, f"135{next(_phones):08d}")
    names: dict[str, str] = dict.fromkeys(CORE, "privacy")
    names |= dict.fromkeys(selectors.messaging_export_sections(member=member), "privacy (messaging)")
    for path in settings.GALLERIA_EXPORT_SECTIONS:
        for name in selectors.export_sections_function(path)(member_id=member.pk, mall_group_id=world.group.pk):
            assert name not in names, f"{path} reuses {name!r} of {names.get(name)}"
            names[name] = path
    assert set(selectors.member_export_document(member=member)) == set(names)


def _sales_again(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, object]]]:
    return {"sales": []}


def _tags_again(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, object]]]:
    return {"audience_tags": []}


@pytest.mark.parametrize("clash", ["_sales_again", "_tags_again"])
def test_a_section_name_used_twice_is_an_error(world, clash):
    member = _register(world, f"135{next(_phones):08d}")
    paths = [*settings.GALLERIA_EXPORT_SECTIONS, f"{__name__}.{clash}"]
    with override_settings(GALLERIA_EXPORT_SECTIONS=paths), pytest.raises(ImproperlyConfigured, match="already"):
        selectors.member_export_document(member=member)


def test_json_export_of_a_member_with_nothing_but_a_profile(world):
    member = _register(world, f"135{next(_phones):08d}")
    doc = selectors.member_export_document(member=member)
    json.dumps(doc)
    for name in set(doc) - CORE:
        assert doc[name] == [], name
