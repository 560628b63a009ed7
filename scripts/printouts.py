"""Printouts an organizer puts on a wall or hands out: seating charts (one page per round, then a "find your
table" index that tells namesakes apart), table tents, and "people you should meet" cards. Jinja2 templates in
``scripts/templates/`` with print CSS (``@page`` at A4 or Letter); :func:`html_to_pdf` prints one with headless
Chromium where it is installed.

Type sizes are computed to fill the page: a round's tables take one page at the largest size that fits, never
below :data:`MIN_CHART_PT` (a round too big for that spills onto a second page, labelled "1 of 2").
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: Paper sizes (portrait, mm) and their CSS names.
PAPERS = {"a4": ("A4", 210.0, 297.0), "letter": ("letter", 215.9, 279.4)}
MARGIN_MM = 10.0
#: Smallest type of a seating chart's table boxes (240 people on one A4 page print at 7.7 pt; 100 at 11.8).
#: The index prints at INDEX_PT, cards at 8 pt or more.
MIN_CHART_PT = 7.0
MAX_CHART_PT = 20.0
INDEX_PT = 11.0
CARD_MIN_PT = 8.0
#: Cards per sheet -> layout (columns, rows, body size in pt, longest reason in characters).
CARD_LAYOUTS = {1: (1, 1, 16.0, 400), 2: (1, 2, 12.0, 220), 4: (2, 2, 9.0, 130)}
_HEAD_MM, _GAP_MM = 13.0, 2.5
_CHAR_EM = 0.56  # average width of a character, in em, of the sans fonts printed with


@dataclass(frozen=True)
class Paper:
    css: str
    width: float  # printable area, mm
    height: float
    margin: float = MARGIN_MM


def paper(name: str) -> Paper:
    """The printable area of ``a4`` or ``letter`` (portrait, 10 mm margins).

    >>> paper("letter").width
    195.9
    """
    css, w, h = PAPERS[name]
    return Paper(css, round(w - 2 * MARGIN_MM, 2), round(h - 2 * MARGIN_MM, 2))


def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


# ---------------------------------------------------------------------------------------------- namesakes
def labels(people: dict, *, short: bool = False) -> dict[str, tuple[str, str]]:
    """``id -> (name, company)`` where the company (or, for one name at one company, the id) is filled only for
    namesakes: people whose name another attendee also has (two of one name at one company also get their id
    after the name). ``short``: only as many leading words of the
    company as tell that name's namesakes apart (a box on a wall chart is narrow; the index prints it whole).

    >>> from models import Attendee
    >>> people = {a.id: a for a in [Attendee(id="a", name="Ana Silva", company="Blue Harbor Labs"),
    ...                             Attendee(id="b", name="Ana Silva", company="Blue Sky Foods"), Attendee(id="c", name="Bo")]}
    >>> labels(people)
    {'a': ('Ana Silva', 'Blue Harbor Labs'), 'b': ('Ana Silva', 'Blue Sky Foods'), 'c': ('Bo', '')}
    >>> labels(people, short=True)["a"]
    ('Ana Silva', 'Blue Harbor')
    """
    name = {aid: (a.name or aid).strip() for aid, a in people.items()}
    groups: dict[str, list[str]] = {}
    for aid, n in name.items():
        groups.setdefault(n.lower(), []).append(aid)
    out = {}
    for ids in groups.values():
        if len(ids) == 1:
            out[ids[0]] = (name[ids[0]], "")
            continue
        company = {aid: " ".join(people[aid].company.split()) for aid in ids}
        same = Counter(c.lower() for c in company.values())
        words = max(len(c.split()) for c in company.values())
        if short:
            for w in range(1, words + 1):  # the fewest leading words that keep distinct companies distinct
                cut = {aid: " ".join(c.split()[:w]) for aid, c in company.items()}
                if len({v.lower() for v in cut.values()}) == len(same):
                    company = cut
                    break
        for aid in ids:
            shared = same[" ".join(people[aid].company.split()).lower()] > 1  # same name, same company: the id
            out[aid] = (f"{name[aid]} ({aid})" if shared else name[aid], company[aid])
    return out


def _index_label(aid: str, people: dict, lab: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """The index shows everyone's whole company (namesakes differ by it; by the id where even that is shared)."""
    a = people.get(aid)
    return lab.get(aid, (aid, ""))[0], " ".join(a.company.split()) if a is not None else ""


