"""Registration exports (CSV or XLSX from Eventbrite, Cvent, HubSpot, a hand-made spreadsheet) as attendees.

Three steps, each usable alone (the CLI's ``matchmaker import`` and the API's CSV/XLSX upload call the same):

1. :func:`read_csv` / :func:`read_xlsx` / :func:`read_table`: bytes to a :class:`Table` (a header and rows of
   strings, each with its spreadsheet row number);
2. :class:`ColumnMapping`: which columns hold each attendee field. :func:`default_mapping` recognises common
   header names (``Attendee #``, ``First Name`` + ``Last Name``, ``Job Title``, ``Company Name``, ``Ticket Type``,
   ``What are you looking for?`` ...); a mapping file (:func:`parse_mapping`) names the others;
3. :func:`attendees_from_rows`: rows to :class:`~models.Attendee` objects, or :class:`RowErrors` naming every bad
   row by number and column (and nothing else: a caller writes nothing when one row is bad).

List fields (goals, offers, interests, connections, blocked) split on ``;`` and on new lines within a cell; several
columns mapped to one field add up (a list field takes every column's items, a text field joins them with spaces).

>>> table = read_csv("Attendee #,First Name,Last Name,Company,Looking for\\n"
...                  "101,Ana,Silva,PayFlow,seed funding; a CTO\\n")
>>> [a.model_dump(include={"id", "name", "company", "goals"}) for a in attendees_from_rows(table)]
[{'id': '101', 'name': 'Ana Silva', 'company': 'PayFlow', 'goals': ['seed funding', 'a CTO']}]
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from models.attendee import Attendee
from models.errors import InvalidInput, from_pydantic

#: Attendee fields a column can fill.
FIELDS = ("id", "name", "title", "company", "role", "bio", "interests", "goals", "offers", "connections",
          "blocked", "opt_out")
LIST_FIELDS = frozenset({"interests", "goals", "offers", "connections", "blocked"})
#: Extra sources :func:`default_mapping` combines: the id falls back to the e-mail, the name to first + last.
HELPER_FIELDS = ("email", "first_name", "last_name")

#: Header names recognised without a mapping file, compared after :func:`normalize_header`. From the exports of
#: Eventbrite (``Attendee #``, ``Ticket Type``, ``Job Title``), Cvent (``Confirmation Number``, ``Registration
#: Type``, ``Email Address``), HubSpot (``Record ID``, ``Company Name``) and hand-made sheets.
DEFAULT_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "attendee id", "attendee #", "attendee no", "attendee number", "registration id",
           "registration #", "confirmation number", "confirmation #", "confirmation code", "record id",
           "contact id", "ticket id", "ticket #", "badge id", "participant id"),
    "email": ("email", "e-mail", "email address", "e-mail address", "attendee email", "work email"),
    "name": ("name", "full name", "attendee name", "attendee full name", "participant name", "contact name"),
    "first_name": ("first name", "firstname", "given name", "first", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name", "last"),
    "title": ("title", "job title", "jobtitle", "position", "job position", "job function"),
    "company": ("company", "company name", "organization", "organisation", "organization name",
                "organisation name", "employer", "company / organization", "company/organization", "affiliation"),
    "role": ("role", "attendee type", "registration type", "ticket type", "ticket", "participant type",
             "persona", "i am a", "i am"),
    "bio": ("bio", "biography", "about", "about me", "about you", "short bio", "profile", "description"),
    "interests": ("interests", "interest", "topics", "topics of interest", "areas of interest", "interested in",
                  "tags"),
    "goals": ("goals", "goal", "looking for", "i am looking for", "i'm looking for", "what are you looking for",
              "what are you looking for at the event", "who do you want to meet", "who would you like to meet",
              "i want to meet", "networking goals", "seeking", "needs"),
    "offers": ("offers", "offer", "can offer", "i can offer", "what can you offer", "i can help with",
               "can help with", "how can you help others", "expertise", "skills"),
    "connections": ("connections", "already know"),
    "blocked": ("blocked", "do not match with", "do not match"),
    "opt_out": ("opt out", "opt-out", "opt_out", "no matchmaking", "exclude from matchmaking"),
}

_TRUE = {"yes", "y", "true", "t", "1", "x", "opt out", "opted out"}
_FALSE = {"", "no", "n", "false", "f", "0"}


def normalize_header(text: str) -> str:
    """Lower case, one space between words, no trailing ``?``, ``:`` or ``*``, ``_`` read as a space.

    >>> normalize_header("  What are you LOOKING_for? * ")
    'what are you looking for'
    """
    t = " ".join(str(text).replace("_", " ").split()).lower()
    return t.rstrip("?:* ").strip()


# ------------------------------------------------------------------------------------------------ tables
@dataclass
class Table:
    """A sheet: ``header`` (its row number ``header_row``) and ``rows``, each ``(row number, cells)``."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    header_row: int = 1


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, _dt.datetime | _dt.date | _dt.time):
        return v.isoformat()
    return str(v)


