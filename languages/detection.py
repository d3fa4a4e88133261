"""Which language a patient writes in, robust to one- and two-word messages.

Signals, strongest first:

1. an explicit switch: a short message that names a language ("¿hablas
   español?", "in English please", "说中文");
2. the script: Han, Hangul, Cyrillic, Arabic letters, or Vietnamese-only
   diacritics, which settle a message of any length;
3. the language's frequent words (``common_words`` in its YAML file); on a tie
   between English and another language, the other wins, since code-switching
   patients mix English words into their own language ("necesito un refill");
4. for languages with bot flows, character n-gram profiles learnt from their NLU
   training data (``data/nlu/<lang>/``), which place single content words such
   as "farmacia" or "estacionamiento";
5. langdetect (seeded) on messages of four words or more, as a tie-breaker.

A conversation that already has a language keeps it unless the new message is
strong evidence of another (an explicit switch, a script, or a clear margin of
frequent words over three words or more), so "ok" or "hola" never flips it. The
first message falls back to the client's locale, then English.
"""

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml
from langdetect import DetectorFactory, LangDetectException, detect_langs

from languages.catalog import LanguageCatalog

DetectorFactory.seed = 0

DEFAULT_LANGUAGE = "en"
MAX_SWITCH_REQUEST_WORDS = 7
LANGDETECT_MIN_WORDS = 4
LANGDETECT_MIN_PROBABILITY = 0.9

SCRIPT_PATTERNS = {
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "arabic": re.compile(r"[\u0600-\u06ff\u0750-\u077f]"),
}
VIETNAMESE_LETTERS = re.compile(
    "[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĩũ]", re.IGNORECASE
)
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
NLU_DIR = Path(__file__).resolve().parent.parent / "data" / "nlu"
PROFILE_MIN_LEAD = 0.2
"""Least lead, in mean log-probability per character n-gram, for a profile to decide."""
PROFILE_MIN_LETTERS = 4
"""Shorter messages ("ok", "si") say too little; the locale or the session decides them."""


@dataclass(frozen=True)
class Resolution:
    language: str
    reason: str
    """explicit | script | strong-words | words | profile | langdetect | current | locale | default"""

    @property
    def strong(self) -> bool:
        return self.reason in ("explicit", "script", "strong-words")


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        (text, str(block["intent"]))
        for block in document.get("nlu", [])
        for line in str(block.get("examples", "")).splitlines()
        if (text := line.strip().removeprefix("- ").strip())
    ]


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
        return cls(
            {
                code: [text for path in sorted((nlu_dir / code).glob("*.yml")) for text, _ in nlu_examples(path)]
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


class LanguageResolver:
    def __init__(self, catalog: LanguageCatalog, nlu_dir: Path = NLU_DIR) -> None:
        self.catalog = catalog
        self._by_script = {language.script: language.code for language in catalog if language.script}
        self._profiles = CharacterProfiles.from_nlu_data(nlu_dir, catalog.bot_languages)

    def explicit_switch(self, text: str) -> Optional[str]:
        """The language a short message asks for by name, if any (the last one named wins)."""
        lowered = text.lower()
        words = WORD.findall(lowered)
        if len(words) > MAX_SWITCH_REQUEST_WORDS and not SCRIPT_PATTERNS["han"].search(text):
            return None
        folded = " ".join(_strip_accents(word) for word in words)
        best: Optional[tuple[int, str]] = None
        for language in self.catalog:
            for name in language.names:
                position = _find_name(name, lowered, folded)
                if position >= 0 and (best is None or position > best[0]):
                    best = (position, language.code)
        return best[1] if best else None

    def detect(self, text: str) -> Optional[Resolution]:
        """The language of the message alone, or None when it gives no evidence."""
        for script, pattern in SCRIPT_PATTERNS.items():
            if script in self._by_script and pattern.search(text):
                return Resolution(self._by_script[script], "script")
        if VIETNAMESE_LETTERS.search(text) and self.catalog.get("vi"):
            return Resolution("vi", "script")
        words = [word.lower() for word in WORD.findall(text)]
        scores = {
            language.code: sum(word in language.common_words for word in words)
            for language in self.catalog
        }
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        if ranked and ranked[0][1] > 0:
            best_code, best_score = ranked[0]
            tied = [code for code, score in ranked if score == best_score]
            if len(tied) > 1:
                best_code = self._break_tie(tied, text, len(words))
            runner_up = max((score for code, score in ranked if code != best_code), default=0)
            if best_score - runner_up >= 2 and len(words) >= 3:
                return Resolution(best_code, "strong-words")
            return Resolution(best_code, "words")
        profiled = self._profiles.best(text) if sum(map(len, words)) >= PROFILE_MIN_LETTERS else None
        if profiled and profiled[1] >= PROFILE_MIN_LEAD:
            return Resolution(profiled[0], "profile")
        guess = self._langdetect(text, len(words))
        return Resolution(guess, "langdetect") if guess else None

    def resolve(self, text: str, current: Optional[str], locale: Optional[str]) -> Resolution:
        """The conversation's language after this message."""
        explicit = self.explicit_switch(text)
        if explicit:
            return Resolution(explicit, "explicit")
        detected = self.detect(text)
        if current and self.catalog.get(current):
            if detected and detected.strong and detected.language != current:
                return detected
            return Resolution(current, "current")
        if detected:
            return detected
        locale_code = (locale or "")[:2].lower()
        if self.catalog.get(locale_code):
            return Resolution(locale_code, "locale")
        return Resolution(DEFAULT_LANGUAGE, "default")

    def _break_tie(self, tied: list[str], text: str, word_count: int) -> str:
        guess = self._langdetect(text, word_count)
        if guess in tied:
            return guess
        others = [code for code in tied if code != DEFAULT_LANGUAGE]
        return others[0] if others else tied[0]

    def _langdetect(self, text: str, word_count: int) -> Optional[str]:
        if word_count < LANGDETECT_MIN_WORDS:
            return None
        try:
            candidates = detect_langs(text)
        except LangDetectException:
            return None
        for candidate in candidates:
            code = candidate.lang.split("-")[0]
            if self.catalog.get(code) and candidate.prob >= LANGDETECT_MIN_PROBABILITY:
                return code
        return None


def _character_ngrams(text: str) -> list[str]:
    padded = f" {' '.join(WORD.findall(text.lower()))} "
    return [padded[i : i + n] for n in (1, 2, 3) for i in range(len(padded) - n + 1) if padded[i : i + n].strip()]


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _find_name(name: str, lowered: str, folded: str) -> int:
    """Position of a language name as whole words (or as a substring for Han script names)."""
    if SCRIPT_PATTERNS["han"].search(name) or SCRIPT_PATTERNS["hangul"].search(name):
        return lowered.rfind(name)
    pattern = re.compile(rf"(?<!\w){re.escape(_strip_accents(name))}(?!\w)")
    matches = list(pattern.finditer(folded))
    return matches[-1].start() if matches else -1