# ------------------------------------------------------------------------------------------------ seating
def fit_grid(n_boxes: int, lines: int, chars: int, width: float, height: float) -> tuple[int, float, float]:
    """``(columns, type size in pt, box height in mm)`` that prints ``n_boxes`` boxes of a title and ``lines``
    lines of up to ``chars`` characters as large as they fit in ``width`` x ``height`` mm.

    >>> cols, pt, _ = fit_grid(30, 8, 16, 190, 262.5)   # 30 tables of 8 on A4: 5 columns of 6
    >>> cols, round(pt, 1)
    (5, 9.7)
    """
    best = (1, 0.0, height)
    for cols in range(1, max(1, min(n_boxes, 12)) + 1):
        rows = math.ceil(n_boxes / cols)
        bw = (width - (cols - 1) * _GAP_MM) / cols
        bh = (height - (rows - 1) * _GAP_MM) / rows
        f_h = (bh - 3.5) / (1.6 + 1.2 * lines)   # padding + border, the title (1.15 em + rule), the lines (1.2 em)
        f_w = (bw - 4.2) / (_CHAR_EM * max(chars, 8))
        pt = min(f_h, f_w) * 72 / 25.4
        if pt > best[1]:
            best = (cols, pt, bh)
    cols, pt, bh = best
    return cols, min(pt, MAX_CHART_PT), bh


def seating_html(plan, people: dict, title: str = "", paper_name: str = "a4") -> str:
    """A printable seating chart: each round on one page (tables as boxes, type as large as fits), then a
    "find your table" index of everyone, A-Z, with their company and their table in each round."""
    pp = paper(paper_name)
    lab = labels(people)
    short = labels(people, short=True)

    def person(aid: str) -> dict:
        name, extra = short.get(aid, (aid, ""))
        return {"name": name, "company": extra}

    def text_len(aid: str) -> int:
        name, extra = short.get(aid, (aid, ""))
        return len(name) + (len(extra) + 3 if extra else 0)

    pages = []
    grid_h = pp.height - 1 - _HEAD_MM - _GAP_MM
    for rnd in plan.rounds:
        tables = list(rnd.tables)
        seats = max((len(t.seats) for t in tables), default=1)
        # size for the 90th percentile of label lengths: the longest few end in an ellipsis, not the whole page
        lengths = sorted(text_len(a) for t in tables for a in t.seats) or [8.0]
        chars = math.ceil(lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))])
        parts = 1
        while True:  # the fewest pages that keep the type at MIN_CHART_PT or more
            per = math.ceil(len(tables) / parts) if tables else 0
            cols, pt, bh = fit_grid(max(per, 1), seats, chars, pp.width, grid_h)
            if pt >= MIN_CHART_PT or per <= 1:
                break
            parts += 1
        byes = [lab.get(x, (x, ""))[0] for x in rnd.byes]
        for part in range(parts):
            chunk = tables[part * per:(part + 1) * per]
            pages.append({"round": rnd.round, "part": part + 1, "parts": parts, "cols": cols,
                          "font_pt": round(max(pt, MIN_CHART_PT), 1), "box_h": round(bh, 2),
                          "seated": sum(len(t.seats) for t in tables), "n_tables": len(tables), "byes": byes,
                          "tables": [{"table": t.table, "people": [person(a) for a in t.seats]} for t in chunk]})
    where: dict[str, dict[int, str]] = {}
    for rnd in plan.rounds:
        for t in rnd.tables:
            for aid in t.seats:
                where.setdefault(aid, {})[rnd.round] = str(t.table)
        for aid in rnd.byes:
            where.setdefault(aid, {})[rnd.round] = "bye"
    rounds = [r.round for r in plan.rounds]
    index = []
    for aid in where:
        name, company = _index_label(aid, people, lab)
        index.append({"key": (name.lower(), company.lower(), aid), "name": name, "company": company,
                      "tables": [where[aid].get(r, "–") for r in rounds]})
    index.sort(key=lambda e: e["key"])
    r = plan.report
    summary = (f"{r.attendees} attendees, {r.rounds} round{'s' if r.rounds != 1 else ''}; repeats {r.repeats}; "
               f"affinity {r.ratio:.1%} of the upper bound (a random plan: {r.random_ratio:.1%}).")
    return _env().get_template("seating.html.j2").render(
        title=title, paper=pp, pages=pages, index=index, rounds=rounds, summary=summary, head_mm=_HEAD_MM,
        gap_mm=_GAP_MM, index_pt=INDEX_PT, index_columns=2 if len(rounds) <= 4 else 1)


