from django.core.management.base import BaseCommand, CommandError

from thrift import services
from thrift.models import ThriftGroup


class Command(BaseCommand):
    help = (
        "Recompute the collections kept by group and month from the "
        "contributions, for the groups the ledger check names (or all). "
        "Safe while the back-office runs: each group's contributions are "
        "locked while its months are rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "groups", nargs="*", type=int, help="group ids; every group if none"
        )

    def handle(self, *args, groups, **options):
        chosen = ThriftGroup.objects.order_by("pk")
        if groups:
            chosen = chosen.filter(pk__in=groups)
            missing = sorted(set(groups) - set(chosen.values_list("pk", flat=True)))
            if missing:
                raise CommandError(
                    "No group with id " + ", ".join(str(pk) for pk in missing) + "."
                )
        done = 0
        for group in chosen.iterator():
            services.rebuild_collection_months(group)
            done += 1
        self.stdout.write(
            self.style.SUCCESS(f"Collection months rebuilt for {done} group(s).")
        )
