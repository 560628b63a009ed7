"""The co-authorship directory format (e.g. ``data/acl2019/``) as an evaluation event.

A directory holds two gzipped (or plain) JSON-lines files:

- ``attendees.jsonl.gz``: ``{"id": str, "name": str, "papers": [{"year": int, "title": str, "abstract": str}]}``,
  papers newest first;
- ``pairs.jsonl.gz``: ``{"a": id, "b": id, "kind": "known" | "relevant"}``: ``known`` pairs already know each
  other (co-authors so far), ``relevant`` pairs are the ground truth (co-authors later).

How papers become a profile (:func:`to_event`): every paper title is one *interest* item (encoded separately, so
two people who wrote on one topic match item to item); the abstracts, newest first, form the *bio* (the lexical
channel reads titles and abstracts; the identity vector reads the start of the bio, i.e. the newest work);
``known`` pairs become *connections* (excluded from lists, feeding the mutual-connections channel). Goals and
offers stay empty: co-authorship data says nothing about intent.

:func:`backtest` moves the data one step back in time (papers before a year; pairs first co-authored before it
are known; pairs first co-authored in it or later are the truth), which gives a tuning set that never looks at
the ``relevant`` pairs.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models import Attendee, Event, EventFile, InvalidInput
from models.attendee import MAX_BIO_CHARS, MAX_ITEM_CHARS, MAX_ITEMS

PAIR_KINDS = ("known", "relevant")
ATTENDEES = "attendees.jsonl"
PAIRS = "pairs.jsonl"


@dataclass
class Paper:
    year: int
    title: str
    abstract: str = ""

    def key(self) -> tuple[int, str]:
        """Identity of a paper across its authors' profiles: year and normalised title."""
        return self.year, " ".join(self.title.lower().split())


@dataclass
class Author:
    id: str
    name: str = ""
    papers: list[Paper] = field(default_factory=list)


@dataclass
class CoauthorData:
    """A co-authorship event: authors with papers, ``known`` and ``relevant`` pairs (as read, in file order)."""

    authors: list[Author]
    known: list[tuple[str, str]]
    relevant: list[tuple[str, str]]
    name: str = "coauthor"


