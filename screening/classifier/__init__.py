"""Learned crisis screen: a linear model over hashed character and word n-grams.

It runs beside the rule-based :class:`screening.crisis.CrisisScreen` on every
patient message; a message is a crisis if either fires. The rules are precise
where someone wrote the pattern; this model is there so that recall does not
depend on someone having written the exact pattern (new phrasings, typos,
languages with few patterns).

Design:

* Features (:mod:`screening.classifier.features`): normalised text, hashed
  character n-grams (2-5, within word boundaries) and word uni- and bigrams,
  sublinear TF times IDF, L2-normalised: the TF-IDF of scikit-learn's
  ``TfidfVectorizer``, computed by our own code so that scoring needs only
  NumPy.
* Model: L2 logistic regression (liblinear), balanced class weights, trained
  by ``python -m screening.classifier.train`` from the project's own labelled
  data (the tuning split of ``tests/data/crisis``, the NLU examples in
  ``data/nlu``) and the small public sets under
  ``screening/classifier/data`` (see its README). One binary label: crisis
  (any category) or not; the rules say which category.
* Threshold: chosen by the trainer from out-of-fold scores, for recall
  (see :mod:`screening.classifier.train`), and stored in the artefact.
* Artefact: ``crisis_classifier.npz`` beside this file: the hashed buckets seen
  in training with their IDF and weight, plus JSON metadata (threshold,
  hash size, a digest of the training data). Loading is ``numpy.load`` (no
  pickle, no scikit-learn, no spaCy, no TensorFlow): tens of milliseconds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from screening.classifier.features import feature_counts, segments

DEFAULT_ARTEFACT = Path(__file__).resolve().parent / "crisis_classifier.npz"
FORMAT_VERSION = 1

__all__ = ["DEFAULT_ARTEFACT", "CrisisClassifier"]


@dataclass(frozen=True)
class _Weights:
    idf: np.ndarray
    coef: np.ndarray


class CrisisClassifier:
    """Scores a message for crisis language; ``is_crisis`` applies the stored threshold."""

    def __init__(self, idf: np.ndarray, coef: np.ndarray, intercept: float, threshold: float, meta: dict[str, Any]):
        """Build from dense per-bucket arrays (use :meth:`load` for an artefact).

        Args:
            idf: IDF of every hash bucket (``2**bits`` entries).
            coef: Weight of every hash bucket (``2**bits`` entries).
            intercept: Bias of the logistic model.
            threshold: Score at or above which a message is a crisis.
            meta: Artefact metadata (``bits``, digest, training summary ...).
        """
        if idf.shape != coef.shape or idf.ndim != 1:
            raise ValueError("idf and coef must be 1-D arrays of one size")
        bits = int(meta["bits"])
        if idf.shape[0] != 1 << bits:
            raise ValueError(f"expected {1 << bits} buckets, got {idf.shape[0]}")
        self._weights = _Weights(idf, coef)
        self._intercept = float(intercept)
        self.threshold = float(threshold)
        self.bits = bits
        self.meta = meta

    @classmethod
    def load(cls, path: Path | str = DEFAULT_ARTEFACT) -> CrisisClassifier:
        """Load an artefact written by ``python -m screening.classifier.train``."""
        with np.load(Path(path), allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"{path}: artefact format {meta.get('format')}, expected {FORMAT_VERSION}")
            buckets = archive["buckets"].astype(np.int64)
            size = 1 << int(meta["bits"])
            idf = np.full(size, float(meta["unseen_idf"]), dtype=np.float32)
            idf[buckets] = archive["idf"]
            coef = np.zeros(size, dtype=np.float32)
            coef[buckets] = archive["coef"]
        return cls(idf, coef, float(meta["intercept"]), float(meta["threshold"]), meta)

    def score(self, text: str) -> float:
        """Crisis score in [0, 1]: the logistic output of the highest-scoring segment
        (the whole message, or one of its sentences or pairs of adjacent sentences)."""
        return max(self._score_segment(segment) for segment in segments(text))

    def _score_segment(self, text: str) -> float:
        counts = feature_counts(text, self.bits)
        margin = self._intercept
        if counts:
            index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            values = tf * self._weights.idf[index]
            norm = float(np.sqrt(np.dot(values, values)))
            if norm > 0.0:
                margin += float(np.dot(self._weights.coef[index], values)) / norm
        return 1.0 / (1.0 + math.exp(-margin))

    def is_crisis(self, text: str) -> bool:
        """Whether the score reaches the artefact's threshold."""
        return self.score(text) >= self.threshold
