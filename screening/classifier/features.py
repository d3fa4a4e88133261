"""Text normalisation and hashed n-gram features, shared by training and scoring.

One function, :func:`segment_features`, turns a message into the parts that
are scored (the whole text first) and each part's hashed n-gram counts; the
trainer and :class:`screening.classifier.CrisisClassifier` both call it, so the
features a model was trained on are exactly the features it scores.

* Normalisation, per whitespace token (so it is cached per token): NFKC, case folding, accents and other combining marks
  dropped (Hangul syllables survive: NFD then NFC recomposes them),
  apostrophes dropped (``don't`` = ``dont``), runs of three or more of one
  letter cut to one (``dieeee`` = ``die``), every digit to ``0`` (``took 30``
  = ``took 00``), links and handles to placeholders.
* Features: character n-grams of 2-5 characters inside word boundaries
  (scikit-learn's ``char_wb``: each word padded with one space), word unigrams
  and word bigrams. Scripts without spaces (Chinese) are covered by the
  character n-grams, plus single ideographs (one character is often a word).
* Hashing: CRC-32 of ``"<kind>:<gram>"`` modulo ``2**bits``. CRC-32 is stable
  across processes and Python versions (``hash()`` is salted), needs no
  vocabulary in the artefact and costs one C call per n-gram.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

DEFAULT_BITS = 20
CHAR_NGRAMS = (2, 5)

_DROPPED = dict.fromkeys(map(ord, "'\u2019\u2018`\u00b4\u02bc\u2032\uff07\u0640"))
_FOLDS = str.maketrans({"\u0111": "d", "\u0110": "d", "\u00f8": "o", "\u0142": "l"})
_URL = re.compile(r"(?:https?://|www\.)\S+")
_HANDLE = re.compile(r"@\w+")
_LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
# Han, kana: one character is often a whole word (死 "die", 药 "medicine")
_IDEOGRAPHS = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_IDEOGRAPH = re.compile(f"[{_IDEOGRAPHS}]")
# a sentence: up to and including sentence-final punctuation, or up to a line break
_SENTENCE = re.compile(r"[^\n]*?(?:[.!?;\u3002\uff01\uff1f\uff1b\u061f]+|(?=\n)|$)", re.DOTALL)
_TOKEN = re.compile(r"\S+")
MAX_SENTENCES = 40
MIN_SEGMENT_CHARS = 12
# a message with fewer letters than this is not judged by the classifier: one or two words
# ("life", "88", "se tout") carry too little for n-gram weights, and short crisis messages
# ("i want to die", "我想死") are what the rules are written for
MIN_JUDGED_LETTERS = 12
_DENSE_SCRIPT = re.compile(f"[{_IDEOGRAPHS}\\uac00-\\ud7af]")  # and Hangul syllables
WINDOW_WORDS = 12


def normalise(text: str) -> str:
    """Fold a message to the form the features are computed on."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_DROPPED).translate(_FOLDS)
    text = _URL.sub(" httpurl ", text)
    text = _HANDLE.sub(" atuser ", text)
    decomposed = unicodedata.normalize("NFD", text)
    text = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    text = _LETTER_RUN.sub(r"\1", text)
    text = _DIGIT.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def too_short_to_judge(text: str) -> bool:
    """Whether a message has fewer than ``MIN_JUDGED_LETTERS`` letters, an ideograph or a
    Hangul syllable counting as two (each carries about a short word)."""
    letters = 0
    for char in text:
        if char.isalnum():
            letters += 2 if _DENSE_SCRIPT.match(char) else 1
            if letters >= MIN_JUDGED_LETTERS:
                return False
    return True


@dataclass(frozen=True)
class Segments:
    """The scored parts of one message and their hashed n-gram counts, as one sparse table.

    Attributes:
        texts: Every part, verbatim from the message; the whole text first.
        rows: For every entry, the index of its part in ``texts``.
        buckets: For every entry, a hash bucket (entries grouped by part, in order).
        counts: For every entry, how many of the part's n-grams fell in that bucket.
    """

    texts: list[str]
    rows: np.ndarray
    buckets: np.ndarray
    counts: np.ndarray


