"""MiniLM (the default encoder) against the Universal Sentence Encoder Multilingual v3 (``--encoder multilingual``),
measured in one run (prints figures; not a test):

1. Speed: texts per second encoding the sample event's distinct texts (nothing cached), and the model's load time.
2. Across languages: a bilingual probe event (``matcher/evaluation/datasets/bilingual.py``): eight pairs of counterparts,
   one side writing English and the other German or Spanish, each English person beside an English same-side
   look-alike, plus English people with other needs. For every person of a pair, the rank of their counterpart
   in their own list (the engine's full ranking, not raw cosine): hits at 1, at 3, and mean reciprocal rank.
3. In English: the sample event's counterpart shares per kind (``scripts.bench_complement``) with each encoder.

    python -m scripts.bench_encoders                 # all three (a few minutes on 2 cores)
    python -m scripts.bench_encoders --skip-sample   # speed and the bilingual probe only

Synthetic nDCG@10 per encoder: ``matchmaker evaluate --synthetic 300 --seed 0 --encoder multilingual`` (and
``--encoder model``); the README lists both.
"""

from __future__ import annotations

import json
import os
import time

import click

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

KINDS = ("model", "multilingual")

def encoder_of(kind: str):
    from matcher.encoder import CachedEncoder, EmbeddingCache, make_encoder

    return CachedEncoder(make_encoder(kind), EmbeddingCache())  # in memory: nothing from an earlier run


def speed(kind: str, texts: list[str]) -> dict:
    from matcher.encoder import make_encoder

    enc = make_encoder(kind)
    t = time.perf_counter()
    enc.encode(texts[:2])
    load = time.perf_counter() - t
    t = time.perf_counter()
    enc.encode(texts)
    took = time.perf_counter() - t
    return {"texts": len(texts), "load_s": round(load, 2), "encode_s": round(took, 2),
            "texts_per_s": round(len(texts) / took, 1), "dim": enc.dim}


def bilingual(kind: str) -> dict:
    from matcher import Matcher
    from matcher.evaluation.datasets.bilingual import PAIRS, probe_event

    ef = probe_event()
    m = Matcher.from_event_file(ef, encoder_of(kind))
    n = len(ef.attendees)
    ranks = {}
    for en, foreign, _ in PAIRS:
        for me, other in ((en[0], foreign[0]), (foreign[0], en[0])):
            ids = [x.id for x in m.recommend(me, k=n)]
            ranks[me] = ids.index(other) + 1 if other in ids else n
    r = list(ranks.values())
    return {"lists": len(r), "hit_at_1": sum(x == 1 for x in r), "hit_at_3": sum(x <= 3 for x in r),
            "mrr": round(sum(1 / x for x in r) / len(r), 3), "ranks": ranks}


def sample_texts() -> list[str]:
    from matcher.profile import FACETS, facet_items
    from models import load_event
    from scripts.bench_complement import SAMPLE

    ef = load_event(SAMPLE)
    return list(dict.fromkeys(x for a in ef.attendees for it in (facet_items(a),) for f in FACETS for x in it[f]))


@click.command()
@click.option("--skip-sample", is_flag=True, help="Skip the sample event's counterpart shares (the slow part).")
@click.option("--json", "json_path", default=None, help="Write the figures as JSON here.")
def main(skip_sample: bool, json_path: str | None) -> None:
    out: dict = {}
    texts = sample_texts()
    for kind in KINDS:
        fig = {"speed": speed(kind, texts), "bilingual": bilingual(kind)}
        if not skip_sample:
            from scripts.bench_complement import measure

            fig["sample_lists"] = {k: v["counterpart"] for k, v in measure(encoder_kind=kind)["lists"].items()}
        out[kind] = fig
        s, b = fig["speed"], fig["bilingual"]
        click.echo(f"{kind:<13} encode {s['texts']} texts: {s['texts_per_s']:.0f} texts/s (load {s['load_s']} s, "
                   f"dim {s['dim']}); bilingual probe: {b['hit_at_1']}/{b['lists']} counterparts at #1, "
                   f"{b['hit_at_3']}/{b['lists']} in the top 3, MRR {b['mrr']}")
        if "sample_lists" in fig:
            click.echo("              sample counterpart shares: " +
                       ", ".join(f"{k} {v:.2f}" for k, v in fig["sample_lists"].items()))
    a, b = out["model"]["speed"], out["multilingual"]["speed"]
    click.echo(f"speed ratio multilingual / MiniLM: {b['texts_per_s'] / a['texts_per_s']:.2f}x")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
