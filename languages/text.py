"""Words and scripts of a message, shared by language detection and language requests."""

import re
import unicodedata

SCRIPT_PATTERNS = {
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "arabic": re.compile(r"[\u0600-\u06ff\u0750-\u077f]"),
}
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def strip_accents(text: str) -> str:
    """Diacritics off, and Vietnamese đ as d, as phone keyboards without them type it."""
    return "".join(
        c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
    ).replace("đ", "d").replace("Đ", "D")


def plain_words(text: str) -> list[str]:
    """The message's words, lower case and without diacritics."""
    return [strip_accents(word) for word in WORD.findall(text.lower())]


def occurrences(needle: list[str], words: list[str]) -> list[int]:
    """Where the word sequence ``needle`` starts in ``words``."""
    return [i for i in range(len(words) - len(needle) + 1) if words[i : i + len(needle)] == needle]
