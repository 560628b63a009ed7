"""Registration spreadsheets sent to the attendee upsert: ``Content-Type: text/csv`` or an XLSX workbook, as the
body itself or as the ``file`` part of a ``multipart/form-data`` form. Parsed by :mod:`models.registrations` (the
CLI's ``matchmaker import`` uses the same): a column ``mapping`` (the mapping file's JSON) comes as a query
parameter or form field, ``sheet`` names a workbook's sheet. Every bad row is named (422, one detail per problem,
``row N, column 'X' (field)``) and nothing is written then.

>>> kind_of("text/csv; charset=utf-8"), kind_of("application/json"), kind_of(None)
('csv', None, None)
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from models import Attendee, InvalidInput
from models.registrations import (
    ColumnMapping,
    RowErrors,
    attendees_from_rows,
    parse_mapping,
    read_csv,
    read_xlsx,
)
from service.errors import ApiError, input_error

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Content types read as a spreadsheet (everything else goes to the JSON reader, as before).
TYPES = {"text/csv": "csv", "application/csv": "csv", "text/tab-separated-values": "csv", XLSX: "xlsx"}
OLD_EXCEL = {"application/vnd.ms-excel"}


def kind_of(content_type: str | None) -> str | None:
    """``"csv"``, ``"xlsx"`` or None (not a spreadsheet) for a Content-Type header."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return TYPES.get(base)


def _mapping(raw: str | None) -> ColumnMapping | None:
    if raw is None or not raw.strip():
        return None
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON: {exc.msg} at column {exc.colno}"
        raise ApiError(400, f"invalid input: mapping: {msg}", code="validation_error",
                       details=[{"field": "mapping", "message": msg}]) from None
    try:
        return parse_mapping(data)
    except InvalidInput as exc:
        for e in exc.errors:
            e["field"] = "mapping" + ("." + e["field"] if e["field"] else "")
        raise input_error(exc, 400, "validation_error", "invalid input") from None


def spreadsheet_batch() -> list[Attendee] | None:
    """The attendees of a CSV/XLSX request body (or form ``file``); None when the request is not one."""
    if request.mimetype in OLD_EXCEL:
        raise ApiError(415, "old .xls workbooks are not read; save it as .xlsx or .csv")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "a multipart upload needs its spreadsheet in the 'file' field",
                           code="validation_error", details=[{"field": "file", "message": "missing"}])
        name = (upload.filename or "").lower()
        kind = "xlsx" if name.endswith((".xlsx", ".xlsm")) else kind_of(upload.mimetype) or "csv"
        if name.endswith(".xls"):
            raise ApiError(415, "old .xls workbooks are not read; save it as .xlsx or .csv")
        data = upload.read()
        mapping_raw = request.form.get("mapping") or request.args.get("mapping")
        sheet = request.form.get("sheet") or request.args.get("sheet")
    else:
        kind = kind_of(request.content_type)
        if kind is None:
            return None
        data = request.get_data(cache=True)
        mapping_raw = request.args.get("mapping")
        sheet = request.args.get("sheet")
    mapping = _mapping(mapping_raw)
    names = mapping.names() if mapping else ()
    try:
        table = read_xlsx(data, sheet=sheet or None, names=names) if kind == "xlsx" else read_csv(data, names=names)
        return attendees_from_rows(table, mapping)
    except RowErrors as exc:
        raise input_error(exc, 422, "validation_error", "cannot import the spreadsheet") from None
    except InvalidInput as exc:
        raise input_error(exc, 400, "validation_error", "cannot read the spreadsheet") from None
