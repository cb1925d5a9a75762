from django.db import migrations, models


def fill(apps, schema_editor):
    """Lines refunded before this field existed: their value refunded so far, by the unit formula the refunds used
    (round-half-up(amount × refunded / quantity), integer arithmetic in SQL on every backend)."""
    table = schema_editor.quote_name(apps.get_model("sales", "SaleLine")._meta.db_table)
    schema_editor.execute(
        f"UPDATE {table} SET refunded_amount_fen = (amount_fen * refunded_qty * 2 + quantity) / (2 * quantity)"  # noqa: S608
        " WHERE refunded_qty > 0"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0006_channel_payment_link"),
    ]

    operations = [
        migrations.AddField(
            model_name="saleline",
            name="refunded_amount_fen",
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="saleline",
            constraint=models.CheckConstraint(
                condition=models.Q(("refunded_amount_fen__gte", 0), ("refunded_amount_fen__lte", models.F("amount_fen"))),
                name="line_refund_max_amount",
            ),
        ),
    ]
