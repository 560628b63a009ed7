"""``matchmaker evaluate``: ranking strategies side by side on an event with ground truth, and the HTML report.

Three inputs: an event file with a truth file of pairs; a co-authorship directory (``data/acl2019/`` format, see
:mod:`matcher.evaluation.datasets.coauthor`); or a synthetic event generated on the fly
(:mod:`matcher.evaluation.datasets.synthetic`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import click
import numpy as np

from matcher.evaluation import ABOUT, BASELINES, STRATEGIES, EvalSet, Report
from models import InvalidInput
from scripts import common
from scripts.common import read_event_or_fail

#: Columns of the terminal table: (metric key template, header).
COLUMNS = [("recall@{k}", "R@{k}"), ("precision@{k}", "P@{k}"), ("ndcg@{k}", "nDCG@{k}"), ("mrr", "MRR"),
           ("map", "MAP"), ("mutual_recall@{k}", "2-side@{k}"), ("coverage", "cover"), ("gini", "Gini"),
           ("max_exposure", "maxExp"), ("same_company_rate", "sameCo"), ("violations", "viol"),
           ("ms_per_list", "ms/list")]
#: Headline metrics plotted by strategy.
PLOTTED = ("recall@{k}", "ndcg@{k}", "mrr", "map")


# ------------------------------------------------------------------------------------------------- inputs
def read_truth(path: str) -> list[tuple[str, str]]:
    """Truth pairs from JSON lines (``{"a": id, "b": id}``, an optional ``"kind"`` must be ``relevant``) or one
    JSON list of such objects or of ``[a, b]`` pairs. Raises :class:`click.UsageError` naming the bad line."""
    p = Path(path)
    if not p.is_file():
        raise click.UsageError(f"truth file not found: {path}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.UsageError(f"truth file {path} is not UTF-8 text") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = list(enumerate(json.loads(text), 1))
        except json.JSONDecodeError as exc:
            raise click.UsageError(f"truth file {path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
        where = "item"
    else:
        items = []
        for no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((no, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise click.UsageError(f"truth file {path}, line {no}: not valid JSON ({exc.msg})") from None
        where = "line"
    pairs = []
    for no, d in items:
        if isinstance(d, list) and len(d) == 2:
            a, b = d
        elif isinstance(d, dict):
            if d.get("kind", "relevant") != "relevant":
                raise click.UsageError(f"truth file {path}, {where} {no}: kind must be 'relevant', got {d['kind']!r}")
            a, b = d.get("a"), d.get("b")
        else:
            raise click.UsageError(f"truth file {path}, {where} {no}: expected {{\"a\": id, \"b\": id}} or [a, b]")
        if not isinstance(a, str) or not isinstance(b, str):
            raise click.UsageError(f"truth file {path}, {where} {no}: 'a' and 'b' must be attendee id strings")
        pairs.append((a, b))
    if not pairs:
        raise click.UsageError(f"truth file {path} holds no pairs")
    return pairs


def _load_evalset(event: str | None, truth: str | None, coauthor: str | None, synthetic: int | None,
                  seed: int, backtest: bool, before: int | None) -> EvalSet:
    chosen = [x for x in (event, coauthor, synthetic) if x is not None]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one input: --event EVENT.json with --truth PAIRS.jsonl, "
                               "--coauthor DIR, or --synthetic N")
    if (backtest or before is not None) and coauthor is None:
        raise click.UsageError("--backtest and --before need --coauthor DIR (they move its papers back in time)")
    if truth is not None and event is None:
        raise click.UsageError("--truth goes with --event")
    if event is not None:
        if truth is None:
            raise click.UsageError("--event needs --truth PAIRS.jsonl (the pairs who should meet)")
        ef = read_event_or_fail(event)
        return EvalSet(ef.event.id, ef, read_truth(truth))
    if coauthor is not None:
        from matcher.evaluation.datasets import coauthor as co

        p = Path(coauthor)
        if not p.exists():
            raise click.UsageError(f"co-authorship directory not found: {coauthor}")
        if not p.is_dir():
            raise click.UsageError(f"--coauthor expects a directory holding attendees.jsonl.gz and "
                                   f"pairs.jsonl.gz, got a file: {coauthor}")
        try:
            data = co.read_coauthor_dir(p)
            if backtest or before is not None:
                data = co.backtest(data, before)
        except InvalidInput as exc:
            raise click.UsageError(f"invalid co-authorship directory {coauthor}: {exc}") from None
        return EvalSet(data.name, co.to_event(data), data.relevant)
    from matcher.evaluation.datasets.synthetic import generate_event

    if synthetic < 2:
        raise click.UsageError(f"--synthetic needs at least 2 attendees, got {synthetic}")
    ev = generate_event(synthetic, seed=seed)
    return EvalSet(f"synthetic-{synthetic}-seed{seed}", ev.event_file, list(ev.truth))


def parse_weights(value: str) -> dict[str, float]:
    """``"mutual=2.4,lexical=0"`` -> ``{"mutual": 2.4, "lexical": 0.0}``; raises :class:`click.UsageError`.

    >>> parse_weights("mutual=2.4, lexical=0")
    {'mutual': 2.4, 'lexical': 0.0}
    """
    from models import CHANNELS

    out: dict[str, float] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        name, eq, num = part.partition("=")
        name = name.strip()
        if not eq or name not in CHANNELS:
            raise click.UsageError(f"--weights takes CHANNEL=NUMBER pairs with channels {', '.join(CHANNELS)}; "
                                   f"got {part.strip()!r}")
        try:
            out[name] = float(num)
        except ValueError:
            raise click.UsageError(f"--weights: {name} must be a number, got {num.strip()!r}") from None
    return out


def _override_policy(evalset: EvalSet, weights: str | None, diversity: float | None) -> EvalSet:
    if weights is None and diversity is None:
        return evalset
    from pydantic import ValidationError

    from models import from_pydantic

    ef = evalset.event_file
    data = ef.event.policy.model_dump()
    if weights is not None:
        data["weights"].update(parse_weights(weights))
    if diversity is not None:
        data["diversity"] = diversity
    try:
        policy = type(ef.event.policy).model_validate(data)
    except ValidationError as exc:
        raise click.UsageError(f"invalid policy override: {from_pydantic(exc, 'policy')}") from None
    event = ef.event.model_copy(update={"policy": policy})
    return EvalSet(evalset.name, ef.model_copy(update={"event": event}), evalset.pairs, evalset.mutual)


def _strategies(value: str | None) -> list[str]:
    if not value:
        return list(STRATEGIES)
    names = [s.strip() for s in value.split(",") if s.strip()]
    for n in names:
        if n not in STRATEGIES:
            raise click.UsageError(f"unknown strategy {n!r}; choose from {', '.join(STRATEGIES)}")
    return list(dict.fromkeys(names))


# ------------------------------------------------------------------------------------------------- output
def _fmt(key: str, v) -> str:
    if key in {"max_exposure", "violations"}:
        return str(int(v))
    if key == "ms_per_list":
        return f"{v:.2f}"
    return f"{v:.3f}"


def format_table(report: Report) -> str:
    """The terminal table: one row per strategy, the default marked with ``*``."""
    k = report.k
    cols = [(key.format(k=k), head.format(k=k)) for key, head in COLUMNS]
    cols = [c for c in cols if any(c[0] in r.metrics for r in report.results.values())]
    name_w = max([len("strategy")] + [len(n) + 2 for n in report.results])
    widths = [max(len(h), 7) for _, h in cols]
    lines = ["strategy".ljust(name_w) + "  " + "  ".join(h.rjust(w) for (_, h), w in zip(cols, widths, strict=True))]
    lines.append("-" * len(lines[0]))
    for name, r in report.results.items():
        label = name + (" *" if name == report.default else "")
        cells = [_fmt(key, r.metrics[key]).rjust(w) if key in r.metrics else "".rjust(w)
                 for (key, _), w in zip(cols, widths, strict=True)]
        lines.append(label.ljust(name_w) + "  " + "  ".join(cells))
    return "\n".join(lines)


def _plots(report: Report, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = report.k
    names = list(report.results)
    files = []
    keys = [p.format(k=k) for p in PLOTTED]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 0.42 * len(names) + 1.6), sharey=True)
    y = np.arange(len(names))
    for ax, key in zip(np.atleast_1d(axes), keys, strict=True):
        vals = np.asarray([report.results[n].metrics.get(key, 0.0) for n in names])
        colours = ["#1f5fbf" if n == report.default else ("#9aa5b1" if n in BASELINES else "#7fb3e6")
                   for n in names]
        ax.barh(y, vals, color=colours)
        for yi, v in zip(y, vals, strict=True):
            ax.text(v, yi, f" {v:.3f}", va="center", fontsize=8)
        ax.set_title(key)
        ax.set_xlim(0, max(float(vals.max()) * 1.3, 1e-3))
        ax.tick_params(axis="x", labelsize=7)
    axes = np.atleast_1d(axes)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    fig.suptitle(f"{report.name}: ranking quality by strategy ({report.n_queries} queries, k={k}; "
                 f"dark blue = default, grey = baselines, light blue = ablations)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "metrics.png", dpi=110)
    plt.close(fig)
    files.append("metrics.png")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    show = [n for n in names if n in (report.default, "cosine", "popularity", "random", "no-diversity")] or names
    for n in show:
        exp = np.sort(report.results[n].exposure)
        total = exp.sum()
        if total == 0:
            continue
        cum = np.concatenate([[0.0], np.cumsum(exp) / total])
        share = np.linspace(0, 1, len(cum))
        gini = report.results[n].metrics.get("gini", 0.0)
        ax1.plot(share, cum, label=f"{n} (Gini {gini:.2f})", lw=2 if n == report.default else 1.2)
        if n != "popularity":  # one list for everyone: on the Lorenz curve, it would squash this axis
            ax2.hist(report.results[n].exposure, bins=np.arange(0, exp.max() + 2) - 0.5, histtype="step",
                     label=f"{n} (max {int(exp.max())})", lw=2 if n == report.default else 1.2)
    ax1.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="equal exposure")
    ax1.set_xlabel("share of attendees (least shown first)")
    ax1.set_ylabel(f"share of all top-{k} slots")
    ax1.set_title("Exposure concentration (Lorenz curve)")
    ax1.legend(fontsize=8)
    ax2.set_xlabel(f"number of top-{k} lists a person appears in")
    ax2.set_ylabel("attendees")
    ax2.set_yscale("log")
    ax2.set_title("Exposure distribution")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "exposure.png", dpi=110)
    plt.close(fig)
    files.append("exposure.png")
    return files


def write_report(report: Report, directory: str | Path) -> Path:
    """Write ``index.html`` with the table and two plots (``metrics.png``, ``exposure.png``) beside it."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    _plots(report, out)
    k = report.k
    cols = [(key.format(k=k), head.format(k=k)) for key, head in COLUMNS]
    cols = [c for c in cols if any(c[0] in r.metrics for r in report.results.values())]
    best = {}
    for key, _ in cols:
        vals = [r.metrics[key] for r in report.results.values() if key in r.metrics]
        if vals and key in {f"recall@{k}", f"precision@{k}", f"ndcg@{k}", "mrr", "map", f"mutual_recall@{k}",
                            "coverage"}:
            best[key] = max(vals)
    rows = []
    for name, r in report.results.items():
        cells = []
        for key, _ in cols:
            v = r.metrics.get(key)
            txt = "" if v is None else _fmt(key, v)
            strong = key in best and v == best[key]
            cells.append(f"<td>{'<b>' if strong else ''}{txt}{'</b>' if strong else ''}</td>")
        cls = ' class="default"' if name == report.default else ""
        about = html.escape(ABOUT.get(name, ""))
        rows.append(f"<tr{cls}><th title=\"{about}\">{html.escape(name)}</th>{''.join(cells)}"
                    f"<td class=about>{about}</td></tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in cols)
    d = report.results.get(report.default)
    verdict = ""
    if d is not None:
        key = f"ndcg@{k}"
        base = {n: r.metrics[key] for n, r in report.results.items() if n in BASELINES}
        if base:
            top = max(base, key=base.get)
            ratio = d.metrics[key] / base[top] if base[top] > 0 else float("inf")
            verdict = (f"<p class=verdict>Default pipeline nDCG@{k} <b>{d.metrics[key]:.3f}</b>; best baseline "
                       f"<b>{html.escape(top)}</b> {base[top]:.3f} (x{ratio:.2f}). Rule violations in the default "
                       f"lists: <b>{int(d.metrics['violations'])}</b>.</p>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Matchmaker evaluation: {html.escape(report.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
td, th {{ padding: 4px 8px; border-bottom: 1px solid #ddd; text-align: right; }}
th:first-child, td.about {{ text-align: left; }}
td.about {{ color: #666; font-size: 12px; }}
tr.default {{ background: #eef5ff; }}
.verdict {{ font-size: 16px; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Evaluation: {html.escape(report.name)}</h1>
<p>{report.n_attendees} attendees, {report.n_pairs} ground-truth pairs, {report.n_queries} attendees with at least
one (the queries); lists of k = {k}. Ranking metrics average over the queries; MRR and MAP use each strategy's full
ranking of everyone the event's rules allow. Coverage, Gini and exposure look at everybody's top-{k} list.</p>
{verdict}
<h2>Ranking quality</h2>
<img src="metrics.png" alt="metric by strategy">
<h2>Who gets shown</h2>
<img src="exposure.png" alt="exposure distribution">
<h2>All figures</h2>
<table><tr><th>strategy</th>{head}<th class=about>what it is</th></tr>
{''.join(rows)}
</table>
<p>2-side@{k}: share of truth pairs where each is in the other's top {k}. sameCo: share of list entries from the
same company. viol: list entries breaking a hard rule (self, blocked, already connected, opted out, same company
when not allowed, role rules); must be 0. ms/list: time to produce one list, this run.</p>
{f'<ul>{notes}</ul>' if notes else ''}
</body></html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")
    return out / "index.html"


# --------------------------------------------------------------------------------------------------- command
@click.command("evaluate")
@click.option("--event", "event_path", default=None, metavar="EVENT.json", help="Event file (with --truth).")
@click.option("--truth", "truth_path", default=None, metavar="PAIRS.jsonl",
              help='Ground truth: JSON lines {"a": id, "b": id} (or a JSON list of pairs).')
@click.option("--coauthor", default=None, metavar="DIR",
              help="Co-authorship directory (attendees.jsonl.gz, pairs.jsonl.gz), e.g. data/acl2019.")
@click.option("--backtest", is_flag=True,
              help="With --coauthor: evaluate one year back in time (the newest year's pairs as truth; "
                   "never looks at the 'relevant' pairs). For tuning.")
@click.option("--before", type=int, default=None, metavar="YEAR", help="With --coauthor: backtest at this year.")
@click.option("--synthetic", type=int, default=None, metavar="N", help="Generate a synthetic event of N attendees.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic event and of 'random'.")
@click.option("-k", "k", type=click.IntRange(1, 500), default=10, show_default=True, help="List length.")
@click.option("--strategies", default=None, metavar="A,B,...",
              help=f"Comma-separated subset of: {', '.join(STRATEGIES)} (default: all).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help='Write {"default": NAME, "strategies": {NAME: {metric: value}}} to FILE.')
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write an HTML report with plots to DIR.")
@click.option("--weights", default=None, metavar="CH=W,...",
              help="Override the event policy's channel weights, e.g. 'mutual=2.4,lexical=0' (intent, interests, "
                   "lexical, mutual).")
@click.option("--diversity", type=click.FloatRange(0, 1), default=None,
              help="Override the event policy's diversity (0 = pure relevance).")
@click.option("--model", default=None, help="sentence-transformers model name or path (default: bundled MiniLM).")
@common.encoder_option()
def evaluate(event_path, truth_path, coauthor, backtest, before, synthetic, seed, k, strategies, json_out,
             report_dir, weights, diversity, model, encoder_name) -> None:
    """Compare ranking strategies on an event with ground truth: Recall/Precision/nDCG@k, MRR, MAP, two-sided
    recall, coverage, exposure (Gini, max), same-company rate, rule violations and time per list."""
    from matcher.evaluation import evaluate as run

    names = _strategies(strategies)
    evalset = _load_evalset(event_path, truth_path, coauthor, synthetic, seed, backtest, before)
    evalset = _override_policy(evalset, weights, diversity)
    try:
        evalset.check()
    except InvalidInput as exc:
        raise click.UsageError(f"ground truth does not fit the event: {exc}") from None
    for target in (json_out,):
        if target and Path(target).is_dir():
            raise click.UsageError(f"--json expects a file path, got a directory: {target}")
    if report_dir and Path(report_dir).exists() and not Path(report_dir).is_dir():
        raise click.UsageError(f"--report expects a directory, got a file: {report_dir}")
    enc, save_cache = common.encoder(encoder_name, model)
    click.echo(f"{evalset.name}: {len(evalset.event_file.attendees)} attendees, "
               f"{len(evalset.pairs)} truth pairs", err=True)
    try:
        with common.encoder_errors():
            common.precache(enc, evalset.event_file.attendees)  # the one progress bar: encoding, when long
            report = run(evalset, enc, names, k=k, seed=seed, log=lambda msg: click.echo(msg, err=True))
    finally:
        save_cache()
    click.echo(format_table(report))
    for note in report.notes:
        click.echo(f"note: {note}")
    if json_out:
        Path(json_out).write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}", err=True)
    if report_dir:
        path = write_report(report, report_dir)
        click.echo(f"wrote {path}", err=True)
