"""One language's part of the crisis screen (see :mod:`screening.crisis`).

A :class:`LanguageScreen` is built from the compiled patterns of
``screening/patterns/<lang>.yml`` (:class:`screening.compiled.CompiledLanguage`):
its prefilter, negation rules and windows need no spaCy; its blank spaCy
tokenizer and ``Matcher`` groups (:class:`_Tokenising`) are built when first
needed. :meth:`LanguageScreen.find` costs, per message:

1. rewriting (fillers and contractions, :class:`screening.textscan.Rewriter`)
   and one prefilter search; most messages stop here;
2. for a long message, cutting the windows around prefilter hits
   (:class:`screening.textscan.WindowCutter`); only those are tokenised;
3. for each anchor word found, running that anchor's matcher on a span just
   wide enough for its patterns (a spaCy ``Matcher`` call costs about a
   microsecond per token, so running a few hundred matchers over a whole 4 KB
   message cost over 100 ms);
4. for a match, exclusions on a span around it, then the negation look-back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import numpy

from screening.categories import CrisisCategory
from screening.compiled import CompiledGroup, CompiledLanguage
from screening.textscan import Rewriter, Rewritten, TextIndex, WindowCutter, trie_regex

if TYPE_CHECKING:
    from spacy.matcher import Matcher
    from spacy.strings import StringStore
    from spacy.tokens import Doc, Span
    from spacy.vocab import Vocab

_END_SENTINEL = " ."
SHORT_TEXT = 512
"""Texts up to this many characters are tokenised whole, without windows."""

Hit = tuple[int, int, CrisisCategory]


@dataclass(frozen=True)
class _Rule:
    category: CrisisCategory
    negatable: bool


class _Group:
    """One anchor group's Matcher, built the first time a message holds one of its anchors.

    Most groups never run in a process's life; adding their patterns to a Matcher
    up front cost a second or more at start-up.
    """

    def __init__(self, compiled: CompiledGroup, vocab: Vocab) -> None:
        self.before, self.after = compiled.before, compiled.after
        strings: StringStore = vocab.strings
        self.companions = None if compiled.companions is None else {strings.add(w) for w in compiled.companions}
        self._compiled = compiled
        self._vocab = vocab
        self._matcher: Matcher | None = None

    def matches(self, span: Span) -> list[tuple[int, int, int]]:
        if self._matcher is None:
            from screening.spacy_api import Matcher

            matcher = Matcher(self._vocab, validate=False)
            for key, specs in self._compiled.token_patterns():
                matcher.add(key, [specs])
            self._matcher = matcher
        found: list[tuple[int, int, int]] = self._matcher(span)
        return found


class _Tokenising:
    """The spaCy half of a language's screen: tokenizer, vocabulary norms, matcher groups."""

    def __init__(self, compiled: CompiledLanguage) -> None:
        from screening.spacy_api import NORM, blank_pipeline

        self.norm = NORM
        self.nlp = blank_pipeline(compiled.spacy_lang)
        vocab = self.nlp.vocab
        for word, norm in compiled.norms:
            vocab[word].norm_ = norm
        strings = vocab.strings
        self.rules = {strings.add(key): _Rule(CrisisCategory(category), negatable)
                      for key, category, negatable in compiled.rules}
        self.groups = [_Group(group, vocab) for group in compiled.groups]
        self.anchor_index = {strings.add(anchor): tuple(ids) for anchor, ids in compiled.anchors.items()}
        self.anchor_hashes = numpy.array(sorted(self.anchor_index), dtype="uint64")
        self.exclusion_groups = [_Group(group, vocab) for group in compiled.exclusion_groups]
        self.exclusion_index = {strings.add(anchor): tuple(ids) for anchor, ids in compiled.exclusion_anchors.items()}
        self.exclusion_hashes = numpy.array(sorted(self.exclusion_index), dtype="uint64")


