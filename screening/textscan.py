"""String-level helpers run before tokenising: prefilter, rewriting, windows.

All three work on the *normalised* text (see :mod:`screening.normalise`) and
keep the screen's cost bounded on long messages:

* :func:`trie_regex` builds the prefilter: one regular expression of every
  anchor word, factored into a trie so the engine tries only the words that
  start with the character at hand (a flat alternation of a few hundred words
  costs about 1 microsecond per character of text; the trie costs a fraction).
* :class:`Rewriter` deletes words that only intensify (``fucking``, ``ya``) and
  the space inside contractions typed apart (``i m``, ``don t``), and maps
  offsets in the rewritten text back to the text it was given.
* :func:`windows` cuts a long text into the stretches around prefilter hits,
  wide enough that no pattern, exclusion or negation look-back that involves
  a hit can reach past them; only those stretches are tokenised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_NOT_LETTER_BEFORE = r"(?<![^\W\d_])"
_NOT_LETTER_AFTER = r"(?![^\W\d_])"
LETTER_RUN = re.compile(r"[^\W\d_]+")


class TextIndex:
    """The distinct letter runs of a text, and where each occurs, built once per message.

    A regular-expression scan costs about 50 ns per character, so scanning a
    4 KB message once per language (eleven of them) would cost milliseconds
    before any matching. The distinct letter runs are collected once (one
    ``findall``, in C), each space-delimited language finds its anchor words
    by set intersection, and positions are looked up only for those words.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = frozenset(LETTER_RUN.findall(text))
        self._spans: dict[str, list[tuple[int, int]]] = {}

    def spans(self, word: str) -> list[tuple[int, int]]:
        """``(start, end)`` of every occurrence of ``word`` as a whole letter run."""
        found = self._spans.get(word)
        if found is None:
            found = []
            text, size = self.text, len(word)
            start = text.find(word)
            while start >= 0:
                end = start + size
                if (start == 0 or not _is_letter(text[start - 1])) and (end == len(text) or not _is_letter(text[end])):
                    found.append((start, end))
                start = text.find(word, start + 1)
            self._spans[word] = found
        return found


def _is_letter(char: str) -> bool:
    return char.isalpha()


def trie_regex(words: Iterable[str], left_boundary: bool, right_boundary: bool) -> re.Pattern[str] | None:
    """One regular expression matching any of ``words``, longest first.

    Args:
        words: Literal strings (already normalised).
        left_boundary: Require that no letter precedes a match.
        right_boundary: Require that no letter follows a match.

    Returns:
        The compiled expression, or ``None`` if ``words`` is empty.
    """
    trie: dict[str, dict] = {}
    for word in set(words):
        if not word:
            continue
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    if not trie:
        return None

    def render(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        optional = "" in node
        if len(branches) == 1 and not optional:
            return branches[0]
        body = "(?:" + "|".join(branches) + ")"
        return body + "?" if optional else body

    pattern = render(trie)
    if left_boundary:
        pattern = _NOT_LETTER_BEFORE + pattern
    if right_boundary:
        pattern += _NOT_LETTER_AFTER
    return re.compile(pattern)


@dataclass(frozen=True)
class Rewritten:
    """A rewritten text and where characters were deleted from it.

    Attributes:
        text: The text after deletions.
        cuts: ``(position in text, characters deleted there)``, ascending.
    """

    text: str
    cuts: tuple[tuple[int, int], ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a non-empty span ``[start, end)`` of :attr:`text` back."""
        return self._original(start), self._original(end - 1) + 1

    def _original(self, index: int) -> int:
        shift = 0
        for position, length in self.cuts:
            if position > index:
                break
            shift += length
        return index + shift


class Rewriter:
    """Deletes filler words and the space in contractions typed apart."""

    def __init__(self, fillers: Sequence[str], joins: Sequence[str]) -> None:
        """Build a rewriter.

        Args:
            fillers: Normalised single words to delete (with one following
                space), e.g. ``fucking``, ``really``.
            joins: Normalised two-word sequences whose space is deleted,
                e.g. ``i m`` -> ``im``, ``don t`` -> ``dont``.
        """
        alternatives: list[str] = []
        if fillers:
            words = "|".join(re.escape(w) for w in sorted(set(fillers), key=len, reverse=True))
            alternatives.append(f"(?P<fill>{_NOT_LETTER_BEFORE}(?:{words}){_NOT_LETTER_AFTER} ?)")
        seconds: dict[str, set[str]] = {}
        for join in joins:
            first, _, second = join.partition(" ")
            if not first or not second or " " in second:
                raise ValueError(f"join {join!r} must be two words")
            seconds.setdefault(first, set()).add(second)
        if seconds:
            # "i " followed by "m" (or "ve" ...) ending a word: the match is
            # the first word and its space, and only the space is deleted
            parts = [
                f"{re.escape(first)} (?=(?:{'|'.join(re.escape(w) for w in sorted(rest, key=len, reverse=True))})"
                f"{_NOT_LETTER_AFTER})"
                for first, rest in sorted(seconds.items())
            ]
            alternatives.append(f"(?P<join>{_NOT_LETTER_BEFORE}(?:{'|'.join(parts)}))")
        self._regex = re.compile("|".join(alternatives)) if alternatives else None

    def rewrite(self, text: str) -> Rewritten:
        """Delete fillers and contraction spaces from ``text``."""
        if self._regex is None:
            return Rewritten(text)
        pieces: list[str] = []
        cuts: list[tuple[int, int]] = []
        kept_until = 0
        removed = 0
        for match in self._regex.finditer(text):
            start, end = (match.end() - 1, match.end()) if match.lastgroup == "join" else match.span()
            pieces.append(text[kept_until:start])
            cuts.append((start - removed, end - start))
            removed += end - start
            kept_until = end
        if not cuts:
            return Rewritten(text)
        pieces.append(text[kept_until:])
        rewritten = "".join(pieces)
        stripped = rewritten.rstrip(" ")
        return Rewritten(stripped, tuple(cuts))


class WindowCutter:
    """Cuts the stretches of a long text that can hold a match."""

    def __init__(self, reach: int, characters: bool) -> None:
        """Build a cutter.

        Args:
            reach: The most tokens a pattern, its exclusions and its negation
                look-back can extend on either side of any anchor (hits give
                their own, smaller reach).
            characters: Whether the language's tokenizer makes one token per
                character (then reach is counted in characters, doubled to
                allow for spaces, which are not tokens); otherwise in
                whitespace-separated words, each of which is one token or more.
        """
        self.reach = (reach, reach)
        self._characters = characters
        self._forward: dict[int, re.Pattern[str]] = {}

    def _words(self, count: int) -> re.Pattern[str]:
        pattern = self._forward.get(count)
        if pattern is None:
            pattern = self._forward[count] = re.compile(rf"(?:\s*\S+){{0,{count}}}")
        return pattern

    def cut(self, text: str, hits: Iterable[tuple[int, int, int, int]]) -> list[tuple[int, int]]:
        """Merged ``(start, end)`` windows around ``(start, end, before, after)`` hits, in text order."""
        spans: list[tuple[int, int]] = []
        backward_text = ""
        for hit_start, hit_end, before, after in hits:
            if self._characters:
                start, end = max(0, hit_start - 2 * before - 2), min(len(text), hit_end + 2 * after + 2)
            else:
                if not backward_text:
                    backward_text = text[::-1]
                back = self._words(before + 1).match(backward_text, len(text) - hit_start)
                start = len(text) - (back.end() if back else len(text) - hit_start)
                ahead = self._words(after + 1).match(text, hit_end)
                end = ahead.end() if ahead else hit_end
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        return spans
