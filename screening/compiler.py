"""Compiling one language's pattern file into spaCy Matcher patterns.

:class:`PatternCompiler` holds what turning the DSL of
``screening/patterns/<lang>.yml`` (see :mod:`screening.patterns`) into token
patterns needs: the language's blank tokenizer and vocabulary, the shared
normaliser, the filler/contraction rewriter, spelling variants and clitic
prefixes (both set as lexeme norms, so a message and a pattern literal
normalise alike), and the negation rules. :meth:`PatternCompiler.compiled`
turns a file into plain data (:class:`screening.compiled.CompiledLanguage`:
token patterns grouped by anchor word, the norms to set, reach, prefilter
words), which :mod:`screening.compiled` caches and :class:`screening.language.
LanguageScreen` screens with. Only compiling needs this module (and spaCy at
once); a cached screen never imports it.

Compiled-pattern count is what costs: a Matcher tests every pattern at every
token of a span, and an ``IN`` set is a Python call per token. So
alternatives of several words are factorised into products of per-position
sets (:func:`factorise`), and small first-position sets are split into plain
comparisons (:func:`plain_first`).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Callable, Iterable

from screening.categories import CrisisCategory
from screening.compiled import CompiledGroup, CompiledLanguage, CompiledScreen
from screening.normalise import Normaliser
from screening.patterns import (
    ANY,
    DIGIT,
    END,
    GAP,
    NUMBER,
    SPECIALS,
    Element,
    NegationRules,
    PatternFile,
    PatternFileError,
    discover_pattern_files,
    iter_expanded,
)
from screening.spacy_api import blank_pipeline
from screening.textscan import LETTER_RUN, Rewriter, WindowCutter

_NUMBER_REGEX = r"^[1-9][0-9]{1,2}$"
_SPECIAL_SPECS: dict[str, Callable[[int], list[dict[str, Any]]]] = {
    GAP: lambda gap: [{"IS_PUNCT": False, "IS_SPACE": False, "OP": "?"} for _ in range(gap)],
    ANY: lambda _gap: [{"IS_PUNCT": False, "IS_SPACE": False}],
    END: lambda _gap: [{"IS_PUNCT": True}],
    NUMBER: lambda _gap: [{"TEXT": {"REGEX": _NUMBER_REGEX}}],
    DIGIT: lambda _gap: [{"IS_DIGIT": True}],
}
_MAX_SPLIT_SET = 3

EXCLUSION_KEY = "exclusion"


class PatternCompiler:
    """Tokenizer, vocabulary and literal normalisation of one language's patterns."""

    def __init__(self, pattern_file: PatternFile, normaliser: Normaliser) -> None:
        self.language = pattern_file.language
        self._normaliser = normaliser
        self._gap = pattern_file.gap
        self._nlp = blank_pipeline(pattern_file.spacy_lang)
        self._characters = len(self._nlp.make_doc("ab")) == 2
        self._fillers = [normaliser.normalise(w) for w in pattern_file.fillers]
        self._joins = [normaliser.normalise(j) for j in pattern_file.joins]
        self._rewriter = Rewriter(self._fillers, self._joins)
        self._norms: list[tuple[str, str]] = []
        self._clitic_variants: dict[str, str] = {}
        self._literal_cache: dict[str, tuple[str, ...]] = {}
        self._common: frozenset[str] = frozenset()
        self._apply_spelling(pattern_file.spelling)
        self._apply_clitics(pattern_file)
        self._negation = self._negation_rules(pattern_file.negation)
        self._common = frozenset(n for word in pattern_file.common_words for n in self._literal_norms(word))

    def _apply_spelling(self, spelling: dict[str, str]) -> None:
        self._spelling: dict[str, str] = {}
        for variant, canonical in spelling.items():
            variant_norm = self._normaliser.normalise(variant)
            canonical_norm = self._normaliser.normalise(canonical)
            if len(self._nlp.make_doc(variant_norm)) != 1:
                raise PatternFileError(f"{self.language}: spelling variant {variant!r} must be one token")
            self._set_norm(variant_norm, canonical_norm)
            self._spelling[variant_norm] = canonical_norm

    def _apply_clitics(self, pattern_file: PatternFile) -> None:
        """Let prefixed forms of every pattern word match the bare word.

        Arabic writes conjunctions, prepositions and the article onto the
        word (``والانتحار`` = and + the + suicide). Every word used in a
        pattern, exclusion or negation cue is reduced to its barest form
        that is also such a word (``بالانتحار`` -> ``انتحار``), and every
        prefix + bare word gets the bare word as its norm, in patterns and
        messages alike. Words shorter than ``min_length`` are never a bare
        form (``ولا`` is not و + لا), and spelling variants are left alone.
        """
        if not pattern_file.clitic_prefixes:
            return
        patterns = [p for groups in pattern_file.categories.values() for ps in groups.values() for p in ps]
        patterns += pattern_file.exclusions
        words: set[str] = set()
        for sequence in iter_expanded(patterns, pattern_file.macros):
            for element in sequence:
                words.update(w for w in element if w and w not in SPECIALS)
        for key in ("cues", "pseudo"):
            words.update(str(w) for w in pattern_file.negation.get(key) or [])
        norms = {norm for word in words for norm in self._literal_norms(word)}
        prefixes = sorted({self._normaliser.normalise(p) for p in pattern_file.clitic_prefixes}, key=len)
        minimum = pattern_file.clitic_min_length

        def bare(word: str) -> str:
            for prefix in prefixes:
                rest = word[len(prefix) :]
                if word.startswith(prefix) and len(rest) >= minimum and rest in norms:
                    return bare(rest)
            return word

        bases = {norm: bare(norm) for norm in norms if norm not in self._spelling}
        for norm, base in bases.items():
            if base != norm:
                self._set_norm(norm, base)
                self._clitic_variants[norm] = base
        for base in set(bases.values()):
            if len(base) < minimum:
                continue
            for prefix in prefixes:
                variant = prefix + base
                if variant not in bases and variant not in self._spelling:
                    self._set_norm(variant, base)
                    self._clitic_variants[variant] = base
        self._literal_cache.clear()

    def _set_norm(self, word: str, norm: str) -> None:
        """Give a word a norm, here and (through the compiled ``norms``) in the screening vocabulary."""
        self._nlp.vocab[word].norm_ = norm
        self._norms.append((word, norm))

    def _negation_rules(self, data: dict[str, object]) -> NegationRules:
        def norms(items: object) -> list[tuple[str, ...]]:
            phrases = items if isinstance(items, list) else []
            if not all(isinstance(phrase, str) for phrase in phrases):
                raise PatternFileError(f"{self.language}: negation entries must be quoted strings ({phrases})")
            return [self._literal_norms(phrase) for phrase in phrases]

        window = data.get("window", 3)
        cues = frozenset(n for phrase in norms(data.get("cues")) for n in phrase)
        for phrase in norms(data.get("pseudo")):
            if len(phrase) == 1 and phrase[0] in cues:
                raise PatternFileError(f"{self.language}: pseudo-negation {phrase} is a bare cue (a filler dropped?)")
        return NegationRules(
            window=window if isinstance(window, int) else 3,
            cues=cues,
            pseudo=tuple(p for p in norms(data.get("pseudo")) if p),
            breaks=frozenset(n for phrase in norms(data.get("breaks")) for n in phrase),
        )

    def _compile(
        self, patterns: list[str], macros: dict[str, str]
    ) -> list[tuple[frozenset[str], list[dict[str, Any]], int, int, set[str] | None]]:
        """Turn DSL patterns into Matcher token patterns with anchors and reach.

        A pattern's anchor group is its most selective mandatory element: the
        token norms of which one must occur in any text the pattern matches.
        Only the matchers of anchors present in a message are run, each on a
        span from ``before`` tokens before an anchor to ``after`` tokens
        after it (the most the pattern can extend on either side), and only
        if a word of the pattern's next most selective element (its
        companions) is in that span too.
        """
        compiled: list[tuple[frozenset[str], list[dict[str, Any]], int, int, set[str] | None]] = []
        for sequence in iter_expanded(patterns, macros):
            if sequence and (sequence[0] == (GAP,) or sequence[-1] == (GAP,)):
                raise PatternFileError(f"{self.language}: pattern {sequence!r} starts or ends with a gap")
            positions: list[list[list[dict[str, Any]]]] = []
            anchors: list[tuple[frozenset[str], int]] = []
            lengths: list[int] = []
            for index, element in enumerate(sequence):
                options, anchor_group = self._element_specs(element)
                positions.append(options)
                lengths.append(max(len(option) for option in options))
                if anchor_group:
                    anchors.append((anchor_group, index))
            if not anchors:
                raise PatternFileError(f"{self.language}: pattern {sequence!r} has no mandatory word")
            anchor_group, at = max(anchors, key=self._anchor_score)
            before = sum(lengths[:at]) + lengths[at] - 1
            after = lengths[at] - 1 + sum(lengths[at + 1 :])
            others = [anchor for anchor in anchors if anchor[1] != at]
            companions = set(max(others, key=self._anchor_score)[0]) if others else None
            for combination in itertools.product(*positions):
                specs = [spec for part in combination for spec in part]
                compiled.extend((anchor_group, plain, before, after, companions) for plain in plain_first(specs))
        return compiled

    def _anchor_score(self, anchor: tuple[frozenset[str], int]) -> int:
        """How selective an element is as an anchor: its shortest word's length,
        0 if it can be a common word (every occurrence costs a Matcher call)."""
        words = anchor[0]
        return 0 if words & self._common else min(map(len, words))

    def _element_specs(self, element: Element) -> tuple[list[list[dict[str, Any]]], frozenset[str] | None]:
        """Token-spec options for one pattern element and its anchor group."""
        if len(element) == 1 and element[0] in SPECIALS:
            return [_SPECIAL_SPECS[element[0]](self._gap)], None
        alternatives = [self._literal_norms(word) for word in element if word]
        # a literal made only of filler words is deleted like the fillers are
        optional = "" in element or any(not norms for norms in alternatives)
        alternatives = [norms for norms in alternatives if norms]
        if not alternatives:
            return [[]], None
        if all(len(norms) == 1 for norms in alternatives):
            choices = sorted({norms[0] for norms in alternatives})
            spec: dict[str, Any] = {"NORM": choices[0] if len(choices) == 1 else {"IN": choices}}
            if optional:
                spec["OP"] = "?"
            return [[spec]], None if optional else frozenset(choices)
        options = [
            [{"NORM": next(iter(words))} if len(words) == 1 else {"NORM": {"IN": sorted(words)}} for words in box]
            for box in factorise(alternatives)
        ]
        if optional:
            options.append([])
        return options, None if optional else frozenset(max(norms, key=len) for norms in alternatives)

    def _literal_norms(self, word: str) -> tuple[str, ...]:
        norms = self._literal_cache.get(word)
        if norms is None:
            text = self._rewriter.rewrite(self._normaliser.normalise(word)).text
            doc = self._nlp.make_doc(text)
            norms = tuple(token.norm_ for token in doc if not token.is_space)
            if not norms and not self._normaliser.normalise(word):
                raise PatternFileError(f"{self.language}: literal {word!r} is empty once normalised")
            self._literal_cache[word] = norms
        return norms


    def compiled(self, pattern_file: PatternFile) -> CompiledLanguage:
        """The language's screen as plain data: matcher groups indexed by anchor word, reach, prefilter words."""
        rules: list[tuple[str, str, bool]] = []
        groups: list[CompiledGroup] = []
        anchors: dict[str, list[int]] = {}
        group_ids: dict[frozenset[str], int] = {}
        longest = 0
        for name, by_kind in pattern_file.categories.items():
            category = CrisisCategory(name)
            for kind in ("negatable", "absolute"):
                key = f"{name}:{kind}"
                rules.append((key, category.value, kind == "negatable"))
                for anchor_group, specs, before, after, companions in self._compile(by_kind[kind], pattern_file.macros):
                    _group_for(anchor_group, groups, group_ids, anchors).add(key, specs, (before, after), companions)
                    longest = max(longest, before + after + 1)
        exclusion_groups: list[CompiledGroup] = []
        exclusion_anchors: dict[str, list[int]] = {}
        exclusion_ids: dict[frozenset[str], int] = {}
        compiled = self._compile(pattern_file.exclusions, pattern_file.macros)
        for anchor_group, specs, before, after, companions in compiled:
            _group_for(anchor_group, exclusion_groups, exclusion_ids, exclusion_anchors).add(
                EXCLUSION_KEY, specs, (before, after), companions
            )
        exclusion_reach = max((b + a + 1 for _, _, b, a, _ in compiled), default=0)
        pseudo_length = max((len(p) for p in self._negation.pseudo), default=0)
        # how far around a hit of each anchor word a window must reach: its groups'
        # reach, then exclusions around the match and the negation look-back
        margin = exclusion_reach + self._negation.window + pseudo_length + 2
        reach: dict[str, tuple[int, int]] = {}
        for anchor, ids in anchors.items():
            before = max(groups[i].before for i in ids) + margin
            after = max(groups[i].after for i in ids) + exclusion_reach + 2
            reach[anchor] = (before, after)
        window_reach = longest + margin
        default_reach = WindowCutter(window_reach, self._characters).reach
        surface_forms = set(anchors)
        surface_forms |= {variant for variant, canonical in self._spelling.items() if canonical in surface_forms}
        surface_forms |= {variant for variant, base in self._clitic_variants.items() if base in surface_forms}
        for variant in sorted(surface_forms - set(reach)):
            canonical = self._spelling.get(variant) or self._clitic_variants.get(variant, variant)
            reach[variant] = reach.get(canonical, default_reach)
        # space-delimited scripts: anchor words that are letter runs are found in the
        # message's TextIndex; the rest (and character-segmented scripts) by regex
        word_anchors = set() if self._characters else {form for form in surface_forms if LETTER_RUN.fullmatch(form)}
        return CompiledLanguage(
            language=self.language,
            spacy_lang=pattern_file.spacy_lang,
            characters=self._characters,
            norms=list(self._norms),
            rules=rules,
            groups=groups,
            anchors=anchors,
            exclusion_groups=exclusion_groups,
            exclusion_anchors=exclusion_anchors,
            exclusion_reach=exclusion_reach,
            reach=reach,
            window_reach=window_reach,
            word_anchors=sorted(word_anchors),
            prefilter_words=sorted(surface_forms - word_anchors),
            prefilter_left_boundary=not self._characters and not pattern_file.clitic_prefixes,
            fillers=self._fillers,
            joins=self._joins,
            negation=self._negation,
        )


