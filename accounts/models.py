from django.contrib.auth.models import AbstractUser, Group
from django.db import models

from thrift_ms.history import AuditedHistory

from .validators import NUBAN_HELP, PHONE_HELP, normalize_phone, validate_nuban


class PhoneField(models.CharField):
    """A phone number kept in E.164; a blank value is stored as NULL.

    NULL rather than "" so that staff without a phone do not collide on the
    unique index.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value is None or not str(value).strip():
            return None
        return normalize_phone(value)

    def pre_save(self, model_instance, add):
        value = self.to_python(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value


class User(AbstractUser):
    """A member or a staff user. Members never log in to the admin."""

    phone = PhoneField(
        unique=True, null=True, blank=True, help_text=PHONE_HELP, db_index=True
    )
    account_number = models.CharField(
        "account number",
        max_length=10,
        blank=True,
        validators=[validate_nuban],
        help_text=NUBAN_HELP,
    )
    bank_name = models.CharField(max_length=100, blank=True)
    account_name = models.CharField(max_length=150, blank=True)

    # Roles (`groups`) are kept with each version, so that granting or
    # taking away one shows in the user's history like any other change.
    history = AuditedHistory(
        excluded_fields=["password", "last_login"], m2m_fields=["groups"]
    )

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            # The admin's default order and each sortable column.
            models.Index(fields=["first_name", "last_name", "username"]),
            models.Index(fields=["last_name"]),
            models.Index(fields=["email"]),
            models.Index(fields=["bank_name"]),
            models.Index(fields=["account_number"]),
            models.Index(fields=["is_staff"]),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Role(Group):
    """Django's auth group, shown with the people as a staff role."""

    class Meta:
        proxy = True
        verbose_name = "staff role"
