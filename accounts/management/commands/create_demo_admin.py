import secrets

from django.core.management.base import BaseCommand

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create the demo superuser with a random password, printed once. "
        "Does nothing when a superuser already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        existing = User.objects.filter(is_superuser=True).order_by("pk").first()
        if existing:
            self.stdout.write(
                f"Superuser '{existing.username}' already exists. Forgot the "
                f"password? .venv/bin/python manage.py changepassword {existing.username}"
            )
            return
        password = secrets.token_urlsafe(12)
        user = User(username=username, first_name="Platform", last_name="Owner")
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user._change_reason = "command: create_demo_admin"
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo superuser created. Username: {username}  Password: {password}\n"
                "This password is shown only now."
            )
        )