def _group_for(
    anchor_group: frozenset[str],
    groups: list[CompiledGroup],
    group_ids: dict[frozenset[str], int],
    anchors: dict[str, list[int]],
) -> CompiledGroup:
    """The group of ``anchor_group``, created (and indexed by each anchor word) on first use."""
    if anchor_group not in group_ids:
        group_ids[anchor_group] = len(groups)
        groups.append(CompiledGroup())
        for anchor in anchor_group:
            anchors.setdefault(anchor, []).append(group_ids[anchor_group])
    return groups[group_ids[anchor_group]]


def compile_screen(pattern_dir: Path) -> CompiledScreen:
    """Compile every pattern file of ``pattern_dir`` (see :func:`screening.compiled.load_compiled`)."""
    files = discover_pattern_files(pattern_dir)
    char_map: dict[str, str] = {}
    for pattern_file in files.values():
        char_map.update(pattern_file.char_map)
    normaliser = Normaliser(char_map)
    return CompiledScreen(
        char_map, [PatternCompiler(pattern_file, normaliser).compiled(pattern_file) for pattern_file in files.values()]
    )


def factorise(sequences: Iterable[tuple[str, ...]]) -> list[tuple[frozenset[str], ...]]:
    """Cover token sequences exactly with few products of per-position sets.

    ``("几","十"), ("二","十"), ("三","十")`` becomes ``({"几","二","三"}, {"十"})``:
    one Matcher pattern instead of three. Two boxes of the same length merge
    when they agree on every position but one, so the union is exact. The
    Matcher's cost grows with the number of patterns, and pattern expansion
    multiplies the alternatives of every element.
    """
    by_length: dict[int, list[tuple[frozenset[str], ...]]] = {}
    for sequence in dict.fromkeys(sequences):
        by_length.setdefault(len(sequence), []).append(tuple(frozenset([w]) for w in sequence))
    result: list[tuple[frozenset[str], ...]] = []
    for length, boxes in sorted(by_length.items()):
        changed = True
        while changed:
            changed = False
            for position in range(length):
                merged: dict[tuple[frozenset[str], ...], set[str]] = {}
                for box in boxes:
                    merged.setdefault(box[:position] + box[position + 1 :], set()).update(box[position])
                if len(merged) < len(boxes):
                    changed = True
                    boxes = [(*rest[:position], frozenset(words), *rest[position:]) for rest, words in merged.items()]
        result.extend(boxes)
    return result


def plain_first(specs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Equivalent patterns whose first token spec is a plain comparison.

    The Matcher tests the first spec of every pattern at every token; a
    ``{"NORM": "x"}`` test is done in C, an ``{"IN": [...]}`` test is a
    Python call (about 20 times dearer). Small first-position sets are
    therefore split into one pattern per word, and an optional first spec
    into the patterns with and without it.
    """
    if not specs:
        return []
    first, rest = specs[0], specs[1:]
    norm = first.get("NORM")
    words = norm.get("IN") if isinstance(norm, dict) else None
    optional = first.get("OP") == "?"
    if words is None or len(words) > _MAX_SPLIT_SET:
        if not optional or "NORM" not in first:
            return [specs]
        return [[{"NORM": norm}, *rest], *plain_first(rest)]
    split = [[{"NORM": word}, *rest] for word in words]
    return [*split, *plain_first(rest)] if optional else split
