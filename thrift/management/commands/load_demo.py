import logging

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from thrift.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the demo groups, members and payments from fixtures/. Running it "
        "again creates nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record every change as made by this superuser. Default: the "
            "platform owner for people, each group's coordinator for its records.",
        )

    def handle(self, *args, verbosity: int, user: str | None, **options):
        by = None
        if user:
            by = User.objects.filter(username=user).first()
            if by is None:
                raise CommandError(f"No user named {user!r}.")
            if not (by.is_active and by.is_superuser):
                raise CommandError(
                    f"{user!r} is not an active superuser; the demo writes every "
                    "group's records."
                )
        if verbosity < 2:
            # One line a payment is noise for a demo load; -v 2 shows it.
            logging.getLogger("thrift.services").setLevel(logging.WARNING)
        summary = load_demo(by=by)
        self.stdout.write(self.style.SUCCESS(f"Demo data: {summary}"))
