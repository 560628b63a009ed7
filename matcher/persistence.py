"""Save and load a matcher: the event, attendees, FAISS indexes and row maps in a directory (no model weights).

Layout: ``event.json`` (the event file), ``meta.json`` (model id, each attendee's key, how many keys were given),
``rows.npz`` (per facet: each attendee's item count and index rows) and ``indexes/<facet>/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from matcher.index import FacetIndex
from matcher.profile import FACETS
from models import EventFile, MatchmakerError

if TYPE_CHECKING:
    from matcher.engine import Matcher


def save(m: Matcher, path: str | Path) -> None:
    """Write ``m`` to the directory ``path`` (created if needed)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    store = m.store
    attendees = store.attendees()
    ef = EventFile(event=m.event, attendees=attendees)
    (path / "event.json").write_text(json.dumps(ef.to_json()))
    rows = {}
    keys = {a.id: store.key_of(a.id) for a in attendees}
    for f in FACETS:
        parts = [store.item_rows(f, keys[a.id]) for a in attendees]
        rows[f"{f}_counts"] = np.asarray([len(p) for p in parts], dtype=np.int64)
        rows[f"{f}_rows"] = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        index = store.index(f)
        if index is not None:
            index.save(path / "indexes" / f)
    np.savez(path / "rows.npz", **rows)
    (path / "meta.json").write_text(json.dumps({"model_id": m.encoder.model_id, "keys": keys,
                                                "n_keys": store.n_keys}))


def load(cls: type[Matcher], path: str | Path, encoder=None, **kwargs) -> Matcher:
    """A ``cls`` restored from a directory written by :func:`save`, without encoding anything."""
    from models import load_event

    path = Path(path)
    ef = load_event(path / "event.json")
    meta = json.loads((path / "meta.json").read_text())
    m = cls(ef.event, encoder, **kwargs)
    if m.encoder.model_id != meta["model_id"]:
        raise MatchmakerError(f"{path} was built with model {meta['model_id']!r}, "
                              f"not {m.encoder.model_id!r}; rebuild it")
    if not ef.attendees:
        return m
    indexes = {f: FacetIndex.load(path / "indexes" / f) for f in FACETS}
    with np.load(path / "rows.npz") as z:
        saved = {name: z[name] for name in z.files}
    rows = {}
    for f in FACETS:
        offsets = np.concatenate([[0], np.cumsum(saved[f"{f}_counts"])])
        rows[f] = [saved[f"{f}_rows"][offsets[i]:offsets[i + 1]] for i in range(len(ef.attendees))]
    # the indexes store the original keys as owners: every attendee gets its key back (gaps stay dead)
    m.store.restore(ef.attendees, meta["keys"], int(meta["n_keys"]), indexes, rows)
    return m
