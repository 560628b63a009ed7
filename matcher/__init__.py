"""The matching engine: encoding, indexes, reciprocal scoring, rules, ranking and explanations.

Pure Python over numpy and FAISS; it never imports Flask or the database layer.
"""

from matcher.encoder import CachedEncoder, EmbeddingCache, Encoder, EncoderError, HashingEncoder
from matcher.engine import Matcher, PairScores, RankedLists, UnknownAttendee
from matcher.index import FacetIndex

__all__ = ["CachedEncoder", "EmbeddingCache", "Encoder", "EncoderError", "FacetIndex", "HashingEncoder",
           "Matcher", "PairScores", "RankedLists", "UnknownAttendee"]
