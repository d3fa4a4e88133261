"""Crisis-language screen run on every patient message.

Design:

* All languages share one normalisation (:mod:`screening.normalise`); the
  normalised text is tokenised by each language's blank spaCy tokenizer
  (no pipeline components) and run through one ``Matcher`` per language
  built from ``screening/patterns/<lang>.yml``.
* A cheap prefilter (one regular expression of anchor strings per language)
  skips tokenisation entirely for the vast majority of messages.
* Languages screened: the requested one, then always English and Spanish
  (patients code-switch), and every language when the requested one is not
  supported (a wrong language guess must never hide a crisis).
* Negation rule: patterns are either *absolute* or *negatable*. Absolute
  patterns carry their own negation or cannot be negated (``dont want to
  live``, ``cant go on``, ``no quiero vivir``, ``not breathing``,
  ``不想活``). A negatable match (``suicidal``, ``kill myself``, ``chest
  pain``) is dropped only when a negation cue (``not``, ``never``, ``no``,
  ``dont`` ...) occurs within ``window`` tokens before it in the same clause
  (punctuation and words such as ``but`` end the clause), and that cue does
  not start a pseudo-negation (``not sure``, ``never felt``). ``cant`` is
  deliberately not a cue (``I can't stop thinking about killing myself``).
* Exclusions (idioms, informational and third-party uses) suppress any hit
  they overlap: ``dying to`` cancels ``im dying``, ``想死你`` cancels ``想死``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from screening.normalise import Normaliser
from screening.patterns import (
    ANY,
    END,
    GAP,
    NUMBER,
    PATTERN_DIR,
    SPECIALS,
    Element,
    NegationRules,
    PatternFile,
    PatternFileError,
    discover_pattern_files,
    iter_expanded,
)

_EXCLUSION_KEY = "exclusion"
_END_SENTINEL = " ."
_NUMBER_REGEX = r"^[1-9][0-9]{1,2}$"
_SPECIAL_SPECS: dict[str, Callable[[int], list[dict[str, Any]]]] = {
    GAP: lambda gap: [{"IS_PUNCT": False, "IS_SPACE": False, "OP": "?"} for _ in range(gap)],
    ANY: lambda _gap: [{"IS_PUNCT": False, "IS_SPACE": False}],
    END: lambda _gap: [{"IS_PUNCT": True}],
    NUMBER: lambda _gap: [{"TEXT": {"REGEX": _NUMBER_REGEX}}],
}


class CrisisCategory(str, Enum):
    """What kind of crisis a message indicates."""

    SUICIDE_SELF_HARM = "suicide_self_harm"
    OVERDOSE_POISONING = "overdose_poisoning"
    MEDICAL_EMERGENCY = "medical_emergency"
    VIOLENCE_ABUSE = "violence_abuse"


@dataclass(frozen=True)
class CrisisFinding:
    """A crisis detected in a message.

    Attributes:
        category: The crisis category.
        evidence: The matched span, copied verbatim from the original text.
        language: The language whose patterns matched (which may differ from
            the language the message was screened as).
    """

    category: CrisisCategory
    evidence: str
    language: str


@dataclass(frozen=True)
class _Rule:
    category: CrisisCategory
    negatable: bool


class _LanguageScreen:
    """One language's tokenizer, matcher, prefilter and negation rules."""

    def __init__(self, pattern_file: PatternFile, normaliser: Normaliser) -> None:
        self.language = pattern_file.language
        self._normaliser = normaliser
        self._gap = pattern_file.gap
        self._nlp = _blank_pipeline(pattern_file.spacy_lang)
        self._apply_spelling(pattern_file.spelling)
        self._negation = self._negation_rules(pattern_file.negation)
        self._rules: dict[int, _Rule] = {}
        self._literal_cache: dict[str, tuple[str, ...]] = {}
        self._matchers: list[Matcher] = []
        self._anchor_index: dict[str, list[int]] = {}
        matcher_ids: dict[frozenset[str], int] = {}
        for name, groups in pattern_file.categories.items():
            for kind in ("negatable", "absolute"):
                key = f"{name}:{kind}"
                self._rules[self._nlp.vocab.strings.add(key)] = _Rule(
                    CrisisCategory(name), kind == "negatable"
                )
                for anchor_group, specs in self._compile(groups[kind], pattern_file.macros):
                    if anchor_group not in matcher_ids:
                        matcher_ids[anchor_group] = len(self._matchers)
                        self._matchers.append(Matcher(self._nlp.vocab))
                        for anchor in anchor_group:
                            self._anchor_index.setdefault(anchor, []).append(matcher_ids[anchor_group])
                    self._matchers[matcher_ids[anchor_group]].add(key, [specs])
        self._exclusions = Matcher(self._nlp.vocab)
        exclusions = [specs for _, specs in self._compile(pattern_file.exclusions, pattern_file.macros)]
        if exclusions:
            self._exclusions.add(_EXCLUSION_KEY, exclusions)
        surface_forms = set(self._anchor_index)
        surface_forms |= {
            variant for variant, canonical in self._spelling.items() if canonical in surface_forms
        }
        self._prefilter = re.compile(
            "|".join(re.escape(a) for a in sorted(surface_forms, key=len, reverse=True))
        )

    def _apply_spelling(self, spelling: dict[str, str]) -> None:
        self._spelling: dict[str, str] = {}
        for variant, canonical in spelling.items():
            variant_norm = self._normaliser.normalise(variant)
            canonical_norm = self._normaliser.normalise(canonical)
            if len(self._nlp.make_doc(variant_norm)) != 1:
                raise PatternFileError(f"{self.language}: spelling variant {variant!r} must be one token")
            self._nlp.vocab[variant_norm].norm_ = canonical_norm
            self._spelling[variant_norm] = canonical_norm

    def _negation_rules(self, data: dict[str, object]) -> NegationRules:
        def norms(items: object) -> list[tuple[str, ...]]:
            phrases = items if isinstance(items, list) else []
            if not all(isinstance(phrase, str) for phrase in phrases):
                raise PatternFileError(
                    f"{self.language}: negation entries must be quoted strings ({phrases})"
                )
            docs = (self._nlp.make_doc(self._normaliser.normalise(phrase)) for phrase in phrases)
            return [tuple(t.norm_ for t in doc if not t.is_space) for doc in docs]

        window = data.get("window", 3)
        return NegationRules(
            window=window if isinstance(window, int) else 3,
            cues=frozenset(n for phrase in norms(data.get("cues")) for n in phrase),
            pseudo=tuple(norms(data.get("pseudo"))),
            breaks=frozenset(n for phrase in norms(data.get("breaks")) for n in phrase),
        )

    def _compile(
        self, patterns: list[str], macros: dict[str, str]
    ) -> list[tuple[frozenset[str], list[dict[str, Any]]]]:
        """Turn DSL patterns into Matcher token patterns with their anchors.

        A pattern's anchor group is its most selective mandatory element: the
        token norms of which one must occur in any text the pattern matches.
        Only the matchers of anchors present in a message are run.
        """
        compiled: list[tuple[frozenset[str], list[dict[str, Any]]]] = []
        for sequence in iter_expanded(patterns, macros):
            if sequence and (sequence[0] == (GAP,) or sequence[-1] == (GAP,)):
                raise PatternFileError(f"{self.language}: pattern {sequence!r} starts or ends with a gap")
            positions: list[list[list[dict[str, Any]]]] = []
            anchor_groups: list[frozenset[str]] = []
            for element in sequence:
                options, anchor_group = self._element_specs(element)
                positions.append(options)
                if anchor_group:
                    anchor_groups.append(anchor_group)
            if not anchor_groups:
                raise PatternFileError(f"{self.language}: pattern {sequence!r} has no mandatory word")
            anchor_group = max(anchor_groups, key=lambda group: min(map(len, group)))
            for combination in itertools.product(*positions):
                compiled.append((anchor_group, [spec for part in combination for spec in part]))
        return compiled

    def _element_specs(self, element: Element) -> tuple[list[list[dict[str, Any]]], frozenset[str] | None]:
        """Token-spec options for one pattern element and its anchor group."""
        if len(element) == 1 and element[0] in SPECIALS:
            return [_SPECIAL_SPECS[element[0]](self._gap)], None
        optional = "" in element
        alternatives = [self._literal_norms(word) for word in element if word]
        if all(len(norms) == 1 for norms in alternatives):
            choices = sorted({norms[0] for norms in alternatives})
            spec: dict[str, Any] = {"NORM": choices[0] if len(choices) == 1 else {"IN": choices}}
            if optional:
                spec["OP"] = "?"
            return [[spec]], None if optional else frozenset(choices)
        options = [[{"NORM": norm} for norm in norms] for norms in alternatives]
        if optional:
            options.append([])
        return options, None if optional else frozenset(max(norms, key=len) for norms in alternatives)

    def _literal_norms(self, word: str) -> tuple[str, ...]:
        norms = self._literal_cache.get(word)
        if norms is None:
            doc = self._nlp.make_doc(self._normaliser.normalise(word))
            norms = tuple(token.norm_ for token in doc if not token.is_space)
            if not norms:
                raise PatternFileError(f"{self.language}: literal {word!r} is empty once normalised")
            self._literal_cache[word] = norms
        return norms

    def find(self, normalised: str) -> tuple[int, int, CrisisCategory] | None:
        """Find the first non-negated, non-excluded crisis match.

        Args:
            normalised: The message after :meth:`Normaliser.normalise`.

        Returns:
            ``(start, end, category)`` with character offsets into
            ``normalised``, or ``None``.
        """
        if not self._prefilter.search(normalised):
            return None
        doc = self._nlp.make_doc(normalised + _END_SENTINEL)
        matcher_ids = {index for token in doc for index in self._anchor_index.get(token.norm_, ())}
        hits: list[tuple[int, int, CrisisCategory, bool]] = []
        for index in matcher_ids:
            for match_id, start, end in self._matchers[index](doc):
                rule = self._rules[match_id]
                hits.append((start, -end, rule.category, rule.negatable))
        if not hits:
            return None
        excluded = {i for _, start, end in self._exclusions(doc) for i in range(start, end)}
        for start, negative_end, category, negatable in sorted(hits):
            end = -negative_end
            if excluded.intersection(range(start, end)):
                continue
            if negatable and self._negated(doc, start):
                continue
            while doc[end - 1].is_punct and end - 1 > start:
                end -= 1
            return doc[start].idx, doc[end - 1].idx + len(doc[end - 1]), category
        return None

    def _negated(self, doc: Doc, start: int) -> bool:
        """Whether a negation cue governs the match starting at token ``start``."""
        rules = self._negation
        for index in range(start - 1, max(start - 1 - rules.window, -1), -1):
            token = doc[index]
            if token.is_punct or token.norm_ in rules.breaks:
                return False
            if token.norm_ in rules.cues:
                following = tuple(t.norm_ for t in doc[index : index + 4])
                return not any(following[: len(p)] == p for p in rules.pseudo)
        return False


