"""Which language a patient writes in, robust to one- and two-word messages.

Signals, strongest first:

1. an explicit switch: a short message that asks for a language by name ("¿hablas
   español?", "in English please", "can we speak vietnamese", "说中文"); a message that only
   mentions one ("is there a chinese speaking doctor", "are french fries healthy") is not;
2. the script: Han, Hangul, Cyrillic, Arabic letters, or Vietnamese-only
   diacritics, which settle a message of any length;
3. the language's frequent words (``common_words`` in its YAML file), weighted: a word that
   is also English ("a", "may", "yo", "me") or frequent in several languages counts for a
   share only, and a Latin-script language other than English wins only with a word of its
   own (or a clear lead), so one ambiguous function word never outvotes English. English
   words are its ``common_words``, its NLU training data and ``en_lexicon.txt``. On a tie
   between English and another language, the other wins, since code-switching patients mix
   English words into their own language ("necesito un refill");
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
"""A message in Han script that names a language this short is a request for it."""
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
ENGLISH_LEXICON = Path(__file__).resolve().parent / "en_lexicon.txt"
UNACCENTED_VIETNAMESE_WEIGHT = 0.5
"""Vietnamese typed without diacritics is rare from patients; its bare syllables ("a", "la", "may")
are words of many languages, so they count for half."""
POLITE_WORDS = frozenset(
    [
        "please", "pls", "plz", "por", "favor", "porfa", "porfavor", "thanks", "gracias", "s'il", "vous", "plait",
        "plait", "po", "a", "nhe",
    ]
)
SWITCH_PREPOSITIONS = frozenset(["in", "en", "em", "sa", "into", "bang"])
"""Right before a language name, these ask for it: "in spanish please", "en español", "bằng tiếng Việt"."""
SPEAK_VERBS = frozenset(
    [
        "speak", "talk", "write", "chat", "text", "reply", "answer", "respond", "prefer", "switch", "habla",
        "hablas", "hablame", "hablen", "hablan", "hablamos", "hablar", "hable", "hableme", "prefiero", "cambiar",
        "cambia", "cambie", "parle", "parlez", "parler", "fala", "falar", "noi",
    ]
)
"""A verb before a language name asks for it when its subject is the bot or "we" ("do you speak korean")."""
SPEAK_SUBJECTS = frozenset(
    ["you", "u", "ya", "we", "please", "pls", "can", "could", "usted", "ud", "tu", "me", "to", "a"]
)
"""...and not when it is someone else ("does anyone speak tagalog", "i speak english but my dad...")."""
SWITCH_TAILS = frozenset(["duoc", "khong", "ok", "okay", "pls", "plz", "please", "por", "favor", "porfa", "porfavor"])
MAX_SWITCH_SENTENCE_WORDS = 12
NEUTRAL_WORDS = frozenset(["ok", "okay", "okey", "k", "kk", "lol", "haha", "jaja", "jajaja", "xd", "omg"])
"""Typed alike in every language: no evidence; the locale or the session decides them."""
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
        self._words = {language.code: language.common_words for language in catalog if language.code != "en"}
        other_words = frozenset().union(*self._words.values())
        english = catalog.get("en")
        nlu_english = {
            word.lower()
            for path in sorted((nlu_dir / "en").glob("*.yml"))
            for text, _ in nlu_examples(path)
            for word in WORD.findall(text)
        }
        self._words["en"] = (
            (english.common_words if english else frozenset())
            | english_lexicon()
            | (frozenset(nlu_english) - other_words)
        )

    def explicit_switch(self, text: str) -> Optional[str]:
        """The language a message asks for by name, if any (the last one asked for wins).

        Naming a language is a request for it when the message is little more than the name
        ("español?", "english please", "tiếng Việt được không"), when it follows "in"/"en"
        ("in Spanish please"), or when it follows a verb of speaking whose subject is the bot or
        "we" ("¿hablas español?", "do you speak korean", "can we speak vietnamese"). A mention is
        not a request: "is there a chinese speaking doctor", "my mom speaks only spanish".
        """
        lowered = text.lower()
        words = [_strip_accents(word) for word in WORD.findall(lowered)]
        if SCRIPT_PATTERNS["han"].search(text) and len(words) <= MAX_SWITCH_REQUEST_WORDS:
            han_names = [
                (lowered.rfind(name), language.code)
                for language in self.catalog
                for name in language.names
                if SCRIPT_PATTERNS["han"].search(name) and name in lowered
            ]
            if han_names:
                return max(han_names)[1]
        if len(words) > MAX_SWITCH_SENTENCE_WORDS:
            return None
        best: Optional[tuple[int, str]] = None
        for language in self.catalog:
            for name in language.names:
                name_words = [_strip_accents(word) for word in WORD.findall(name)]
                if not name_words or SCRIPT_PATTERNS["hangul"].search(name):
                    if name_words and name in lowered and len(words) <= MAX_SWITCH_REQUEST_WORDS:
                        best = max(best or (-1, ""), (lowered.rfind(name), language.code))
                    continue
                for start in _occurrences(name_words, words):
                    if _asks_for(words[:start], words[start + len(name_words):]):
                        best = max(best or (-1, ""), (start, language.code))
        return best[1] if best else None

    def detect(self, text: str) -> Optional[Resolution]:
        """The language of the message alone, or None when it gives no evidence."""
        for script, pattern in SCRIPT_PATTERNS.items():
            if script in self._by_script and pattern.search(text):
                return Resolution(self._by_script[script], "script")
        if VIETNAMESE_LETTERS.search(text) and self.catalog.get("vi"):
            return Resolution("vi", "script")
        words = [word.lower() for word in WORD.findall(text)]
        scores, own = self._word_scores([word for word in words if word not in NEUTRAL_WORDS])
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        if ranked and ranked[0][1] > 0:
            best_code, best_score = ranked[0]
            tied = [code for code, score in ranked if score >= best_score - 1e-9]
            if len(tied) > 1:
                best_code = self._break_tie(tied, text, len(words), own)
            english = scores.get(DEFAULT_LANGUAGE, 0.0)
            if best_code != DEFAULT_LANGUAGE and not own.get(best_code) and best_score < english + 1:
                # Only words other languages share ("a", "may", "yo", "la"): no evidence against English.
                best_code = DEFAULT_LANGUAGE if english > 0 else ""
            if best_code:
                best_score = scores[best_code]
                runner_up = max((score for code, score in ranked if code != best_code), default=0.0)
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

    def _word_scores(self, words: list[str]) -> tuple[dict[str, float], dict[str, int]]:
        """Each word's vote shared among the languages it is frequent in; and per language, its words
        that are not English."""
        scores: dict[str, float] = {}
        own: dict[str, int] = {}
        for word in words:
            owners = [code for code, common in self._words.items() if word in common]
            for code in owners:
                weight = 1 / len(owners)
                if code == "vi" and not VIETNAMESE_LETTERS.search(word):
                    weight *= UNACCENTED_VIETNAMESE_WEIGHT
                scores[code] = scores.get(code, 0.0) + weight
            if DEFAULT_LANGUAGE not in owners:
                for code in owners:
                    own[code] = own.get(code, 0) + 1
        return scores, own

    def _break_tie(self, tied: list[str], text: str, word_count: int, own: dict[str, int]) -> str:
        guess = self._langdetect(text, word_count)
        if guess in tied:
            return guess
        others = sorted(
            (code for code in tied if code != DEFAULT_LANGUAGE and own.get(code)),
            key=lambda code: (-own[code], not self.catalog.has_bot(code)),
        )
        return others[0] if others else (DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in tied else tied[0])

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


def english_lexicon(path: Path = ENGLISH_LEXICON) -> frozenset[str]:
    """Frequent English words, one a line (``#`` starts a comment)."""
    return frozenset(
        line.strip().lower()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


def _character_ngrams(text: str) -> list[str]:
    padded = f" {' '.join(WORD.findall(text.lower()))} "
    return [padded[i : i + n] for n in (1, 2, 3) for i in range(len(padded) - n + 1) if padded[i : i + n].strip()]


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _occurrences(needle: list[str], words: list[str]) -> list[int]:
    return [i for i in range(len(words) - len(needle) + 1) if words[i : i + len(needle)] == needle]


def _asks_for(before: list[str], after: list[str]) -> bool:
    """Whether a language name between these words asks for the language (see ``explicit_switch``)."""
    if not [word for word in before + after if word not in POLITE_WORDS]:
        return True
    if not before:
        return all(word in SWITCH_TAILS or word in POLITE_WORDS for word in after)
    previous = before[-1]
    if previous in SWITCH_PREPOSITIONS:
        return True
    if previous == "a" and len(before) >= 2 and before[-2] in SPEAK_VERBS:
        return True  # "cambiar a español"
    if previous in SPEAK_VERBS:
        subject = before[-2] if len(before) >= 2 else ""
        return subject == "" or subject in SPEAK_SUBJECTS or subject in SPEAK_VERBS
    return False
