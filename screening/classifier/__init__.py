"""Learned crisis screen: linear models over hashed character and word n-grams.

:class:`screening.crisis.CrisisScreen` runs it on every message after the
rules; a message is a crisis if either fires. The rules are precise where
someone wrote the pattern; this model is there so that recall does not depend
on someone having written the exact pattern (new phrasings, typos, languages
with few patterns).

Design:

* Features (:mod:`screening.classifier.features`): normalised text, hashed
  character n-grams (2-5, within word boundaries) and word uni- and bigrams,
  sublinear TF times IDF, L2-normalised: the TF-IDF of scikit-learn's
  ``TfidfVectorizer``, computed by our own code so that scoring needs only
  NumPy.
* Two models on the same features, trained by
  ``python -m screening.classifier.train`` (see there for data, weights and
  threshold): a binary logistic regression, crisis (any category) or not,
  which decides; and a multinomial one over the four crisis categories,
  trained on crisis messages only, which names the category of a message the
  binary model flagged (its best guess, not a second decision).
* A message with fewer than a dozen letters is not judged (score 0): one or
  two words carry too little for n-gram weights, and the rules are written
  for the short crisis messages.
* A message is scored as its highest-scoring segment (the whole text, its
  sentences, pairs of sentences, windows of long sentences), so that one
  crisis sentence in a long message is not diluted; that segment is the
  finding's evidence and the one the category model reads.
* Artefact: ``crisis_classifier.npz`` beside this file: the hashed buckets seen
  in training with their IDF and weights, plus JSON metadata (threshold,
  hash size, categories, a digest of the training data, out-of-fold
  figures). Loading is ``numpy.load`` (no pickle, no scikit-learn, no spaCy,
  no TensorFlow): tens of milliseconds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from screening.classifier.features import Segments, segment_features, too_short_to_judge

DEFAULT_ARTEFACT = Path(__file__).resolve().parent / "crisis_classifier.npz"
FORMAT_VERSION = 2

__all__ = ["DEFAULT_ARTEFACT", "CrisisClassifier", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """What the classifier says about a message it flags.

    Attributes:
        score: Crisis probability of the best segment, at or above the threshold.
        category: The category model's best guess (a ``CrisisCategory`` value).
        segment: The highest-scoring segment of the message, verbatim.
    """

    score: float
    category: str
    segment: str


class CrisisClassifier:
    """Scores messages for crisis language; :meth:`assess` applies the stored threshold."""

    def __init__(
        self,
        idf: np.ndarray,
        coef: np.ndarray,
        category_coef: np.ndarray,
        meta: dict[str, Any],
    ) -> None:
        """Build from dense per-bucket arrays (use :meth:`load` for an artefact).

        Args:
            idf: IDF of every hash bucket (``2**bits`` entries).
            coef: Binary crisis weight of every bucket (``2**bits`` entries).
            category_coef: Category weights, ``(2**bits, len(categories))``.
            meta: Artefact metadata: ``bits``, ``intercept``, ``threshold``,
                ``categories``, ``category_intercept`` (and a training summary).
        """
        size = 1 << int(meta["bits"])
        categories = list(meta["categories"])
        if idf.shape != (size,) or coef.shape != (size,) or category_coef.shape != (size, len(categories)):
            raise ValueError(f"artefact arrays do not match {size} buckets and {len(categories)} categories")
        self._idf = idf
        self._coef = coef
        self._category_coef = category_coef
        self._category_intercept = np.asarray(meta["category_intercept"], dtype=np.float64)
        self._intercept = float(meta["intercept"])
        self.categories: tuple[str, ...] = tuple(categories)
        self.threshold = float(meta["threshold"])
        self.bits = int(meta["bits"])
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
            category_coef = np.zeros((size, len(meta["categories"])), dtype=np.float32)
            category_coef[buckets] = archive["category_coef"]
        return cls(idf, coef, category_coef, meta)

    def _best(self, text: str) -> tuple[float, int, Segments | None, np.ndarray]:
        """Score every part at once.

        Returns:
            The best part's score and index, the parts, and every entry's TF-IDF
            value before normalisation.
        """
        parts = segment_features(text, self.bits)
        if parts is None:
            return 1.0 / (1.0 + math.exp(-self._intercept)), 0, None, np.zeros(0)
        values = (1.0 + np.log(parts.counts)) * self._idf[parts.buckets]
        if len(parts.texts) == 1:  # most messages: one part, no per-part sums needed
            norm = math.sqrt(float(values @ values)) or 1.0
            margin = self._intercept + float(values @ self._coef[parts.buckets]) / norm
            return 1.0 / (1.0 + math.exp(-margin)), 0, parts, values
        size = len(parts.texts)
        norms = np.sqrt(np.bincount(parts.rows, values * values, minlength=size))
        dots = np.bincount(parts.rows, values * self._coef[parts.buckets], minlength=size)
        margins = self._intercept + np.divide(dots, norms, out=np.zeros(size), where=norms > 0)
        best = int(np.argmax(margins))
        return 1.0 / (1.0 + math.exp(-float(margins[best]))), best, parts, values

    def score(self, text: str) -> float:
        """Crisis probability in [0, 1]: that of the message's highest-scoring part; 0 for a
        message too short to judge (:func:`~screening.classifier.features.too_short_to_judge`)."""
        return 0.0 if too_short_to_judge(text) else self._best(text)[0]

    def assess(self, text: str) -> Verdict | None:
        """The verdict on a message whose score reaches the threshold, else ``None``."""
        if too_short_to_judge(text):
            return None
        score, best, parts, values = self._best(text)
        if score < self.threshold or parts is None:
            return None
        entries = parts.rows == best
        part_values = values[entries]
        part_values /= math.sqrt(float(part_values @ part_values)) or 1.0
        logits = self._category_intercept + part_values @ self._category_coef[parts.buckets[entries]]
        return Verdict(score, self.categories[int(np.argmax(logits))], parts.texts[best])
