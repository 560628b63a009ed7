"""MiniLM (the default encoder) against the Universal Sentence Encoder Multilingual v3 (``--encoder multilingual``),
measured in one run (prints figures; not a test):

1. Speed: texts per second encoding the sample event's distinct texts (nothing cached), and the model's load time.
2. Across languages: a bilingual probe event (below, written for this benchmark): eight pairs of counterparts,
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

#: (English person, their counterpart writing German or Spanish, an English look-alike of the English person).
#: Each as (id, role, goals, offers, bio). Written for this benchmark; no event's wording.
PAIRS = [
    (("en-founder", "founder", ["seed investors for our vertical farming startup"],
      ["pilot data from three indoor farms"], "Founder of an indoor farming company, raising a seed round."),
     ("de-investor", "investor", ["Gründerinnen und Gründer im Bereich Agrartechnologie"],
      ["Seed-Finanzierung für Agrartech-Startups"], "Partnerin bei einem Frühphasenfonds für Landwirtschaft."),
     ("en-founder-2", "founder", ["seed funding for our greenhouse robotics startup"],
      ["greenhouse automation demos"], "Co-founder of a greenhouse robotics startup, currently fundraising.")),
    (("en-investor", "investor", ["fintech founders raising a seed round"], ["seed checks for fintech startups"],
      "Angel investor backing early payments companies."),
     ("es-founder", "founder", ["inversión semilla para nuestra startup de pagos"],
      ["demostraciones de nuestra plataforma de pagos"], "Fundadora de una fintech de pagos en Madrid."),
     ("en-investor-2", "investor", ["early-stage payments startups"], ["angel investment in fintech"],
      "Angel investor in payments and banking software.")),
    (("en-hiring", "hiring manager", ["senior backend engineers who write Rust"],
      ["open backend engineering roles"], "Engineering manager growing a Rust backend team."),
     ("de-engineer", "engineer", ["eine neue Stelle als Backend-Entwicklerin"],
      ["acht Jahre Erfahrung mit Rust und verteilten Systemen"], "Backend-Entwicklerin, auf Jobsuche."),
     ("en-hiring-2", "hiring manager", ["hire Rust systems engineers"], ["open Rust roles on our platform team"],
      "Recruiter for a systems software company.")),
    (("en-jobseeker", "job seeker", ["a data scientist position"],
      ["five years of machine learning experience in Python"], "Data scientist looking for my next role."),
     ("es-hiring", "hiring manager", ["contratar científicos de datos con experiencia en aprendizaje automático"],
      ["puestos abiertos en nuestro equipo de datos"], "Responsable de contratación de un equipo de datos."),
     ("en-jobseeker-2", "job seeker", ["a machine learning engineer job"], ["deep learning projects in Python"],
      "ML engineer on the job market.")),
    (("en-mentee", "student", ["a mentor in product management"], ["fresh user research from my studies"],
      "Graduate student moving into product management."),
     ("de-mentor", "mentor", ["Nachwuchstalente, die ich begleiten kann"],
      ["Mentoring für angehende Produktmanager"], "Produktchefin mit zwanzig Jahren Erfahrung, Mentorin."),
     ("en-mentee-2", "student", ["guidance from an experienced product leader"], ["notes from my first PM course"],
      "Junior product manager seeking a mentor.")),
    (("en-buyer", "buyer", ["suppliers of medical imaging equipment"], ["a hospital budget for new scanners"],
      "Procurement lead of a regional hospital group."),
     ("es-supplier", "supplier", ["hospitales que compren equipos de diagnóstico por imagen"],
      ["equipos de resonancia magnética y ultrasonido"], "Proveedor de equipos médicos de imagen."),
     ("en-buyer-2", "buyer", ["vendors of ultrasound machines"], ["purchasing for three clinics"],
      "Buyer for a network of clinics.")),
    (("en-supplier", "supplier", ["retailers buying compostable packaging"],
      ["compostable food packaging at scale"], "Sales director of a packaging manufacturer."),
     ("de-buyer", "buyer", ["Lieferanten für kompostierbare Verpackungen"],
      ["Einkaufsvolumen für unsere Supermarktkette"], "Einkäufer einer Supermarktkette."),
     ("en-supplier-2", "supplier", ["grocery chains looking for eco packaging"], ["recyclable paper packaging"],
      "Account manager at a paper packaging firm.")),
    (("en-researcher", "researcher", ["collaborators on low-resource machine translation"],
      ["a parallel corpus of African languages"], "NLP researcher working on machine translation."),
     ("es-researcher", "researcher", ["colaboradores en traducción automática para lenguas minoritarias"],
      ["modelos de traducción entrenados para el quechua"], "Investigadora en procesamiento del lenguaje natural."),
     ("en-researcher-2", "researcher", ["partners for speech recognition research"], ["a speech dataset"],
      "Speech recognition researcher.")),
]

#: English people with needs of their own (the crowd a counterpart must rise above).
CROWD = [
    ("x-chef", "chef", ["local cheese producers"], ["a restaurant kitchen for tastings"], "Chef and owner."),
    ("x-lawyer", "lawyer", ["startups needing trademark advice"], ["intellectual property counsel"], "IP lawyer."),
    ("x-designer", "designer", ["clients for brand identity work"], ["logo and brand design"], "Freelance designer."),
    ("x-realestate", "agent", ["companies looking for office space"], ["office leases downtown"], "Broker."),
    ("x-teacher", "teacher", ["guest speakers for a coding club"], ["a school audience"], "High-school teacher."),
    ("x-farmer", "farmer", ["buyers for organic vegetables"], ["seasonal organic produce"], "Organic farmer."),
]


def probe_event():
    from models import Attendee, Event, EventFile

    people = [p for pair in PAIRS for p in pair] + CROWD
    return EventFile(event=Event(id="bilingual-probe", name="Bilingual probe"), attendees=[
        Attendee(id=i, name=i, role=role, goals=goals, offers=offers, bio=bio)
        for i, role, goals, offers, bio in people])


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
