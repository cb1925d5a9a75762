from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0005_fewer_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sale",
            name="channel",
            field=models.CharField(
                choices=[
                    ("pos", "POS"),
                    ("counter", "Merchant counter"),
                    ("receipt", "Receipt photo"),
                    ("pay_at_store", "Pay at store"),
                    ("online", "Online order"),
                    ("points_mall", "Points mall"),
                    ("parking", "Parking"),
                    ("payment_link", "Payment-linked points"),
                ],
                default="pos",
                max_length=16,
                verbose_name="channel",
            ),
        ),
    ]