def segment_features(text: str, bits: int = DEFAULT_BITS) -> Segments | None:
    """The parts of a message that are scored, with their features; ``None`` if it has no token.

    The parts: the whole text and, when it has several sentences, each sentence and each
    pair of adjacent sentences (the first ``MAX_SENTENCES``), and overlapping windows of
    ``WINDOW_WORDS`` whitespace tokens over a sentence more than twice that long. Parts
    shorter than ``MIN_SEGMENT_CHARS`` characters are dropped. A crisis sentence inside a
    long message would otherwise be diluted by everything around it; fragments such as
    ``"i."`` carry too little to score alone.

    Cost: every whitespace token is normalised and hashed once (cached), every part is a
    range of the message's tokens, and all parts are counted by one ``numpy.unique``:
    O(length) per nesting level (whole, sentences, pairs, windows).
    """
    mask = (1 << bits) - 1
    spans: list[tuple[int, int]] = []  # character span of every whitespace token
    sentences: list[tuple[int, int]] = []  # token range of every sentence
    for sentence in _SENTENCE.finditer(text):
        first = len(spans)
        spans.extend(token.span() for token in _TOKEN.finditer(text, sentence.start(), sentence.end()))
        if len(spans) > first:
            sentences.append((first, len(spans)))
    if not spans:
        return None
    words: list[str] = []
    grams: list[int] = []
    word_start = [0]  # first word of every token
    gram_start = [0]  # first n-gram of every word
    for start, end in spans:
        token, buckets = _token_words(text[start:end], bits)
        words.extend(token)
        for word_buckets in buckets:
            grams.extend(word_buckets)
            gram_start.append(len(grams))
        word_start.append(len(words))
    bigrams = [_bucket("b", f"{a} {b}", mask) for a, b in pairwise(words)]

    ranges = [(0, len(spans))]
    kept = sentences[:MAX_SENTENCES]
    if len(kept) > 1:
        ranges.extend((a[0], b[1]) for a, b in pairwise(kept))
        ranges.extend(kept)
    step = WINDOW_WORDS // 2
    for first, last in kept:
        if last - first > 2 * WINDOW_WORDS:
            ranges.extend((i, min(i + WINDOW_WORDS, last)) for i in range(first, last - step, step))
    long_enough = (r for r in ranges[1:] if spans[r[1] - 1][1] - spans[r[0]][0] >= MIN_SEGMENT_CHARS)
    ranges = list(dict.fromkeys((ranges[0], *long_enough)))  # the pair of a two-sentence message is the whole
    if len(ranges) == 1:  # most messages: a Counter is cheaper than numpy.unique on a few hundred grams
        tally = Counter(grams)
        tally.update(bigrams)
        keys = np.fromiter(tally.keys(), dtype=np.int64, count=len(tally))
        counts = np.fromiter(tally.values(), dtype=np.int64, count=len(tally))
    else:
        gram_array = np.array(grams, dtype=np.int64)
        bigram_array = np.array(bigrams, dtype=np.int64)
        pieces: list[np.ndarray] = []
        lengths: list[int] = []
        for first, last in ranges:
            low, high = word_start[first], word_start[last]
            pieces += [gram_array[gram_start[low] : gram_start[high]], bigram_array[low : max(low, high - 1)]]
            lengths.append(gram_start[high] - gram_start[low] + max(0, high - 1 - low))
        rows = np.repeat(np.arange(len(ranges), dtype=np.int64), lengths)
        keys, counts = np.unique((rows << bits) | np.concatenate(pieces), return_counts=True)
    texts = [text[spans[first][0] : spans[last - 1][1]] for first, last in ranges]
    return Segments(texts, keys >> bits, keys & mask, counts)


def _bucket(kind: str, gram: str, mask: int) -> int:
    return zlib.crc32(f"{kind}:{gram}".encode()) & mask


@lru_cache(maxsize=1 << 16)
def _token_words(token: str, bits: int) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """The normalised words of one whitespace token and each word's n-gram buckets."""
    words = tuple(_WORD.findall(normalise(token)))
    return words, tuple(_word_buckets(word, bits) for word in words)


@lru_cache(maxsize=1 << 16)
def _word_buckets(word: str, bits: int) -> tuple[int, ...]:
    """The buckets of one word's character n-grams, the word itself and its ideographs."""
    mask = (1 << bits) - 1
    padded = f" {word} "
    length = len(padded)
    low, high = CHAR_NGRAMS
    grams = [
        padded[start : start + size] for size in range(low, min(high, length) + 1) for start in range(length - size + 1)
    ]
    buckets = [_bucket("c", gram, mask) for gram in grams]
    buckets.append(_bucket("w", word, mask))
    buckets.extend(_bucket("c", char, mask) for char in _IDEOGRAPH.findall(word))
    return tuple(buckets)
