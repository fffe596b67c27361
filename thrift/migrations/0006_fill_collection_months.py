from django.db import migrations
from django.db.models import Sum
from django.db.models.functions import TruncMonth


def fill_from_contributions(apps, schema_editor):
    """Sum what is already paid, by group and month of the payment date."""
    Contribution = apps.get_model("thrift", "Contribution")
    CollectionMonth = apps.get_model("thrift", "CollectionMonth")
    rows = (
        Contribution.objects.filter(amount_paid__gt=0, paid_on__isnull=False)
        .annotate(month=TruncMonth("paid_on"))
        .values("group_id", "month")
        .annotate(amount=Sum("amount_paid"))
        .order_by()
    )
    CollectionMonth.objects.bulk_create(
        (
            CollectionMonth(
                group_id=row["group_id"], month=row["month"], amount=row["amount"]
            )
            for row in rows.iterator()
        ),
        batch_size=1000,
    )


def empty(apps, schema_editor):
    apps.get_model("thrift", "CollectionMonth").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("thrift", "0005_collection_months"),
    ]

    operations = [
        migrations.RunPython(fill_from_contributions, empty),
    ]