def tents_html(plan, title: str = "", paper_name: str = "a4") -> str:
    """Table tents: one sheet per table number, folded across the middle, the number large on both faces."""
    pp = paper(paper_name)
    n = max((t.table for rnd in plan.rounds for t in rnd.tables), default=0)
    return _env().get_template("tents.html.j2").render(title=title, paper=pp, tables=list(range(1, n + 1)),
                                                       number_pt=160 if n < 100 else 120)


# -------------------------------------------------------------------------------------------------- cards
def short_reason(summary: str, limit: int) -> str:
    """The first sentence of a match summary, cut at a word to at most ``limit`` characters.

    >>> short_reason("Bo offers: seed funding; you look for: investors. You share interests: fintech.", 200)
    'Bo offers: seed funding; you look for: investors.'
    >>> short_reason("Bo offers: a very long list of things", 20)
    'Bo offers: a very…'
    """
    first = re.split(r"(?<=\.)\s+(?=[A-Z0-9])", summary.strip(), maxsplit=1)[0] if summary else ""
    if len(first) <= limit:
        return first
    cut = first[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def _about(a) -> str:
    if a is None:
        return ""
    what = a.title or a.role
    return ", ".join(x for x in (what, a.company) if x)


def cards_html(lists: dict[str, list], people: dict, title: str = "", paper_name: str = "a4",
               per_page: int = 1) -> str:
    """'People you should meet' cards, one per attendee of ``lists`` (``{id: [Match]}``, in order), ``per_page``
    (1, 2 or 4) to a sheet: each match with their title and company and the first sentence of the reason."""
    if per_page not in CARD_LAYOUTS:
        raise ValueError(f"per_page must be one of {', '.join(map(str, CARD_LAYOUTS))}; got {per_page}")
    pp = paper(paper_name)
    cols, rows, pt, limit = CARD_LAYOUTS[per_page]
    layout = {"cols": cols, "rows": rows, "per_page": per_page, "font_pt": pt,
              "small_pt": max(CARD_MIN_PT, pt - 1), "name_pt": round(pt * 1.6, 1), "pad_mm": 8 if per_page == 1 else 5}
    cards = []
    for aid, matches in lists.items():
        a = people.get(aid)
        cards.append({"name": (a.name if a and a.name else aid), "about": _about(a), "matches": [
            {"name": (people[m.id].name or m.id) if m.id in people else m.id, "about": _about(people.get(m.id)),
             "reason": short_reason(m.reasons.summary, limit)} for m in matches]})
    sheets = [cards[i:i + per_page] for i in range(0, len(cards), per_page)]
    return _env().get_template("cards.html.j2").render(title=title, paper=pp, layout=layout, sheets=sheets)


# ---------------------------------------------------------------------------------------------------- PDF
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """A headless-capable Chromium on the PATH, or ``None``."""
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 180) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (its ``@page`` size and margins; no header or
    footer). Raises ``RuntimeError`` naming what is missing or what failed."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError("printing to PDF needs Chromium (e.g. apt-get install chromium); "
                           "or open the HTML file in a browser and print it")
    src, out = Path(html_path).resolve(), Path(pdf_path).resolve()
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-pdf-header-footer", "--print-to-pdf-no-header",
           f"--print-to-pdf={out}", src.as_uri()]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Chromium did not finish printing {src.name} in {timeout:.0f} s") from None
    if res.returncode != 0 or not out.exists():
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"Chromium could not print {src.name}: {tail[0]}")
    return out
