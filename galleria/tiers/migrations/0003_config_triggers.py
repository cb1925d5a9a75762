"""Configuration-change triggers (see galleria/core/config_triggers.py)."""

from django.db import migrations

from galleria.core import config_triggers

TABLES = {'tiers_tierlevel': 'mall_group_id', 'tiers_tiersettings': 'mall_group_id'}


def forwards(apps, schema_editor):
    config_triggers.install(schema_editor, TABLES)


def backwards(apps, schema_editor):
    config_triggers.uninstall(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("tiers", "0002_tier_spend_and_review_run"), ("malls", "0003_config_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
