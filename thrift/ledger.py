"""Checks that the money records keep the invariants of the domain.

Read-only: each check is one or two aggregate queries and returns
sentences a treasurer can act on. The property tests run it after every
step; a ledger-check command can run it against the live database.
"""

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery

from .models import CollectionMonth, Contribution, Cycle, Payout, Round
from .money import to_money


def find_violations() -> list[str]:
    """Return one line per broken invariant; an empty list means all hold."""
    problems: list[str] = []
    for check in (
        _one_contribution_per_place_per_round,
        _contribution_amounts,
        _payouts,
        _rounds_of_open_cycles,
        _one_open_cycle_per_group,
        _collection_months,
    ):
        problems.extend(check())
    return problems


def _one_contribution_per_place_per_round() -> list[str]:
    problems = []
    doubles = (
        Contribution.objects.order_by()
        .values("round", "membership")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in doubles:
        problems.append(
            f"round {row['round']}: place {row['membership']} has {row['n']} "
            "contributions."
        )

    # The places of a cycle are the recipients of its rounds; every round
    # owes one share from each of them, and from no one else.
    rounds = (
        Round.objects.order_by()
        .annotate(
            places=Subquery(
                Round.objects.filter(cycle=OuterRef("cycle"))
                .order_by()
                .values("cycle")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            shares=Count("contributions"),
        )
        .exclude(shares=F("places"))
        .values_list("pk", "places", "shares")
    )
    for pk, places, shares in rounds:
        problems.append(
            f"round {pk}: {shares} contributions for {places} places in its cycle."
        )

    strangers = Contribution.objects.exclude(
        membership__in=Round.objects.filter(
            cycle=OuterRef("round__cycle"), recipient__isnull=False
        ).values("recipient")
    ).values_list("pk", "round", "membership")
    for pk, round_pk, place in strangers:
        problems.append(
            f"contribution {pk}: place {place} owes in round {round_pk} but has "
            "no round of that cycle."
        )
    return problems


def _contribution_amounts() -> list[str]:
    problems = []
    rows = Contribution.objects.filter(
        Q(amount_paid__gt=F("amount_due")) | Q(amount_paid__lt=0)
    ).values_list("pk", "amount_paid", "amount_due")
    for pk, paid, due in rows:
        problems.append(f"contribution {pk}: paid {paid} of {due} due.")

    paid_but_short = Contribution.objects.filter(
        status=Contribution.Status.PAID
    ).exclude(amount_paid=F("amount_due"))
    for pk in paid_but_short.values_list("pk", flat=True):
        problems.append(f"contribution {pk}: marked paid but not paid in full.")

    full_but_pending = Contribution.objects.filter(
        status=Contribution.Status.PENDING, amount_paid=F("amount_due")
    )
    for pk in full_but_pending.values_list("pk", flat=True):
        problems.append(f"contribution {pk}: paid in full but still pending.")
    return problems


def _payouts() -> list[str]:
    problems = []
    per_round = (
        Payout.objects.order_by()
        .values("round")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in per_round:
        problems.append(f"round {row['round']}: {row['n']} payouts.")
    per_place = (
        Payout.objects.order_by()
        .values("cycle", "membership")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in per_place:
        problems.append(
            f"cycle {row['cycle']}: place {row['membership']} collected "
            f"{row['n']} times."
        )

    wrong_amount = Payout.objects.exclude(amount=F("pot") - F("fee"))
    for pk in wrong_amount.values_list("pk", flat=True):
        problems.append(f"payout {pk}: amount is not the pot less the fee.")

    misfiled = Payout.objects.exclude(
        membership=F("round__recipient"), cycle=F("round__cycle")
    )
    for pk in misfiled.values_list("pk", flat=True):
        problems.append(f"payout {pk}: not to its round's recipient in its cycle.")

    unpaid_marked_paid = Round.objects.filter(
        status=Round.Status.PAID_OUT, payout__isnull=True
    )
    for pk in unpaid_marked_paid.values_list("pk", flat=True):
        problems.append(f"round {pk}: marked paid out but has no payout.")
    paid_not_marked = Round.objects.filter(payout__isnull=False).exclude(
        status=Round.Status.PAID_OUT
    )
    for pk in paid_not_marked.values_list("pk", flat=True):
        problems.append(f"round {pk}: has a payout but is not marked paid out.")
    return problems


def _rounds_of_open_cycles() -> list[str]:
    problems = []
    cycles = (
        Cycle.objects.filter(status=Cycle.Status.OPEN)
        .order_by()
        .annotate(
            n=Count("rounds"),
            first=Min("rounds__number"),
            last=Max("rounds__number"),
            recipients=Count("rounds__recipient", distinct=True),
        )
        .values_list("pk", "n", "first", "last", "recipients")
    )
    for pk, n, first, last, recipients in cycles:
        if n == 0 or first != 1 or last != n:
            problems.append(f"cycle {pk}: rounds are not numbered 1 to {n}.")
        if recipients != n:
            problems.append(
                f"cycle {pk}: {recipients} distinct recipients for {n} rounds."
            )

    # An active place's position is the number of the round it collects in.
    misplaced = Round.objects.filter(
        cycle__status=Cycle.Status.OPEN, recipient__left_at__isnull=True
    ).exclude(recipient__position=F("number"))
    for pk, place in misplaced.values_list("pk", "recipient"):
        problems.append(f"place {place}: position differs from round {pk}'s number.")
    return problems


def _one_open_cycle_per_group() -> list[str]:
    groups = (
        Cycle.objects.filter(status=Cycle.Status.OPEN)
        .order_by()
        .values("group")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    return [f"group {row['group']}: {row['n']} open cycles." for row in groups]


def _collection_months() -> list[str]:
    """Each group's collections by month, as kept, equal what its
    contributions hold as paid by the month of their payment date."""
    expected = Contribution.objects.paid_by_month()
    kept = {
        (row.group_id, row.month): row.amount
        for row in CollectionMonth.objects.exclude(amount=0)
    }
    problems = []
    for group_id, month in sorted(expected.keys() | kept.keys()):
        want = to_money(expected.get((group_id, month), 0))
        have = to_money(kept.get((group_id, month), 0))
        if want != have:
            problems.append(
                f"group {group_id}: collections for {month:%B %Y} are kept as "
                f"{have} but its contributions hold {want} paid."
            )
    return problems
