"""Build import files in memory and run them the way the admin does."""

import csv
import io

import openpyxl

from thrift.spreadsheets import CSVFile, XLSXFile


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read(data: bytes, file_name: str = "file.csv"):
    fmt = XLSXFile() if file_name.endswith(".xlsx") else CSVFile()
    return fmt.create_dataset(data)


def run_import(resource_class, data, *, user, file_name="file.csv", dry_run=False):
    """Preview (dry_run) or confirm an import of `data` (bytes or rows)."""
    if isinstance(data, list):
        data = xlsx_bytes(data) if file_name.endswith(".xlsx") else csv_bytes(data)
    dataset = read(data, file_name)
    return resource_class(user=user).import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        file_name=file_name,
        user=user,
    )
