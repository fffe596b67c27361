"""Refusals raised by `thrift.services`. Each message names the record and
the reason in words a treasurer understands."""


class ThriftError(Exception):
    """A rule of the product refused an operation; nothing was written."""


class CycleStillOpen(ThriftError):
    pass


class NoPlaces(ThriftError):
    pass


class InvalidPositions(ThriftError):
    pass


class CycleNotOpen(ThriftError):
    pass


class Overpayment(ThriftError):
    pass


class InvalidPayment(ThriftError):
    pass


class ContributionWaived(ThriftError):
    pass


class PayoutExists(ThriftError):
    pass


class AlreadyCollected(ThriftError):
    pass


class OutstandingContributions(ThriftError):
    pass


class RoundCancelled(ThriftError):
    pass


class SwapRefused(ThriftError):
    pass


class LeaveRefused(ThriftError):
    pass


class CycleNotFinished(ThriftError):
    pass


class JoinRefused(ThriftError):
    pass


class NotAllowed(ThriftError):
    """The acting user may not touch this group."""
