"""Helpers for the money-rule tests: what a group's records look like, to
assert that a refusal changed nothing, and who the history names."""

from thrift.models import (
    Contribution,
    Cycle,
    Membership,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
)

ROUTE = "test: money rules"


def state_of(group: ThriftGroup) -> dict:
    """Every money row of `group` and every history row, as plain values."""
    return {
        "group": ThriftGroup.objects.filter(pk=group.pk).values_list("status").get(),
        "places": list(
            Membership.objects.filter(group=group)
            .order_by("pk")
            .values_list("pk", "position", "left_at")
        ),
        "cycles": list(
            Cycle.objects.filter(group=group)
            .order_by("pk")
            .values_list("pk", "number", "status", "draw_seed")
        ),
        "rounds": list(
            Round.objects.filter(group=group)
            .order_by("pk")
            .values_list("pk", "number", "recipient", "status", "due_date")
        ),
        "contributions": list(
            Contribution.objects.filter(group=group)
            .order_by("pk")
            .values_list("pk", "status", "amount_paid", "paid_on", "reference")
        ),
        "payouts": list(
            Payout.objects.filter(group=group)
            .order_by("pk")
            .values_list("pk", "round", "amount", "override_reason")
        ),
        "swaps": list(
            PositionSwap.objects.filter(cycle__group=group).values_list("pk")
        ),
        "history": history_counts(),
    }


def history_counts() -> dict[str, int]:
    models = (ThriftGroup, Membership, Cycle, Round, Contribution, Payout)
    counts = {m.__name__: m.history.count() for m in models}
    counts["PositionSwap"] = PositionSwap.history.count()
    return counts


def last_history(obj):
    """The newest history row of `obj`."""
    return obj.history.order_by("-history_date", "-history_id").first()


def contribution(round: Round, place: Membership) -> Contribution:
    return Contribution.objects.get(round=round, membership=place)


def rounds_of(cycle: Cycle) -> list[Round]:
    return list(cycle.rounds.order_by("number"))
