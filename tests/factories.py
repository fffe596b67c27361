"""Valid objects with the fewest words; a test overrides what it is about."""

import datetime
import itertools
from decimal import Decimal

from accounts.models import User
from thrift import services
from thrift.models import FeeType, Frequency, ThriftGroup

_seq = itertools.count(1)


def make_user(**fields) -> User:
    n = next(_seq)
    defaults = {
        "username": f"member{n}",
        "first_name": "Member",
        "last_name": f"No{n}",
        "phone": f"0803{n:07d}",
        "account_number": f"{n:010d}",
        "bank_name": "GTBank",
        "account_name": f"MEMBER NO{n}",
    }
    defaults.update(fields)
    user = User(**defaults)
    user.set_unusable_password()
    user.save()
    return user


def make_staff(**fields) -> User:
    fields.setdefault("is_staff", True)
    user = make_user(**fields)
    return user


def make_group(coordinator: User | None = None, **fields) -> ThriftGroup:
    n = next(_seq)
    defaults = {
        "name": f"Group {n}",
        "contribution_amount": Decimal("10000.00"),
        "frequency": Frequency.MONTHLY,
        "start_date": datetime.date(2026, 1, 31),
        "coordinator": coordinator or make_staff(),
        "fee_type": FeeType.NONE,
    }
    defaults.update(fields)
    return ThriftGroup.objects.create(**defaults)


def make_places(group: ThriftGroup, count: int, *, by: User | None = None):
    by = by or group.coordinator
    return [
        services.join_group(group, make_user(), by=by, route="test")
        for _ in range(count)
    ]


def running_group(places: int = 3, **fields):
    """A group with `places` members and its first cycle started."""
    group = make_group(**fields)
    members = make_places(group, places)
    cycle = services.start_cycle(group, by=group.coordinator, route="test")
    return group, members, cycle
