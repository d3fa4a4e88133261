"""One language's part of the crisis screen (see :mod:`screening.crisis`).

A :class:`LanguageScreen` owns a blank spaCy tokenizer, the ``Matcher``
patterns compiled from ``screening/patterns/<lang>.yml``, its negation rules
and its exclusions. :meth:`LanguageScreen.find` costs, per message:

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

from dataclasses import dataclass
from typing import Iterable

import numpy

from screening.categories import CrisisCategory
from screening.compiler import Group, PatternCompiler, merged_spans
from screening.normalise import Normaliser
from screening.patterns import PatternFile
from screening.spacy_api import NORM, Doc, Matcher
from screening.textscan import LETTER_RUN, Rewritten, TextIndex, WindowCutter, trie_regex

_EXCLUSION_KEY = "exclusion"
_END_SENTINEL = " ."
SHORT_TEXT = 512
"""Texts up to this many characters are tokenised whole, without windows."""

Hit = tuple[int, int, CrisisCategory]


@dataclass(frozen=True)
class _Rule:
    category: CrisisCategory
    negatable: bool


class LanguageScreen(PatternCompiler):
    """One language's matchers, prefilter, exclusions and negation rules."""

    def __init__(self, pattern_file: PatternFile, normaliser: Normaliser) -> None:
        super().__init__(pattern_file, normaliser)
        self._pseudo_by_cue: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for phrase in self._negation.pseudo:
            for offset, norm in enumerate(phrase):
                if norm in self._negation.cues:
                    self._pseudo_by_cue.setdefault(norm, []).append((phrase, offset))
        self._rules: dict[int, _Rule] = {}
        self._groups: list[Group] = []
        anchor_index: dict[str, list[int]] = {}
        group_ids: dict[frozenset[str], int] = {}
        longest = 0
        for name, groups in pattern_file.categories.items():
            for kind in ("negatable", "absolute"):
                key = f"{name}:{kind}"
                self._rules[self._nlp.vocab.strings.add(key)] = _Rule(CrisisCategory(name), kind == "negatable")
                for anchor_group, specs, before, after, companions in self._compile(groups[kind], pattern_file.macros):
                    group = self._group_for(anchor_group, self._groups, group_ids, anchor_index)
                    group.add(key, specs, (before, after), companions)
                    longest = max(longest, before + after + 1)
        self._exclusion_groups: list[Group] = []
        exclusion_index: dict[str, list[int]] = {}
        exclusion_ids: dict[frozenset[str], int] = {}
        compiled = self._compile(pattern_file.exclusions, pattern_file.macros)
        for anchor_group, specs, before, after, companions in compiled:
            group = self._group_for(anchor_group, self._exclusion_groups, exclusion_ids, exclusion_index)
            group.add(_EXCLUSION_KEY, specs, (before, after), companions)
        self._exclusion_reach = max((b + a + 1 for _, _, b, a, _ in compiled), default=0)
        strings = self._nlp.vocab.strings
        self._anchor_index = {strings.add(anchor): tuple(ids) for anchor, ids in anchor_index.items()}
        self._anchor_hashes = numpy.array(sorted(self._anchor_index), dtype="uint64")
        self._exclusion_index = {strings.add(anchor): tuple(ids) for anchor, ids in exclusion_index.items()}
        self._exclusion_hashes = numpy.array(sorted(self._exclusion_index), dtype="uint64")
        pseudo_length = max((len(p) for p in self._negation.pseudo), default=0)
        # how far around a hit of each anchor word a window must reach: its groups'
        # reach, then exclusions around the match and the negation look-back
        margin = self._exclusion_reach + self._negation.window + pseudo_length + 2
        self._reach: dict[str, tuple[int, int]] = {}
        for anchor, ids in anchor_index.items():
            before = max(self._groups[i].before for i in ids) + margin
            after = max(self._groups[i].after for i in ids) + self._exclusion_reach + 2
            self._reach[anchor] = (before, after)
        self._cutter = WindowCutter(longest + margin, self._characters)
        surface_forms = set(anchor_index)
        surface_forms |= {variant for variant, canonical in self._spelling.items() if canonical in surface_forms}
        surface_forms |= {variant for variant, base in self._clitic_variants.items() if base in surface_forms}
        for variant in surface_forms - set(self._reach):
            canonical = self._spelling.get(variant) or self._clitic_variants.get(variant, variant)
            self._reach[variant] = self._reach.get(canonical, self._cutter.reach)
        # space-delimited scripts: anchor words that are letter runs are found in the
        # message's TextIndex; the rest (and character-segmented scripts) by regex
        self._word_anchors = frozenset() if self._characters else frozenset(
            form for form in surface_forms if LETTER_RUN.fullmatch(form)
        )
        self._prefilter = trie_regex(
            surface_forms - self._word_anchors,
            left_boundary=not self._characters and not pattern_file.clitic_prefixes,
            right_boundary=not self._characters,
        )

    # --- screening -------------------------------------------------------


    def _group_for(
        self,
        anchor_group: frozenset[str],
        groups: list[Group],
        group_ids: dict[frozenset[str], int],
        anchor_index: dict[str, list[int]],
    ) -> Group:
        """The matcher group of ``anchor_group``, created (and indexed by each anchor) on first use."""
        if anchor_group not in group_ids:
            group_ids[anchor_group] = len(groups)
            groups.append(Group(Matcher(self._nlp.vocab, validate=False)))
            for anchor in anchor_group:
                anchor_index.setdefault(anchor, []).append(group_ids[anchor_group])
        return groups[group_ids[anchor_group]]

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
        for start, end in windows:
            hit = self._find_in(text[start:end], at_end=end == len(text))
            if hit is not None:
                span = rewritten.original_span(start + hit[0], start + hit[1])
                return span[0], span[1], hit[2]
        return None

    def _find_in(self, text: str, at_end: bool) -> Hit | None:
        """The first valid match in one window, stopping as soon as it is known.

        Anchor spans are run in text order; a match is final once every span
        still to run starts after it, so the earliest valid match is returned
        without running the matchers of the rest of the window.
        """
        doc = self._nlp.make_doc(text + _END_SENTINEL if at_end else text)
        norms = doc.to_array(NORM)
        pending: list[tuple[int, int, CrisisCategory, bool]] = []
        spans = self._spans(doc, norms, 0, len(doc), self._anchor_index, self._anchor_hashes, self._groups)
        for number, (span_start, span_end, group) in enumerate(spans):
            for match_id, start, end in group.matcher(doc[span_start:span_end]):
                rule = self._rules[match_id]
                pending.append((span_start + start, -(span_start + end), rule.category, rule.negatable))
            frontier = spans[number + 1][0] if number + 1 < len(spans) else len(doc)
            pending.sort()
            while pending and pending[0][0] < frontier:
                start, negative_end, category, negatable = pending.pop(0)
                end = -negative_end
                if negatable and self._negated(doc, start):
                    continue
                if self._excluded(doc, norms, start, end):
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
        groups: list[Group],
    ) -> list[tuple[int, int, Group]]:
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
        spans: list[tuple[int, int, Group]] = []
        for group_id, positions_ in by_group.items():
            group = groups[group_id]
            for span_start, span_end in merged_spans(positions_, group.before, group.after, len(doc)):
                if group.companions is None or not group.companions.isdisjoint(norms[span_start:span_end].tolist()):
                    spans.append((span_start, span_end, group))
        spans.sort(key=lambda span: span[0])
        return spans

    def _excluded(self, doc: Doc, norms: numpy.ndarray, start: int, end: int) -> bool:
        """Whether an exclusion (idiom, informational use) overlaps the match."""
        if not self._exclusion_reach:
            return False
        first, last = max(0, start - self._exclusion_reach), min(len(doc), end + self._exclusion_reach)
        for span_start, span_end, group in self._spans(
            doc, norms, first, last, self._exclusion_index, self._exclusion_hashes, self._exclusion_groups
        ):
            found = group.matcher(doc[span_start:span_end])
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
