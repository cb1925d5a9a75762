"""Rules of GUIDE.md that a linter does not check, checked here over the source tree."""

import ast
import pathlib

from django.apps import apps
from django.db import models

ROOT = pathlib.Path(__file__).resolve().parent.parent / "galleria"
DOMAIN_APPS = ["core", "malls", "merchants", "accounts", "audit", "messaging", "members"]
WEB_MODULES = ("django.http", "django.shortcuts", "ninja", "galleria.interfaces")


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_domain_apps_never_import_the_web_layer():
    offenders = []
    for app in DOMAIN_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for name in _imports(path):
                if name.startswith(WEB_MODULES):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_no_float_fields_anywhere():
    floats = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label not in {"admin", "auth", "contenttypes", "sessions"}
        for field in model._meta.get_fields()
        if isinstance(field, models.FloatField)
    ]
    assert floats == []


def test_money_fields_are_big_integers_in_fen():
    wrong = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.name.endswith("_fen") and not isinstance(field, models.BigIntegerField)
    ]
    assert wrong == []
