"""Evaluation data sources: events with ground-truth pairs.

- :mod:`~matcher.evaluation.datasets.synthetic`: a seeded synthetic event with planted complementary pairs;
- :mod:`~matcher.evaluation.datasets.coauthor`: the co-authorship directory format (e.g. ``data/acl2019/``).
"""
