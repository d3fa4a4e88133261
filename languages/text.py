"""Words and scripts of a message, shared by language detection and language requests."""

import re
import unicodedata
from typing import Optional

SCRIPT_PATTERNS = {
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "arabic": re.compile(r"[\u0600-\u06ff\u0750-\u077f]"),
}
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
ADDRESS = re.compile(
    r"\S+@[\w-]+(?:\.[\w-]+)+|\b(?:https?://|www\.)\S+|[^\s@/]*\w\.[a-z]{2,}/\S*|\b[\w.-]+\.(?:com|net|org|gov|edu)\b",
    re.IGNORECASE,
)
"""An email or web address ("nacha@mail.com", "bit.ly/5RTHNrw", "portal.clinica.org"): typed alike in every language,
its parts ("mail", "com", "ly") are no words of the message."""


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


def opening_frame(text: str, frames: dict[str, tuple[tuple[str, ...], ...]]) -> Optional[str]:
    """The language whose frame (lower-case words) opens the message and is followed by more words ("cómo se dice i
    need a refill", "how do you say dolor de cabeza"): a message that asks how to say words of another language is
    written in the frame's."""
    words = [word.lower() for word in WORD.findall(text)]
    for code, language_frames in frames.items():
        if any(len(words) > len(frame) and tuple(words[: len(frame)]) == frame for frame in language_frames):
            return code
    return None
