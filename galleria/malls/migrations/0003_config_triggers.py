"""Configuration-change triggers (see galleria/core/config_triggers.py)."""

from django.db import migrations

from galleria.core import config_triggers

TABLES = {'malls_mall': 'group_id'}


def forwards(apps, schema_editor):
    config_triggers.install(schema_editor, TABLES)


def backwards(apps, schema_editor):
    config_triggers.uninstall(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("malls", "0002_config_token")]
    operations = [migrations.RunPython(forwards, backwards)]
