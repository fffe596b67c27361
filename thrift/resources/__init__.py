"""Spreadsheet columns of groups, places, contributions and payouts.

Each resource maps columns to records and converts values with
`thrift.parsing`; records are found by natural keys (a group by name, a
member by phone, email or username, a round by number or due date), never
by database ids. Rows that move money are saved through `thrift.services`.
A file with any error writes nothing (the admin and `import_file` roll the
whole file back); importing the same file again changes nothing.

    widgets        one kind of cell value each
    finders        the groups, members and rounds a file names, loaded once
    base           what every import file shares: headers, errors, logging
    groups, memberships, contributions, payouts   one resource each
"""

from .base import NotedRowResult, SpreadsheetResource, read_cells, refusal
from .contributions import ContributionResource
from .finders import GroupFinder, MemberFinder, RoundFinder, column_values
from .groups import StaffWidget, ThriftGroupResource
from .memberships import MembershipResource
from .payouts import PayoutResource
from .widgets import (
    NUMBER_WIDGETS,
    AmountWidget,
    ChoiceWidget,
    DateWidget,
    PhoneWidget,
    TextWidget,
    WholeNumberWidget,
    YesNoWidget,
    local_phone,
    read_text,
)

__all__ = [
    "NUMBER_WIDGETS",
    "AmountWidget",
    "ChoiceWidget",
    "ContributionResource",
    "DateWidget",
    "GroupFinder",
    "MemberFinder",
    "MembershipResource",
    "NotedRowResult",
    "PayoutResource",
    "PhoneWidget",
    "RoundFinder",
    "SpreadsheetResource",
    "StaffWidget",
    "TextWidget",
    "ThriftGroupResource",
    "WholeNumberWidget",
    "YesNoWidget",
    "column_values",
    "local_phone",
    "read_cells",
    "read_text",
    "refusal",
]
