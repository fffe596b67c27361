"""Spreadsheet columns of members (users).

A member is found by phone (any accepted form), else email, else username.
Members are created without a password (an unusable one); a password
column is refused, never read. Staff accounts are not imported.
"""

from django.core.exceptions import ValidationError
from import_export import fields

from thrift import parsing
from thrift.resources import (
    MemberFinder,
    PhoneWidget,
    SpreadsheetResource,
    TextWidget,
    column_values,
)

from .models import User


class NubanWidget(TextWidget):
    def clean(self, value, row=None, **kwargs):
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = parsing.clean_text(value)
            if len(text) != 10:
                raise ValueError(
                    f"{text} is not a 10-digit account number. A number cell drops "
                    "leading zeros; format the column as text."
                )
            return text
        return super().clean(value, row, **kwargs)


class MemberResource(SpreadsheetResource):
    first_name = fields.Field(
        "first_name", "first_name", TextWidget(required=True, max_length=150)
    )
    last_name = fields.Field("last_name", "last_name", TextWidget(max_length=150))
    phone = fields.Field("phone", "phone", PhoneWidget())
    email = fields.Field("email", "email", TextWidget(max_length=254))
    username = fields.Field("username", "username", TextWidget(max_length=150))
    bank_name = fields.Field("bank_name", "bank_name", TextWidget(max_length=100))
    account_number = fields.Field(
        "account_number", "account_number", NubanWidget(max_length=10)
    )
    account_name = fields.Field(
        "account_name", "account_name", TextWidget(max_length=150)
    )

    required_columns = ("first_name", "phone")
    file_kind = "a members file"

    class Meta(SpreadsheetResource.Meta):
        model = User
        fields = (
            "first_name",
            "last_name",
            "phone",
            "email",
            "username",
            "bank_name",
            "account_number",
            "account_name",
        )
        import_id_fields = ("phone",)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.finder = MemberFinder(
            column_values(dataset, "phone") + column_values(dataset, "email"),
            usernames=column_values(dataset, "username"),
        )
        self.seen_phones: dict[str, int] = {}

    def get_instance(self, instance_loader, row):
        try:
            phone = PhoneWidget().clean(row.get("phone"))
        except ValueError as e:
            raise ValidationError({"phone": str(e)}) from None
        if not phone:
            raise ValidationError(
                {"phone": "This cell is empty; members are found by their phone."}
            )
        # Two rows of one file for the same number would both look new.
        first = self.seen_phones.setdefault(phone, self.row_number)
        if first != self.row_number:
            raise ValidationError({"phone": f"{phone} is also on row {first + 1}."})
        found = {}
        if phone in self.finder.by_phone:
            found["phone"] = self.finder.by_phone[phone]
        email = parsing.clean_text(row.get("email")).lower()
        for user in self.finder.by_email.get(email, [])[:1]:
            found["email"] = user
        username = parsing.clean_text(row.get("username"))
        if username in self.finder.by_username:
            found["username"] = self.finder.by_username[username]
        people = {user.pk: user for user in found.values()}
        if len(people) > 1:
            names = ", ".join(f"the {c} is {u}'s" for c, u in found.items())
            raise ValidationError(
                {"phone": f"This row points at different people: {names}."}
            )
        return next(iter(people.values()), None)

    def check_member(self, user: User) -> None:
        if self.user.is_superuser:
            return
        user = User.objects.get(pk=user.pk)  # named as the books know them
        if user.is_staff:
            raise ValidationError(
                {"phone": f"{user} is a staff account; staff are not imported."}
            )
        own = user.memberships.filter(group__coordinator=self.user).exists()
        if not own:
            raise ValidationError(
                {
                    "phone": f"{user} is not a member of your groups; ask the "
                    "platform owner to change their details."
                }
            )

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        self.row_number = kwargs["row_number"]

    def import_instance(self, instance, row, **kwargs):
        if instance.pk is None:
            instance.set_unusable_password()
        if "username" in row and parsing.is_blank(row["username"]):
            # A blank username keeps the one a member has (or makes one).
            row = {k: v for k, v in row.items() if k != "username"}
        try:
            super().import_instance(instance, row, **kwargs)
        finally:
            if instance.pk is None and not instance.username:
                instance.username = (instance.phone or "").lstrip("+")

    def do_instance_save(self, instance, is_create):
        # Checked only for rows that change someone, so that a file listing
        # other groups' members unchanged still imports.
        if not is_create:
            self.check_member(instance)
        self.stamp_save(instance)