def _blank_pipeline(lang: str) -> Language:
    """A blank spaCy pipeline whose tokenizer has no special-case rules.

    Special cases (``dont`` -> ``do nt``, ``cannot`` -> ``can not``) are
    written for raw text; the screen tokenises already-normalised text and
    its patterns are tokenised the same way, so they are switched off.
    """
    nlp = spacy.blank(lang)
    if isinstance(nlp.tokenizer, Tokenizer):
        nlp.tokenizer.rules = {}
    return nlp


def _base_language(code: str) -> str:
    return code.strip().lower().replace("_", "-").split("-", 1)[0]


class CrisisScreen:
    """Screens patient messages for crisis language in several languages.

    Construct once (loading is eager and takes about a second), then call
    :meth:`screen` for every message. Instances are not mutated by
    :meth:`screen`.
    """

    def __init__(self, pattern_dir: Path = PATTERN_DIR, always: Iterable[str] = ("en", "es")) -> None:
        """Load every pattern file and build the per-language matchers.

        Args:
            pattern_dir: Directory holding ``<lang>.yml`` pattern files.
            always: Languages screened on every message, whatever its
                language (patients code-switch).

        Raises:
            PatternFileError: If a pattern file is malformed.
        """
        files = discover_pattern_files(pattern_dir)
        if not files:
            raise PatternFileError(f"no pattern files in {pattern_dir}")
        char_map: dict[str, str] = {}
        for pattern_file in files.values():
            char_map.update(pattern_file.char_map)
        self._normaliser = Normaliser(char_map)
        self._screens = {
            lang: _LanguageScreen(pattern_file, self._normaliser) for lang, pattern_file in files.items()
        }
        always_screened = tuple(lang for lang in always if lang in self._screens)
        self._orders = {lang: tuple(dict.fromkeys((lang, *always_screened))) for lang in self._screens}
        self._all_languages = tuple(dict.fromkeys((*always_screened, *self._screens)))

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with a pattern file, e.g. ``("en", "es", "vi", "zh")``."""
        return tuple(self._screens)

    def screen(self, text: str, language: str) -> CrisisFinding | None:
        """Screen one message.

        Args:
            text: The patient's message, as typed.
            language: Its detected or chosen language (``"es"``, ``"zh-TW"``
                ...); unknown or unsupported codes screen with every
                language's patterns.

        Returns:
            The first crisis found, or ``None``.
        """
        normalised = self._normaliser.normalise(text)
        if not normalised:
            return None
        for lang in self._orders.get(_base_language(language), self._all_languages):
            hit = self._screens[lang].find(normalised)
            if hit is not None:
                start, end, category = hit
                _, starts, ends = self._normaliser.normalise_with_offsets(text)
                return CrisisFinding(category, text[starts[start] : ends[end - 1]], lang)
        return None
