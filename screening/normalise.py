"""Text normalisation shared by every language's crisis patterns.

The same function normalises the patient's message and the literals of every
pattern, so any folding done here (case, accents, repeated letters, Chinese
Traditional to Simplified characters) applies to both sides identically.

Two entry points produce the same string:

* :meth:`Normaliser.normalise` is the fast path run on every message
  (``str.translate`` plus two regular expressions, all in C).
* :meth:`Normaliser.normalise_with_offsets` is a per-character loop that also
  records, for each normalised character, the span of the original text it
  came from. It only runs when a finding must quote its evidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# apostrophes, and the Arabic elongation stroke (tatweel: "انـتـحـار")
_DROPPED = frozenset("'\u2019\u2018`\u00b4\u02bc\u2032\uff07\u0640")
_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015_/\\~")
_EXTRA_FOLDS = {"\u0111": "d", "\u0110": "d", "\u00f8": "o", "\u0142": "l"}
# Arabic-Indic and Eastern Arabic-Indic digits ("٣٠ حبة") to ASCII digits
_EXTRA_FOLDS.update({chr(0x0660 + d): str(d) for d in range(10)})
_EXTRA_FOLDS.update({chr(0x06F0 + d): str(d) for d in range(10)})
# Precomposed Hangul syllables are kept whole: NFKD would split them into
# conjoining jamo, and a pattern syllable would then match inside another
# ("고" inside "곧").
_HANGUL_SYLLABLES = ("\uac00", "\ud7a3")
_LETTER_RUN = re.compile(r"([^\W\d_])\1+")
_SPACE_RUN = re.compile(r" {2,}")
_LETTER = re.compile(r"[^\W\d_]")


def _fold_char(char: str, char_map: Mapping[str, str]) -> str:
    """Return what one original character becomes after normalisation.

    Args:
        char: One character of the original text.
        char_map: Extra character folds (e.g. Traditional to Simplified).

    Returns:
        Zero, one or several characters (``"ß"`` becomes ``"ss"``).
    """
    if char in _DROPPED:
        return ""
    if char in _SEPARATORS or char.isspace():
        return " "
    char = char_map.get(char, char)
    char = _EXTRA_FOLDS.get(char, char)
    if _HANGUL_SYLLABLES[0] <= char <= _HANGUL_SYLLABLES[1]:
        return char
    decomposed = unicodedata.normalize("NFKD", char)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    if len(folded) == 1 and folded != char:
        return _fold_char(folded, char_map)
    return "".join(" " if c.isspace() else c for c in folded if c not in _DROPPED)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that computes and memoises folds on demand."""

    def __init__(self, char_map: Mapping[str, str]) -> None:
        super().__init__()
        self._char_map = char_map

    def __missing__(self, codepoint: int) -> str:
        folded = _fold_char(chr(codepoint), self._char_map)
        self[codepoint] = folded
        return folded


class Normaliser:
    """Case, accent, spelling-noise and script folding for crisis matching.

    Normalisation rules, in order:

    * apostrophes are dropped (``don't`` -> ``dont``, ``I'm`` -> ``im``), so
      patterns are written without them and typed-without forms match;
    * hyphens, slashes and underscores become spaces (``self-harm``);
    * extra character folds from the pattern files are applied (Chinese
      Traditional to Simplified);
    * compatibility decomposition (full-width forms), combining marks removed
      (``suicídarme`` -> ``suicidarme``, Vietnamese ``chết`` -> ``chet``,
      Arabic alef with hamza or madda -> bare alef and harakat dropped,
      Russian yo -> ye), ``đ`` -> ``d``, case-folded; Hangul syllables are
      kept whole;
      the Arabic tatweel is dropped and Arabic-Indic digits become ASCII;
    * any run of the same letter becomes one letter (``dieeee`` -> ``die``,
      ``kill`` and ``kil`` -> ``kil``), whitespace runs become one space,
      and the result is stripped.
    """

    def __init__(self, char_map: Mapping[str, str] | None = None) -> None:
        """Build a normaliser.

        Args:
            char_map: Extra single-character folds applied before accent
                stripping, e.g. Traditional to Simplified Chinese.
        """
        self._char_map: dict[str, str] = dict(char_map or {})
        self._table = _FoldTable(self._char_map)

    def normalise(self, text: str) -> str:
        """Return the normalised form of ``text`` (fast path)."""
        folded = text.translate(self._table)
        folded = _LETTER_RUN.sub(r"\1", folded)
        return _SPACE_RUN.sub(" ", folded).strip(" ")

    def normalise_with_offsets(self, text: str, limit: int | None = None) -> tuple[str, list[int], list[int]]:
        """Normalise ``text`` and map each output character back to ``text``.

        Args:
            text: The original message.
            limit: Stop once this many normalised characters (and the one
                after them) are known: enough to map a span ending there,
                without a per-character walk over the rest of a long text.

        Returns:
            ``(normalised, starts, ends)`` where normalised character ``i``
            came from ``text[starts[i]:ends[i]]``. ``normalised`` equals
            ``self.normalise(text)`` (or, with ``limit``, begins like it).
        """
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for index, original in enumerate(text):
            if limit is not None and len(chars) > limit + 1:
                break
            for char in self._table[ord(original)]:
                previous = chars[-1] if chars else " "
                if char == " " and previous == " ":
                    continue
                if char == previous and _LETTER.match(char):
                    ends[-1] = index + 1
                    continue
                chars.append(char)
                starts.append(index)
                ends.append(index + 1)
        if chars and chars[-1] == " ":
            del chars[-1], starts[-1], ends[-1]
        return "".join(chars), starts, ends
