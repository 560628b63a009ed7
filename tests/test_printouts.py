"""Printed seating charts, table tents and cards: one page per round, the smallest type size in the CSS,
namesakes told apart; and, where Chromium is installed, the printed PDF itself (pages, no page of a footer only)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import scripts.common as common
from matcher import CachedEncoder, HashingEncoder
from models import Attendee, load_event
from scripts.cli import main
from scripts.printouts import MIN_CHART_PT, find_browser, labels

SAMPLE = Path(__file__).resolve().parents[1] / "scripts" / "data" / "sample_event.json"
needs_pdf = pytest.mark.skipif(find_browser() is None or shutil.which("pdftotext") is None,
                               reason="needs Chromium and poppler-utils (apt-get install chromium poppler-utils)")


def sizes(html: str) -> list[float]:
    """Every type size the page sets, in points (a relative size may only enlarge: a heading at 1.15 em)."""
    assert all(float(x) >= 1 for x in re.findall(r"font-size:\s*([\d.]+)(?:em|rem)", html))
    assert not re.search(r"font-size:\s*[\d.]+(%|px)", html)
    return [float(x) for x in re.findall(r"font-size:\s*([\d.]+)pt", html)]


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    args = ["tables", "--event", str(SAMPLE), "--table-size", "8", "--rounds", "3", "--seed", "1", "--effort", "0.1",
            "--out", str(out), "--tents", "--quiet", "--encoder", "hashing"]
    if find_browser() is not None:
        args.append("--pdf")
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    return out


def test_each_round_is_one_page_and_type_is_never_small(plan_dir):
    html = (plan_dir / "seating.html").read_text()
    assert html.count('<section class="page">') == 3  # 240 people, 30 tables a round: one A4 page each
    assert [int(x) for x in re.findall(r"<h2>Round (\d+)</h2>", html)] == [1, 2, 3]
    assert "@page { size: A4;" in html
    assert min(sizes(html)) >= MIN_CHART_PT
    assert re.search(r"\.index \{ font-size: 11(\.0)?pt", html)


def test_the_index_tells_namesakes_apart(plan_dir):
    html = (plan_dir / "seating.html").read_text()
    people = load_event(SAMPLE).attendees
    names = Counter(a.name for a in people)
    twins = [a for a in people if names[a.name] > 1]
    assert len(twins) > 20  # the sample event has shared names
    rows = re.findall(r'<div class="row"><span class="who">(.*?)</span><span class="seats">', html)
    assert len(rows) == 240
    for a in twins:
        shown = [r for r in rows if r.startswith(a.name.replace("'", "&#39;") + " ")]
        assert len(shown) == names[a.name]
        assert len(set(shown)) == len(shown), shown  # no two rows alike
        assert any(a.company in r for r in shown)


def test_namesakes_at_one_company_get_their_id():
    people = {a.id: a for a in [Attendee(id="x1", name="Li Wu", company="Acme"),
                                Attendee(id="x2", name="Li Wu", company="Acme"),
                                Attendee(id="x3", name="Li Wu", company="Acme Robotics")]}
    assert labels(people) == {"x1": ("Li Wu (x1)", "Acme"), "x2": ("Li Wu (x2)", "Acme"),
                              "x3": ("Li Wu", "Acme Robotics")}
    assert labels(people, short=True)["x3"] == ("Li Wu", "Acme Robotics")  # "Acme" alone would not tell them apart


def test_tents_one_sheet_per_table(plan_dir):
    html = (plan_dir / "tents.html").read_text()
    assert html.count('<div class="num">') == 2 * 30 and html.count("<section class=\"page") == 30


def _pdf_pages(path: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(path), "-"],
                           capture_output=True, text=True, check=True).stdout for i in range(1, n + 1)]


@needs_pdf
def test_the_printed_chart(plan_dir):
    pages = _pdf_pages(plan_dir / "seating.pdf")
    assert [p.split()[:2] for p in pages[:3]] == [["Round", "1"], ["Round", "2"], ["Round", "3"]]
    assert all("Table 30" in p for p in pages[:3])
    assert "Find your table" in pages[3] and len(pages) <= 3 + 4
    for p in pages[3:]:  # every index page holds names, none holds only a footer
        assert len([x for x in p.splitlines() if x.strip()]) > 20
    tents = _pdf_pages(plan_dir / "tents.pdf")
    assert len(tents) == 30 and "30" in tents[-1]


@pytest.mark.parametrize(("per_page", "sheets"), [(1, 6), (2, 3), (4, 2)])
def test_cards(tmp_path, monkeypatch, per_page, sheets):
    monkeypatch.setattr(common, "make_encoder", lambda kind="model", *, cache=None, **kw:
                        CachedEncoder(HashingEncoder(dim=64), cache))
    out = tmp_path / "cards.html"
    ids = ",".join(f"a{i:03d}" for i in range(1, 7))
    args = ["cards", "--event", str(SAMPLE), "--out", str(out), "--per-page", str(per_page), "-k", "5",
            "--attendees", ids]
    res = CliRunner().invoke(main, args + (["--pdf"] if find_browser() and per_page == 4 else []))
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert html.count('<section class="page sheet') == sheets and html.count('<div class="card">') == 6
    assert html.count("<h3>People you should meet</h3>") == 6
    assert min(sizes(html)) >= 8.0
    first = html.split('<div class="card">')[1]
    assert "<h2>Meera Iyer</h2>" in first and first.count("<li>") == 5
    reasons = re.findall(r'<span class="why">(.*?)</span>', first)
    assert reasons and all(r.endswith((".", "…")) for r in reasons)
    if per_page == 4 and find_browser() and shutil.which("pdftotext"):
        pages = _pdf_pages(out.with_suffix(".pdf"))
        assert len(pages) == 2 and pages[0].count("People you should meet") == 4


def test_cards_bad_arguments(tmp_path):
    res = CliRunner().invoke(main, ["cards", "--event", str(SAMPLE), "--out", str(tmp_path), "--attendees", "a001"])
    assert res.exit_code == 2 and "is a directory" in res.output
    res = CliRunner().invoke(main, ["cards", "--event", str(SAMPLE), "--out", str(tmp_path / "c.html"),
                                    "--attendees", "a001,zz"])
    assert res.exit_code == 2 and "unknown attendee id 'zz'" in res.output