def _find_header(rows: list[tuple[int, list[str]]], names: Iterable[str] = ()) -> int:
    """Index of the header row: the first of the first ten rows naming a known or mapped column (exports such
    as Cvent's put a report title above the header), else the first non-empty row."""
    known = {normalize_header(h) for hs in DEFAULT_HEADERS.values() for h in hs} | {normalize_header(n) for n in names}
    first = None
    for i, (_, cells) in enumerate(rows[:10]):
        if not any(c.strip() for c in cells):
            continue
        first = i if first is None else first
        if sum(normalize_header(c) in known for c in cells) >= 1 and sum(bool(c.strip()) for c in cells) >= 2:
            return i
    return 0 if first is None else first


def _table(raw: list[tuple[int, list[str]]], names: Iterable[str] = ()) -> Table:
    if not raw:
        raise InvalidInput([{"field": "file", "message": "the file is empty (no header row)"}])
    h = _find_header(raw, names)
    header_row, header = raw[h]
    header = [c.strip() for c in header]
    while header and not header[-1]:
        header.pop()
    if not any(header):
        raise InvalidInput([{"field": "file", "message": "no header row"}])
    rows = [(n, [c for c in cells]) for n, cells in raw[h + 1:]]
    return Table(header, rows, header_row)


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(data: bytes | str, *, names: Iterable[str] = ()) -> Table:
    """A CSV export as a :class:`Table`. Bytes are read as UTF-8 (with or without the BOM Excel writes), else
    as Windows-1252; the delimiter (``,``, ``;`` or tab) is the one the header line uses most. A cell may hold
    new lines (quoted); row numbers are spreadsheet rows (the header is row 1). ``names``: mapped column names,
    to find the header below title rows.

    >>> t = read_csv(b"\\xef\\xbb\\xbfName;Company\\nAna;PayFlow\\n")
    >>> t.header, t.rows
    (['Name', 'Company'], [(2, ['Ana', 'PayFlow'])])
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    else:
        text = data.lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    except csv.Error as exc:
        raise InvalidInput([{"field": "file", "message": f"not a readable CSV file: {exc}"}]) from None
    return _table([(i, rec) for i, rec in enumerate(records, 1)], names)


def read_xlsx(data: bytes, *, sheet: str | None = None, names: Iterable[str] = ()) -> Table:
    """An Excel workbook (``.xlsx``) as a :class:`Table`: the named ``sheet`` or the first. Numbers that are whole
    read without ``.0``; dates in ISO form; TRUE/FALSE as yes/no."""
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise InvalidInput([{"field": "file", "message": "reading .xlsx needs the 'openpyxl' package"}]) from exc
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...: all mean "not a workbook"
        raise InvalidInput([{"field": "file", "message": f"not a readable .xlsx workbook ({type(exc).__name__})"}]) \
            from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InvalidInput([{"field": "sheet", "message": f"no sheet {sheet!r}; the workbook has "
                                                              f"{', '.join(map(repr, wb.sheetnames))}"}])
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        raw = [(i, [_cell(v) for v in row]) for i, row in enumerate(ws.iter_rows(values_only=True), 1)]
    finally:
        wb.close()
    return _table(raw, names)


def read_table(path: str | Path, *, sheet: str | None = None, names: Iterable[str] = ()) -> Table:
    """A ``.csv`` (or ``.txt``/``.tsv``) or ``.xlsx`` file as a :class:`Table`, chosen by its suffix."""
    p = Path(path)
    data = p.read_bytes()
    if p.suffix.lower() in {".xlsx", ".xlsm"}:
        return read_xlsx(data, sheet=sheet, names=names)
    if p.suffix.lower() == ".xls":
        raise InvalidInput([{"field": "file", "message": "old .xls workbooks are not read; save it as .xlsx or .csv"}])
    return read_csv(data, names=names)


# ----------------------------------------------------------------------------------------------- mapping
@dataclass
class ColumnMapping:
    """For each field (of :data:`FIELDS`, plus ``email``, ``first_name``, ``last_name``), the header names of the
    columns that fill it; ``separators``: what splits a list cell (besides new lines); ``metadata``: columns kept
    as given under the attendee's ``metadata`` (never used for matching)."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    separators: str = ";"
    metadata: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        return [c for cols in self.columns.values() for c in cols] + list(self.metadata)


