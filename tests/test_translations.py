"""The zh-Hans catalogue: complete, no fuzzy entries, every placeholder kept, and what users see by default.

The catalogue is compiled into a temporary copy of LOCALE_PATHS, so this module never rewrites the .mo that other
tests (possibly running in parallel) read from galleria/locale/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

LOCALE_DIR = Path(django_settings.BASE_DIR) / "galleria" / "locale"
PO_PATH = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"

NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
POSITIONAL = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
BRACES = re.compile(r"\{\{\s*[\w.|:\"']+\s*\}\}|\{\w*\}")


def _catalog() -> Catalog:
    with PO_PATH.open("rb") as po_file:
        return read_po(po_file, locale="zh_Hans")


def _messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _ids(message: Message) -> tuple[str, ...]:
    ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
    return tuple(str(i) for i in ids)


def _strings(message: Message) -> tuple[str, ...]:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return tuple(s or "" for s in strings)


def _label(message: Message) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    return f"{_ids(message)[0]!r} ({where})"


class _AnyValue(dict):
    """A mapping that has every key, to %-format a string the way Django does at runtime."""

    def __missing__(self, key: str) -> int:
        return 1


def _formats(text: str) -> bool:
    try:
        text % _AnyValue()
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _shape(text: str, *, python_format: bool) -> tuple[frozenset[str], int, int, frozenset[str]]:
    """The placeholders a translation must keep: %(name)s, positional %s/%d, escaped %% and {{ var }}/{name}."""
    named = frozenset(NAMED.findall(text))
    if not python_format:
        return named, 0, 0, frozenset(BRACES.findall(text))
    without_escapes = text.replace("%%", "")
    positional = len(POSITIONAL.findall(NAMED.sub("", without_escapes)))
    return named, positional, text.count("%%"), frozenset(BRACES.findall(text))


# ---------------------------------------------------------------------------------------------- the .po file


def test_header_is_zh_hans_utf8_with_one_plural_form():
    raw = PO_PATH.read_text(encoding="utf-8")
    assert '"Language: zh_Hans\\n"' in raw
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in raw
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in raw
    catalog = _catalog()
    assert not catalog.fuzzy, "the header is still marked fuzzy"
    assert catalog.num_plurals == 1


def test_every_message_is_translated():
    untranslated = [_label(m) for m in _messages(_catalog()) if not all(s.strip() for s in _strings(m))]
    assert untranslated == [], f"{len(untranslated)} untranslated message(s); run makemessages and translate them"


def test_no_fuzzy_messages():
    fuzzy = [_label(m) for m in _messages(_catalog()) if m.fuzzy]
    assert fuzzy == [], "fuzzy translations are not used at runtime: check them and drop the fuzzy flag"


def test_plural_messages_have_exactly_one_form():
    wrong = [_label(m) for m in _messages(_catalog()) if m.pluralizable and len(_strings(m)) != 1]
    assert wrong == []


def test_translations_keep_every_placeholder():
    broken = []
    for message in _messages(_catalog()):
        # xgettext also flags plain text such as "0.01% of sales" as python-format; Django never formats those.
        python_format = "python-format" in message.flags and all(_formats(i) for i in _ids(message))
        # Chinese has one plural form: it must carry the placeholders of the general (plural) English form.
        expected = _shape(_ids(message)[-1], python_format=python_format)
        for translated in _strings(message):
            if _shape(translated, python_format=python_format) != expected:
                broken.append(f"{_label(message)} → {translated!r}")
    assert broken == []


def test_translations_format_like_their_msgid():
    """Django %-formats blocktranslate and python-format strings: a stray % in a translation would crash a page."""
    broken = []
    for message in _messages(_catalog()):
        if "python-format" not in message.flags or not all(_formats(i) for i in _ids(message)):
            continue  # xgettext also flags plain text such as "0.01% of sales"; Django never formats those
        broken += [f"{_label(message)} → {s!r}" for s in _strings(message) if not _formats(s)]
    assert broken == []


# ---------------------------------------------------------------------------------------------- at runtime


@pytest.fixture
def zh_catalogue(tmp_path, settings):
    """Compile a copy of the catalogue with the project's command and point LOCALE_PATHS at it."""
    target = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(PO_PATH, target / "django.po")
    settings.LOCALE_PATHS = [tmp_path / "locale"]  # resets Django's translation caches
    call_command("compile_translations", verbosity=0)
    assert (target / "django.mo").stat().st_size > 0
    return target


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Sign in", "登录"),
        ("Members", "会员"),
        ("Points", "积分"),
        ("Tier", "等级"),
        ("Wallet", "储值"),
        ("Member code", "会员码"),
        ("Dynamic member code", "动态会员码"),
        ("Merchant portal", "商户后台"),
        ("POS (pay = join)", "POS\uff08支付即入会\uff09"),
    ],
)
def test_key_strings_are_chinese_in_zh_hans_and_english_in_en(zh_catalogue, english, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_plurals_and_placeholders_at_runtime(zh_catalogue):
    with translation.override("zh-hans"):
        assert translation.ngettext("%(n)s member", "%(n)s members", 1) % {"n": 1} == "1 位会员"
        assert translation.ngettext("%(n)s member", "%(n)s members", 25) % {"n": 25} == "25 位会员"
        welcome = translation.gettext("Welcome to %(mall)s! Your member card is ready.") % {"mall": "星河广场"}
        assert "星河广场" in welcome and "%" not in welcome


def test_product_default_language_is_simplified_chinese():
    from config.settings import base

    assert base.LANGUAGE_CODE == "zh-hans"
    assert {"zh-hans", "en"} <= {code for code, _name in base.LANGUAGES}
    assert LOCALE_DIR in [Path(p) for p in base.LOCALE_PATHS]


@pytest.mark.django_db
def test_console_login_is_chinese_by_default_and_english_after_switching(zh_catalogue, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the product default, whatever language the rest of the suite runs in
    client = Client()  # no language cookie, no Accept-Language header
    login_url = reverse("console:login")
    assert login_url == "/console/login/"

    page = client.get(login_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "登录" in html and "密码" in html
    assert "Sign in" not in html

    switched = client.post(reverse("set_language"), {"language": "en", "next": login_url})
    assert switched.status_code == 302
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    html = client.get(login_url).content.decode()
    assert '<html lang="en"' in html
    assert "Sign in" in html and "Password" in html
    assert "登录" not in html

    client.post(reverse("set_language"), {"language": "zh-hans", "next": login_url})
    assert "登录" in client.get(login_url).content.decode()
