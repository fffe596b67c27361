import logging

from django.core.management.base import BaseCommand

from thrift.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the demo groups, members and payments from fixtures/. Running it "
        "again creates nothing new."
    )

    def handle(self, *args, verbosity: int, **options):
        if verbosity < 2:
            # One line a payment is noise for a demo load; -v 2 shows it.
            logging.getLogger("thrift.services").setLevel(logging.WARNING)
        summary = load_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo data: {summary}"))