def parse_mapping(data: Mapping[str, Any]) -> ColumnMapping:
    """A mapping from its JSON form: ``{"columns": {"goals": "What brings you here?", "name": ["First", "Last"]},
    "separators": ";|", "metadata": ["Email"]}``. Raises :class:`~models.InvalidInput` naming the bad key.

    >>> parse_mapping({"columns": {"goals": "Why are you here"}}).columns
    {'goals': ['Why are you here']}
    >>> parse_mapping({"columns": {"hobby": "x"}})
    Traceback (most recent call last):
    ...
    models.errors.InvalidInput: columns.hobby: unknown field; map columns to id, name, title, company, role, bio, interests, goals, offers, connections, blocked, opt_out, email, first_name, last_name
    """
    if not isinstance(data, Mapping):
        raise InvalidInput([{"field": "", "message": "a mapping file holds a JSON object with 'columns'"}])
    errors = []
    unknown = sorted(set(data) - {"columns", "separators", "metadata"})
    errors += [{"field": k, "message": "unknown key (expected columns, separators, metadata)"} for k in unknown]
    columns: dict[str, list[str]] = {}
    raw = data.get("columns", {})
    if not isinstance(raw, Mapping):
        errors.append({"field": "columns", "message": "expected an object: field -> column name(s)"})
        raw = {}
    for f, cols in raw.items():
        if f not in FIELDS and f not in HELPER_FIELDS:
            errors.append({"field": f"columns.{f}", "message": "unknown field; map columns to "
                                                               + ", ".join(FIELDS + HELPER_FIELDS)})
            continue
        cols = [cols] if isinstance(cols, str) else cols
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) and c.strip() for c in cols):
            errors.append({"field": f"columns.{f}", "message": "expected a column name or a list of them"})
            continue
        columns[f] = [c.strip() for c in cols]
    seps = data.get("separators", ";")
    if not isinstance(seps, str):
        errors.append({"field": "separators", "message": "expected a string of separator characters, e.g. \";|\""})
        seps = ";"
    meta = data.get("metadata", [])
    if not isinstance(meta, list) or not all(isinstance(c, str) for c in meta):
        errors.append({"field": "metadata", "message": "expected a list of column names"})
        meta = []
    if errors:
        raise InvalidInput(errors)
    return ColumnMapping(columns, seps, list(meta))


