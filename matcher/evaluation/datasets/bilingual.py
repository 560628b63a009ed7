"""A bilingual probe event, written for ``scripts/bench_encoders.py`` and ``tests/test_multilingual.py`` (no event's
wording): eight pairs of counterparts, one side writing English and the other German or Spanish, each English
person beside an English same-side look-alike, and a crowd of English people with needs of their own.

>>> ef = probe_event()
>>> len(ef.attendees), len(PAIRS)
(30, 8)
"""

from __future__ import annotations

from models import Attendee, Event, EventFile

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


def probe_event() -> EventFile:
    """The probe as an event file: every person of :data:`PAIRS` and :data:`CROWD`."""
    people = [p for pair in PAIRS for p in pair] + CROWD
    return EventFile(event=Event(id="bilingual-probe", name="Bilingual probe"), attendees=[
        Attendee(id=i, name=i, role=role, goals=goals, offers=offers, bio=bio)
        for i, role, goals, offers, bio in people])
