"""Character n-gram profiles of languages (``languages/detection.py``, signal 4): they place words that no
word list has ("farmacia", "estacionamiento") by their letters."""

import math
from collections import Counter
from pathlib import Path
from typing import Optional

from languages.text import WORD
from languages.vocabulary import lexicon, nlu_examples

PROFILE_MIN_LEAD = 0.2
"""Least lead, in mean log-probability per character n-gram, for a profile to decide."""


class CharacterProfiles:
    """Naive Bayes over character 1-3-grams, one profile per language."""

    def __init__(self, texts_by_language: dict[str, list[str]]) -> None:
        self._log_probabilities: dict[str, dict[str, float]] = {}
        self._unseen: dict[str, float] = {}
        for code, texts in texts_by_language.items():
            counts: Counter[str] = Counter()
            for text in texts:
                counts.update(_character_ngrams(text))
            total = sum(counts.values()) + len(counts) + 1
            self._log_probabilities[code] = {gram: math.log((n + 1) / total) for gram, n in counts.items()}
            self._unseen[code] = math.log(1 / total)

    @classmethod
    def from_nlu_data(cls, nlu_dir: Path, codes: tuple[str, ...]) -> "CharacterProfiles":
        """From each language's NLU examples and the words of its word lists (``languages/lexicons/``), so
        that words the examples never write ("figúrese", "celebrities") have the letters of their language."""
        return cls(
            {
                code: [text for path in sorted((nlu_dir / code).glob("*.yml")) for text, _ in nlu_examples(path)]
                + sorted(lexicon(code))
                for code in codes
            }
        )

    def best(self, text: str) -> Optional[tuple[str, float]]:
        """The most likely language and its lead over the next, in log-probability per n-gram."""
        grams = _character_ngrams(text)
        if not grams or len(self._log_probabilities) < 2:
            return None
        scores = sorted(
            (
                (sum(profile.get(gram, self._unseen[code]) for gram in grams) / len(grams), code)
                for code, profile in self._log_probabilities.items()
            ),
            reverse=True,
        )
        return scores[0][1], scores[0][0] - scores[1][0]


def _character_ngrams(text: str) -> list[str]:
    padded = f" {' '.join(WORD.findall(text.lower()))} "
    return [padded[i : i + n] for n in (1, 2, 3) for i in range(len(padded) - n + 1) if padded[i : i + n].strip()]
