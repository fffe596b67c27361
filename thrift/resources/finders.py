"""Records named in an import file, found by natural keys.

A file names groups, members and rounds as people know them, never by
database ids. Each finder loads everything a file names with a few queries
before its rows are read, so a row costs no query to look up; its `find`
says in plain words why a value matches nothing.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.db.models import Q

from accounts.models import User
from accounts.validators import normalize_phone

from .. import parsing
from ..models import Cycle, Round, ThriftGroup

# Digits and the separators people put in phone numbers, nothing else.
PHONE_LIKE = re.compile(r"[+\d\s\-().]+")
# Emails OR-ed into one query, so a file costs a few queries, not one each.
EMAILS_PER_QUERY = 200


def column_values(dataset, column: str) -> list:
    """Every cell of `column`, or none if the file lacks the column."""
    if column not in (dataset.headers or []):
        return []
    return dataset[column]


class MemberFinder:
    """Members by phone (any accepted form), email or username, loaded with
    a few queries per file rather than one per row."""

    def __init__(self, values, *, usernames=()):
        phones, emails = set(), set()
        usernames = {parsing.clean_text(u) for u in usernames} - {""}
        for value in values:
            kind, key = self.key(value)
            {"phone": phones, "email": emails, "username": usernames}.get(
                kind, set()
            ).add(key)
        self.by_phone, self.by_email, self.by_username = {}, {}, {}
        self._load(phones, usernames)
        self._load_emails(sorted(emails))

    def _load(self, phones: set[str], usernames: set[str]) -> None:
        query = Q(pk__in=[])
        if phones:
            query |= Q(phone__in=phones)
        if usernames:
            query |= Q(username__in=usernames)
        for user in User.objects.filter(query):
            if user.phone:
                self.by_phone[user.phone] = user
            self.by_username[user.username] = user

    def _load_emails(self, emails: list[str]) -> None:
        for start in range(0, len(emails), EMAILS_PER_QUERY):
            # Emails match in any case, which an `__in` lookup cannot do.
            query = Q(pk__in=[])
            for email in emails[start : start + EMAILS_PER_QUERY]:
                query |= Q(email__iexact=email)
            for user in User.objects.filter(query):
                self.by_email.setdefault(user.email.lower(), []).append(user)

    def users(self) -> dict[int, User]:
        """Every member found, by primary key."""
        found = {u.pk: u for u in self.by_phone.values()}
        found.update((u.pk, u) for u in self.by_username.values())
        found.update((u.pk, u) for us in self.by_email.values() for u in us)
        return found

    @staticmethod
    def key(value) -> tuple[str, str]:
        """What kind of key a cell holds ("phone", "email", "username",
        "blank" or "bad phone") and the key, normalised."""
        text = parsing.phone_text(value)
        if not text:
            return "blank", ""
        if "@" in text:
            return "email", text.lower()
        try:
            return "phone", normalize_phone(text)
        except ValidationError as e:
            if PHONE_LIKE.fullmatch(text):
                return "bad phone", e.messages[0]
            return "username", text

    def find(self, value) -> User:
        """The member a cell names; raise ValueError saying why if none."""
        kind, key = self.key(value)
        if kind == "blank":
            raise ValueError("This cell is empty; give the member's phone or email.")
        if kind == "bad phone":
            raise ValueError(key)
        if kind == "phone":
            user = self.by_phone.get(key)
        elif kind == "email":
            user = self._by_email(key)
        else:
            user = self.by_username.get(key)
        if user is None:
            what = {"phone": "phone number", "email": "email"}.get(kind, "username")
            raise ValueError(
                f"No member has the {what} {parsing.clean_text(value)}. Import "
                "the member first, or check the number."
            )
        return user

    def _by_email(self, email: str) -> User | None:
        found = self.by_email.get(email, [])
        if len(found) > 1:
            raise ValueError(
                f"More than one member has the email {email}; use their phone."
            )
        return found[0] if found else None


class GroupFinder:
    """Groups named in a file, found with one query, name in any case."""

    def __init__(self, names):
        wanted = {parsing.clean_text(n).lower() for n in names} - {""}
        self.groups = {}
        if wanted:
            for group in ThriftGroup.objects.select_related("coordinator"):
                if group.name.lower() in wanted:
                    self.groups[group.name.lower()] = group

    def get(self, value) -> ThriftGroup | None:
        """The group a cell names, or None."""
        return self.groups.get(parsing.clean_text(value).lower())

    def find(self, value) -> ThriftGroup:
        """The group a cell names; raise ValidationError if none."""
        name = parsing.clean_text(value)
        if not name:
            raise ValidationError({"group": "This cell is empty; name the group."})
        group = self.groups.get(name.lower())
        if group is None:
            raise ValidationError(
                {"group": f"There is no group called {name}. Check the spelling."}
            )
        return group


class RoundFinder:
    """Rounds of the open cycle of each group, or of its latest cycle."""

    def __init__(self, groups):
        groups = list(groups)
        self.cycles: dict[int, Cycle] = {}
        for cycle in Cycle.objects.filter(group__in=groups).order_by(
            "group_id", "number"
        ):
            current = self.cycles.get(cycle.group_id)
            if current is None or current.status != Cycle.Status.OPEN:
                self.cycles[cycle.group_id] = cycle
        self.by_number: dict[tuple[int, int], Round] = {}
        self.by_date: dict[tuple[int, datetime.date], Round] = {}
        rounds = Round.objects.filter(cycle__in=self.cycles.values()).select_related(
            "cycle"
        )
        for r in rounds:
            self.by_number[(r.cycle_id, r.number)] = r
            self.by_date[(r.cycle_id, r.due_date)] = r

    def find(self, group: ThriftGroup, row) -> Round:
        """The round a row names by number, due date or both; raise
        ValidationError if none, or if the two disagree."""
        cycle = self.cycles.get(group.pk)
        if cycle is None:
            raise ValidationError(
                {"group": f"{group.name} has not started a cycle; it has no rounds."}
            )
        number, due = self._read(row)
        found = None
        if number is not None:
            found = self.by_number.get((cycle.pk, number))
            if found is None:
                raise ValidationError(
                    {
                        "round": f"{group.name} cycle {cycle.number} has no round {number}."
                    }
                )
        if due is not None:
            found = self._by_date(group, cycle, due, found)
        return found

    @staticmethod
    def _read(row) -> tuple[int | None, datetime.date | None]:
        number = due = None
        errors = {}
        if not parsing.is_blank(row.get("round")):
            try:
                number = parsing.parse_whole_number(row["round"])
            except ValueError as e:
                errors["round"] = str(e)
        if not parsing.is_blank(row.get("due_date")):
            try:
                due = parsing.parse_date(row["due_date"])
            except ValueError as e:
                errors["due_date"] = str(e)
        if errors:
            raise ValidationError(errors)
        if number is None and due is None:
            raise ValidationError(
                {"round": "Give the round number or its due date to say which round."}
            )
        return number, due

    def _by_date(
        self, group: ThriftGroup, cycle: Cycle, due: datetime.date, found: Round | None
    ) -> Round:
        by_date = self.by_date.get((cycle.pk, due))
        if by_date is None:
            raise ValidationError(
                {
                    "due_date": f"No round of {group.name} cycle {cycle.number} "
                    f"falls due on {due:%d/%m/%Y}."
                }
            )
        if found is not None and by_date != found:
            raise ValidationError(
                {
                    "due_date": f"Round {found.number} of {group.name} falls due on "
                    f"{found.due_date:%d/%m/%Y}, not {due:%d/%m/%Y}."
                }
            )
        return by_date
