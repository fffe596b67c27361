import sys

from django.core.management.base import BaseCommand

from thrift.ledger import find_violations


class Command(BaseCommand):
    help = (
        "Verify every invariant of the ledger over the whole database. Prints "
        "each violation and exits with status 1 when there is any."
    )

    def handle(self, *args, **options):
        problems = find_violations()
        if not problems:
            self.stdout.write(
                self.style.SUCCESS("Ledger check: every invariant holds.")
            )
            return
        for line in problems:
            self.stdout.write(line)
        self.stderr.write(
            self.style.ERROR(f"Ledger check: {len(problems)} violation(s) found.")
        )
        sys.exit(1)
