"""The audit log page in the admin, and its CSV and XLSX exports."""

import csv
import io
import logging

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from openpyxl import Workbook

from accounts.roles import is_coordinator, sees_everything
from thrift.cells import escape_formula

from . import audit
from .audit_filters import AuditLogFilter

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
EXPORT_BATCH = 500
EXPORT_HEADER = [
    "When (Africa/Lagos)",
    "Record type",
    "Record",
    "Record id",
    "Change",
    "Changed fields",
    "Changed by",
    "Route",
    "Group",
    "History id",
]


def can_view_audit_log(user) -> bool:
    return (
        user.is_active
        and user.is_staff
        and (sees_everything(user) or is_coordinator(user))
    )


def filtered_log(request, filterset: AuditLogFilter):
    """The whole filtered log, newest first (`audit.Log`)."""
    if not filterset.is_valid():
        return audit.Log([])
    parts = [
        filterset.filter_queryset(audit.log_part(a, request.user))
        for a in audit.AUDITED
    ]
    return audit.Log(parts)


def audit_log(request):
    if not can_view_audit_log(request.user):
        raise PermissionDenied
    filterset = AuditLogFilter(request.GET, request=request)
    log = filtered_log(request, filterset)

    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return export_log(request, log, export)

    page = Paginator(log, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    context = {
        **admin.site.each_context(request),
        "title": "Audit log",
        "filter": filterset,
        "page_obj": page,
        "count_is_estimate": log.is_estimate,
        "entries": audit.entries(list(page.object_list)),
        "query": query.urlencode(),
        "page_range": page.paginator.get_elided_page_range(page.number),
    }
    return TemplateResponse(request, "reports/audit_log.html", context)


def safe_cell(value) -> str | int:
    """`value` as text a spreadsheet shows rather than runs."""
    if isinstance(value, int):
        return value
    return escape_formula("" if value is None else str(value))


def export_rows(log):
    """Every row of `log` as export cells, described a batch at a time."""
    yield EXPORT_HEADER
    start = 0
    while True:
        batch = list(log[start : start + EXPORT_BATCH])
        if not batch:
            return
        for e in audit.entries(batch):
            yield [
                safe_cell(v)
                for v in (
                    timezone.localtime(e.date).strftime("%Y-%m-%d %H:%M:%S"),
                    e.audited.name,
                    e.label,
                    e.record_id,
                    e.change,
                    e.changes_text(),
                    e.user.display_name if e.user else "",
                    e.route,
                    e.group.name if e.group else "",
                    e.history_id,
                )
            ]
        start += EXPORT_BATCH


def export_log(request, log, fmt: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"audit-log-{stamp}.{fmt}"
    rows = export_rows(log)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        count = -1
        for row in rows:
            writer.writerow(row)
            count += 1
        response = HttpResponse(
            out.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
        )
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Audit log")
        count = -1
        for row in rows:
            sheet.append(row)
            count += 1
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type=(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            ),
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    logger.info("audit_export format=%s rows=%s by=%s", fmt, count, request.user.pk)
    return response