# ------------------------------------------------------------------------------------------------------ reading
def _find(directory: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    raise InvalidInput([{"field": str(directory), "message": f"no {stem}.gz (or {stem}) in this directory; "
                                                             f"a co-authorship directory holds {ATTENDEES}.gz "
                                                             f"and {PAIRS}.gz"}])


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield no, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInput([{"field": f"{path.name}:{no}",
                                         "message": f"not valid JSON: {exc.msg} at column {exc.colno}"}]) from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InvalidInput([{"field": path.name, "message": f"cannot read: {exc}"}]) from None


def _author(no: int, where: str, d: Any) -> Author:
    def bad(message: str) -> InvalidInput:
        return InvalidInput([{"field": f"{where}:{no}", "message": message}])

    if not isinstance(d, dict):
        raise bad(f"expected a JSON object, got {type(d).__name__}")
    if not isinstance(d.get("id"), str) or not d["id"].strip():
        raise bad("'id' must be a non-empty string")
    if not isinstance(d.get("name", ""), str):
        raise bad("'name' must be a string")
    papers = d.get("papers", [])
    if not isinstance(papers, list):
        raise bad(f"'papers' must be a list, got {type(papers).__name__}")
    out = []
    for i, p in enumerate(papers):
        if not isinstance(p, dict):
            raise bad(f"papers[{i}] must be an object")
        year, title, abstract = p.get("year"), p.get("title"), p.get("abstract") or ""
        if not isinstance(year, int) or isinstance(year, bool):
            raise bad(f"papers[{i}].year must be an integer, got {year!r}")
        if not isinstance(title, str):
            raise bad(f"papers[{i}].title must be a string")
        if not isinstance(abstract, str):
            raise bad(f"papers[{i}].abstract must be a string")
        out.append(Paper(year, title, abstract))
    return Author(d["id"].strip(), d.get("name", ""), out)


def read_coauthor_dir(path: str | Path) -> CoauthorData:
    """Read and check a co-authorship directory; raises :class:`~models.InvalidInput` naming file and line.

    >>> data = read_coauthor_dir("tests/data/coauthor_sample")   # doctest: +SKIP
    >>> len(data.authors), len(data.known), len(data.relevant)     # doctest: +SKIP
    (60, 63, 16)
    """
    directory = Path(path)
    if not directory.is_dir():
        raise InvalidInput([{"field": str(directory), "message": "not a directory"}])
    apath, ppath = _find(directory, ATTENDEES), _find(directory, PAIRS)
    authors: list[Author] = []
    seen: dict[str, int] = {}
    for no, d in _lines(apath):
        a = _author(no, apath.name, d)
        if a.id in seen:
            raise InvalidInput([{"field": f"{apath.name}:{no}",
                                 "message": f"duplicate id {a.id!r} (first at line {seen[a.id]})"}])
        seen[a.id] = no
        authors.append(a)
    pairs: dict[str, list[tuple[str, str]]] = {k: [] for k in PAIR_KINDS}
    for no, d in _lines(ppath):
        where = f"{ppath.name}:{no}"
        if not isinstance(d, dict):
            raise InvalidInput([{"field": where, "message": f"expected a JSON object, got {type(d).__name__}"}])
        a, b, kind = d.get("a"), d.get("b"), d.get("kind")
        if kind not in PAIR_KINDS:
            raise InvalidInput([{"field": where, "message": f"'kind' must be one of {', '.join(PAIR_KINDS)}; "
                                                           f"got {kind!r}"}])
        for x in (a, b):
            if x not in seen:
                raise InvalidInput([{"field": where, "message": f"unknown attendee id {x!r} (not in {apath.name})"}])
        if a == b:
            raise InvalidInput([{"field": where, "message": f"a pair needs two different attendees; got {a!r} twice"}])
        pairs[kind].append((a, b))
    if not authors:
        raise InvalidInput([{"field": apath.name, "message": "no attendees"}])
    return CoauthorData(authors, pairs["known"], pairs["relevant"], name=directory.name or "coauthor")


def write_coauthor_dir(data: CoauthorData, path: str | Path) -> None:
    """Write ``data`` in the directory format (gzipped JSON lines) that :func:`read_coauthor_dir` reads."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    with gzip.open(directory / f"{ATTENDEES}.gz", "wt", encoding="utf-8") as fh:
        for a in data.authors:
            papers = [{"year": p.year, "title": p.title, "abstract": p.abstract} for p in a.papers]
            fh.write(json.dumps({"id": a.id, "name": a.name, "papers": papers}, ensure_ascii=False) + "\n")
    with gzip.open(directory / f"{PAIRS}.gz", "wt", encoding="utf-8") as fh:
        for kind in PAIR_KINDS:
            for a, b in getattr(data, kind):
                fh.write(json.dumps({"a": a, "b": b, "kind": kind}) + "\n")


# --------------------------------------------------------------------------------------------------- converting
def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def author_to_attendee(a: Author, connections: list[str]) -> Attendee:
    """One author as an attendee: titles as interests, abstracts (newest first) as bio.

    >>> at = author_to_attendee(Author("p1", "Ada", [Paper(2019, "Parsing with LSTMs", "We parse.")]), ["p2"])
    >>> at.interests, at.bio, at.connections
    (['Parsing with LSTMs'], 'We parse.', ['p2'])
    """
    titles = [_clip(p.title, MAX_ITEM_CHARS) for p in a.papers if p.title.strip()]
    titles = list(dict.fromkeys(titles))[:MAX_ITEMS]
    bio = _clip(" ".join(p.abstract for p in a.papers if p.abstract.strip()), MAX_BIO_CHARS)
    return Attendee(id=a.id, name=a.name[:200], interests=titles, bio=bio, connections=connections)


def to_event(data: CoauthorData, event_id: str | None = None) -> EventFile:
    """The event file: one attendee per author, ``known`` pairs as connections (both ways)."""
    links: dict[str, list[str]] = {a.id: [] for a in data.authors}
    for a, b in data.known:
        links[a].append(b)
        links[b].append(a)
    eid = event_id or "".join(c if c.isalnum() or c in "-_." else "-" for c in data.name) or "coauthor"
    attendees = [author_to_attendee(a, links[a.id]) for a in data.authors]
    return EventFile(event=Event(id=eid, name=f"{data.name} (co-authorship)"), attendees=attendees)


def newest_year(data: CoauthorData) -> int:
    """The latest paper year in the data."""
    years = [p.year for a in data.authors for p in a.papers]
    if not years:
        raise InvalidInput([{"field": "papers", "message": "no papers: a backtest needs paper years"}])
    return max(years)


def backtest(data: CoauthorData, year: int | None = None) -> CoauthorData:
    """The data as it looked before ``year`` (default: the newest year), with the future as its truth.

    Profiles keep papers older than ``year``. A ``known`` pair's first joint paper (same year and title in
    both profiles) dates it: before ``year`` (or undated: older than the profiles reach) it stays known; in
    ``year`` or later it becomes a truth pair. The ``relevant`` pairs are dropped unseen, so tuning on the
    result never looks at them.

    >>> d = CoauthorData([Author("a", papers=[Paper(2019, "T"), Paper(2017, "U")]),
    ...                   Author("b", papers=[Paper(2019, "T")]), Author("c", papers=[Paper(2017, "U")])],
    ...                  known=[("a", "b"), ("a", "c")], relevant=[("b", "c")])
    >>> bt = backtest(d)
    >>> bt.known, bt.relevant, [len(a.papers) for a in bt.authors]
    ([('a', 'c')], [('a', 'b')], [1, 0, 1])
    """
    year = newest_year(data) if year is None else int(year)
    keys = {a.id: {p.key() for p in a.papers} for a in data.authors}
    known, future = [], []
    for a, b in data.known:
        shared = keys[a] & keys[b]
        first = min((k[0] for k in shared), default=None)
        (future if first is not None and first >= year else known).append((a, b))
    authors = [Author(a.id, a.name, [p for p in a.papers if p.year < year]) for a in data.authors]
    return CoauthorData(authors, known, future, name=f"{data.name}-before-{year}")
