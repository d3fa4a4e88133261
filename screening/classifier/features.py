"""Text normalisation and hashed n-gram features, shared by training and scoring.

One function, :func:`feature_counts`, turns a message into ``{bucket: count}``;
the trainer and :class:`screening.classifier.CrisisClassifier` both call it, so
the features a model was trained on are exactly the features it scores.

* Normalisation: NFKC, case folding, accents and other combining marks
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
from functools import lru_cache
from itertools import pairwise

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
_IDEOGRAPH = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE_END = re.compile(r"(?<=[.!?;\u3002\uff01\uff1f\uff1b\u061f])\s*|\n+")
MAX_SENTENCES = 40
MIN_SEGMENT_CHARS = 12
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


def segments(text: str) -> list[str]:
    """The parts of a message that are scored: the whole text and, when it has several sentences,
    each sentence and each pair of adjacent sentences, and overlapping windows of
    ``WINDOW_WORDS`` words over a sentence more than twice that long; parts shorter than
    ``MIN_SEGMENT_CHARS`` characters are dropped. A crisis sentence inside a long message
    would otherwise be diluted by everything around it; fragments such as ``"i."`` carry
    too little to score alone."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()][:MAX_SENTENCES]
    parts = [f"{a} {b}" for a, b in pairwise(sentences)]
    if len(sentences) > 1:
        parts.extend(sentences)
    for sentence in sentences:
        words = sentence.split()
        if len(words) > 2 * WINDOW_WORDS:
            step = WINDOW_WORDS // 2
            parts.extend(" ".join(words[i : i + WINDOW_WORDS]) for i in range(0, len(words) - step, step))
    return [text, *(p for p in parts if len(p) >= MIN_SEGMENT_CHARS)]


def _bucket(kind: str, gram: str, mask: int) -> int:
    return zlib.crc32(f"{kind}:{gram}".encode()) & mask


def feature_counts(text: str, bits: int = DEFAULT_BITS) -> Counter[int]:
    """Hashed n-gram counts of one message.

    Args:
        text: The raw message.
        bits: ``log2`` of the number of hash buckets.

    Returns:
        Bucket index -> raw count (term frequency) of the n-grams hashed there.
    """
    mask = (1 << bits) - 1
    counts: Counter[int] = Counter()
    words = _WORD.findall(normalise(text))
    for word in words:
        counts.update(_word_buckets(word, bits))
    for first, second in pairwise(words):
        counts[_bucket("b", f"{first} {second}", mask)] += 1
    return counts


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