def load_mapping(path: str | Path) -> ColumnMapping:
    """A mapping file (JSON, see :func:`parse_mapping`)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput([{"field": "", "message": f"not valid JSON: {exc.msg} at line {exc.lineno}"}]) from None
    except UnicodeDecodeError:
        raise InvalidInput([{"field": "", "message": "not UTF-8 text"}]) from None
    return parse_mapping(data)


def default_mapping(header: Sequence[str], given: ColumnMapping | None = None) -> ColumnMapping:
    """``given`` completed from :data:`DEFAULT_HEADERS`: each field it does not map takes the first column whose
    normalised header is one of that field's known names; a column already mapped is not taken twice.

    >>> default_mapping(["Attendee #", "First Name", "Last Name", "Job Title", "Ticket Type"]).columns
    {'id': ['Attendee #'], 'first_name': ['First Name'], 'last_name': ['Last Name'], 'title': ['Job Title'], 'role': ['Ticket Type']}
    """
    given = given or ColumnMapping()
    columns = {f: list(c) for f, c in given.columns.items()}
    used = {normalize_header(c) for cols in columns.values() for c in cols}
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(normalize_header(h), h)
    for f, names in DEFAULT_HEADERS.items():
        if f in columns:
            continue
        for n in names:
            h = by_norm.get(normalize_header(n))
            if h is not None and normalize_header(h) not in used:
                columns[f] = [h]
                used.add(normalize_header(h))
                break
    return ColumnMapping(columns, given.separators, list(given.metadata))


# ------------------------------------------------------------------------------------------------- rows
@dataclass
class RowError:
    """One problem: the spreadsheet ``row`` (0 for the header or the mapping), the ``column`` header name(s),
    the attendee ``field`` and the ``message``."""

    row: int
    column: str
    field: str
    message: str

    def where(self) -> str:
        at = f"row {self.row}" if self.row else "header"
        return f"{at}, column {self.column!r}" + (f" ({self.field})" if self.field else "") if self.column else at


class RowErrors(InvalidInput):
    """Every bad row of an import (``rows``: :class:`RowError`), as :class:`~models.InvalidInput` with one
    ``{"field": "row 3, column 'Looking for' (goals)", "message": ...}`` per problem."""

    def __init__(self, rows: list[RowError]):
        self.rows = rows
        super().__init__([{"field": r.where(), "message": r.message} for r in rows])


def _split(cell: str, separators: str) -> list[str]:
    parts = re.split("[\n" + re.escape(separators) + "]", cell) if separators else cell.split("\n")
    return [p.strip() for p in parts if p.strip()]


def _bool(cell: str) -> bool | None:
    v = normalize_header(cell)
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


def attendees_from_rows(table: Table, mapping: ColumnMapping | None = None) -> list[Attendee]:
    """The attendees of ``table`` under ``mapping`` (completed by :func:`default_mapping`). Empty rows are
    skipped. Raises :class:`RowErrors` with every problem: a mapped column missing from the header, no id column
    (neither an id nor an e-mail), and per row an empty id, a repeated id, a value the attendee model refuses.

    >>> t = read_csv("id,goals,opt out\\na,x,no\\nb,y,maybe\\na,z,\\n")
    >>> attendees_from_rows(t)
    Traceback (most recent call last):
    ...
    models.registrations.RowErrors: row 3, column 'opt out' (opt_out): expected yes or no, got 'maybe'; row 4, column 'id' (id): id 'a' repeats row 2
    """
    m = default_mapping(table.header, mapping)
    where = {normalize_header(h): i for i, h in reversed(list(enumerate(table.header)))}
    errors: list[RowError] = []
    for f, cols in m.columns.items():
        for c in cols:
            if normalize_header(c) not in where:
                errors.append(RowError(0, c, f, f"mapped column not in the header (columns: "
                                                f"{', '.join(repr(h) for h in table.header if h)})"))
    for c in m.metadata:
        if normalize_header(c) not in where:
            errors.append(RowError(0, c, "metadata", "metadata column not in the header"))
    id_field = "id" if "id" in m.columns else "email" if "email" in m.columns else None
    if id_field is None:
        errors.append(RowError(0, "", "id", "no id column: add an 'id' (or 'Attendee #', 'Email') column, or map "
                                            "one in a mapping file ({\"columns\": {\"id\": \"...\"}})"))
    if errors:
        raise RowErrors(errors)
    assert id_field is not None
    idx = {f: [where[normalize_header(c)] for c in cols] for f, cols in m.columns.items()}
    name_of = {f: ", ".join(cols) for f, cols in m.columns.items()}

    def cells(f: str, row: list[str]) -> list[str]:
        return [row[i].strip() if i < len(row) else "" for i in idx.get(f, [])]

    out: list[Attendee] = []
    seen: dict[str, int] = {}
    for n, row in table.rows:
        if not any(str(c).strip() for c in row):
            continue
        bad: list[RowError] = []
        doc: dict[str, Any] = {}
        for f in FIELDS:
            if f not in idx:
                continue
            vals = cells(f, row)
            if f in LIST_FIELDS:
                doc[f] = [x for v in vals for x in _split(v, m.separators)]
            elif f == "opt_out":
                b = [_bool(v) for v in vals]
                if None in b:
                    bad.append(RowError(n, name_of[f], f, f"expected yes or no, got {vals[b.index(None)]!r}"))
                else:
                    doc[f] = any(b)
            else:
                doc[f] = " ".join(v for v in vals if v)
        if "name" not in idx and ("first_name" in idx or "last_name" in idx):
            doc["name"] = " ".join(v for f in ("first_name", "last_name") for v in cells(f, row) if v)
        aid = " ".join(v for v in cells(id_field, row) if v)
        if id_field == "email":
            aid = aid.lower()
        if not aid:
            bad.append(RowError(n, name_of[id_field], "id", "empty; every attendee needs an id"))
        elif aid in seen:
            bad.append(RowError(n, name_of[id_field], "id", f"id {aid!r} repeats row {seen[aid]}"))
        else:
            seen[aid] = n
        doc["id"] = aid or "?"
        if m.metadata:
            doc["metadata"] = {c: row[where[normalize_header(c)]].strip() if where[normalize_header(c)] < len(row)
                               else "" for c in m.metadata}
        try:
            a = Attendee.model_validate(doc)
        except ValidationError as exc:
            for e in from_pydantic(exc).errors:
                f = re.split(r"[.\[]", e["field"], maxsplit=1)[0]
                col = name_of.get(id_field if f == "id" else f, "")
                if f == "name" and "name" not in name_of:
                    col = ", ".join(m.columns.get("first_name", []) + m.columns.get("last_name", []))
                if f == "id" and not aid:
                    continue  # already said: empty
                bad.append(RowError(n, col, f, e["message"]))
            a = None
        errors += bad
        if a is not None and not bad:
            out.append(a)
    if errors:
        raise RowErrors(errors)
    if not out:
        raise RowErrors([RowError(0, "", "", "no attendee rows below the header")])
    return out