class LanguageScreen:
    """One language's prefilter, matchers, exclusions and negation rules, from its compiled patterns.

    The prefilter needs no spaCy; the tokenizer and matchers (:class:`_Tokenising`) are
    built by :meth:`prepare` (the screen calls it in a background thread at start-up) or,
    failing that, by the first message that needs them. One lock per language guards
    building and using them: spaCy's vocabulary is not meant to be changed (a lazily
    built Matcher adds strings) while another thread tokenises with it.
    """

    def __init__(self, compiled: CompiledLanguage) -> None:
        self.language = compiled.language
        self._compiled = compiled
        self._characters = compiled.characters
        self._rewriter = Rewriter(compiled.fillers, compiled.joins)
        self._fillers = frozenset(compiled.fillers)
        self._joins = tuple(tuple(join.split(" ", 1)) for join in compiled.joins)
        self._negation = compiled.negation
        self._pseudo_by_cue: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for phrase in self._negation.pseudo:
            for offset, norm in enumerate(phrase):
                if norm in self._negation.cues:
                    self._pseudo_by_cue.setdefault(norm, []).append((phrase, offset))
        self._exclusion_reach = compiled.exclusion_reach
        self._reach = compiled.reach
        self._cutter = WindowCutter(compiled.window_reach, compiled.characters)
        self._word_anchors = frozenset(compiled.word_anchors)
        self._prefilter = trie_regex(
            compiled.prefilter_words,
            left_boundary=compiled.prefilter_left_boundary,
            right_boundary=not compiled.characters,
        )
        self.lock = threading.Lock()
        self._tokenising: _Tokenising | None = None

    @property
    def prepared(self) -> bool:
        return self._tokenising is not None

    def prepare(self) -> None:
        """Build the tokenizer (importing spaCy if need be), so no message waits for it."""
        with self.lock:
            self._ready()

    def _ready(self) -> _Tokenising:
        if self._tokenising is None:
            self._tokenising = _Tokenising(self._compiled)
        return self._tokenising

    def find(self, normalised: str, index: TextIndex | None = None) -> Hit | None:
        """Find the first non-negated, non-excluded crisis match.

        Args:
            normalised: The message after :meth:`Normaliser.normalise`.
            index: ``TextIndex(normalised)``, shared by all languages
                (built here if not given).

        Returns:
            ``(start, end, category)`` with character offsets into
            ``normalised``, or ``None``.
        """
        if self._characters:
            rewritten = self._rewriter.rewrite(normalised)
            found = self._prefilter.finditer(rewritten.text) if self._prefilter else ()
            hits = [(*m.span(), *self._reach[m.group()]) for m in found]
        else:
            index = index or TextIndex(normalised)
            rewritten = Rewritten(normalised)
            if not self._fillers.isdisjoint(index.words) or any(
                first in index.words and second in index.words for first, second in self._joins
            ):
                rewritten = self._rewriter.rewrite(normalised)
                if rewritten.cuts:
                    index = TextIndex(rewritten.text)
            hits = [
                (*span, *self._reach[word]) for word in self._word_anchors & index.words for span in index.spans(word)
            ]
            if self._prefilter is not None:
                hits += [(*m.span(), *self._reach[m.group()]) for m in self._prefilter.finditer(rewritten.text)]
        if not hits:
            return None
        text = rewritten.text
        if len(text) <= SHORT_TEXT:
            windows: Iterable[tuple[int, int]] = ((0, len(text)),)
        else:
            windows = self._cutter.cut(text, sorted(hits))
        with self.lock:
            tokenising = self._ready()
            for start, end in windows:
                hit = self._find_in(tokenising, text[start:end], at_end=end == len(text))
                if hit is not None:
                    span = rewritten.original_span(start + hit[0], start + hit[1])
                    return span[0], span[1], hit[2]
        return None

    def _find_in(self, tokenising: _Tokenising, text: str, at_end: bool) -> Hit | None:
        """The first valid match in one window, stopping as soon as it is known.

        Anchor spans are run in text order; a match is final once every span
        still to run starts after it, so the earliest valid match is returned
        without running the matchers of the rest of the window.
        """
        doc = tokenising.nlp.make_doc(text + _END_SENTINEL if at_end else text)
        norms = doc.to_array(tokenising.norm)
        pending: list[tuple[int, int, CrisisCategory, bool]] = []
        spans = self._spans(doc, norms, 0, len(doc), tokenising.anchor_index, tokenising.anchor_hashes,
                            tokenising.groups)
        for number, (span_start, span_end, group) in enumerate(spans):
            for match_id, start, end in group.matches(doc[span_start:span_end]):
                rule = tokenising.rules[match_id]
                pending.append((span_start + start, -(span_start + end), rule.category, rule.negatable))
            frontier = spans[number + 1][0] if number + 1 < len(spans) else len(doc)
            pending.sort()
            while pending and pending[0][0] < frontier:
                start, negative_end, category, negatable = pending.pop(0)
                end = -negative_end
                if negatable and self._negated(doc, start):
                    continue
                if self._excluded(tokenising, doc, norms, start, end):
                    continue
                while doc[end - 1].is_punct and end - 1 > start:
                    end -= 1
                return doc[start].idx, doc[end - 1].idx + len(doc[end - 1]), category
        return None

    @staticmethod
    def _spans(
        doc: Doc,
        norms: numpy.ndarray,
        first: int,
        last: int,
        index: dict[int, tuple[int, ...]],
        hashes: numpy.ndarray,
        groups: list[_Group],
    ) -> list[tuple[int, int, _Group]]:
        """``(start, end, group)`` to run for the anchors in ``doc[first:last]``, in text order.

        A group's span is skipped when none of its companion words is in it.
        """
        if last - first <= 64:
            found = [(i, n) for i, n in enumerate(norms[first:last].tolist(), first) if n in index]
        else:
            positions = numpy.flatnonzero(numpy.isin(norms[first:last], hashes)) + first
            found = [(i, int(norms[i])) for i in positions.tolist()]
        by_group: dict[int, list[int]] = {}
        for position, norm in found:
            for group_id in index[norm]:
                by_group.setdefault(group_id, []).append(position)
        spans: list[tuple[int, int, _Group]] = []
        for group_id, positions_ in by_group.items():
            group = groups[group_id]
            for span_start, span_end in merged_spans(positions_, group.before, group.after, len(doc)):
                if group.companions is None or not group.companions.isdisjoint(norms[span_start:span_end].tolist()):
                    spans.append((span_start, span_end, group))
        spans.sort(key=lambda span: span[0])
        return spans

    def _excluded(self, tokenising: _Tokenising, doc: Doc, norms: numpy.ndarray, start: int, end: int) -> bool:
        """Whether an exclusion (idiom, informational use) overlaps the match."""
        if not self._exclusion_reach:
            return False
        first, last = max(0, start - self._exclusion_reach), min(len(doc), end + self._exclusion_reach)
        for span_start, span_end, group in self._spans(
            doc, norms, first, last, tokenising.exclusion_index, tokenising.exclusion_hashes,
            tokenising.exclusion_groups,
        ):
            found = group.matches(doc[span_start:span_end])
            if any(span_start + s < end and span_start + e > start for _, s, e in found):
                return True
        return False

    def _negated(self, doc: Doc, start: int) -> bool:
        """Whether a negation cue governs the match starting at token ``start``."""
        rules = self._negation
        for index in range(start - 1, max(start - 1 - rules.window, -1), -1):
            token = doc[index]
            if token.is_punct or token.norm_ in rules.breaks:
                return False
            if token.norm_ in rules.cues:
                return not self._pseudo(doc, index)
        return False

    def _pseudo(self, doc: Doc, index: int) -> bool:
        """Whether the cue at ``index`` is part of a pseudo-negation phrase."""
        for phrase, offset in self._pseudo_by_cue.get(doc[index].norm_, ()):
            first = index - offset
            if first >= 0 and tuple(t.norm_ for t in doc[first : first + len(phrase)]) == phrase:
                return True
        return False


def merged_spans(positions: list[int], before: int, after: int, length: int) -> list[tuple[int, int]]:
    """Token spans ``[p - before, p + after + 1)`` around positions, merged."""
    spans: list[tuple[int, int]] = []
    for position in positions:
        start, end = max(0, position - before), min(length, position + after + 1)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans
