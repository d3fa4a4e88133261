"""Comparing the name a patient typed with the names on their record.

Tolerant of what does not make a different name: case, accents (``López`` =
``Lopez``, ``Nguyễn`` = ``Nguyen``, ``đ`` = ``d``), extra spaces, punctuation
inside a name (``O'Brien`` = ``OBrien``, ``Smith-Jones`` = ``Smith Jones``)
and the order of the parts (family name first or last). Not tolerant of a
missing, extra or different part: ``Maria Lopez`` is not ``Maria Lopes`` nor
``Maria Elena Lopez``. Names in Chinese characters or Korean Hangul compare without
spaces (``김 민지`` = ``김민지``).
"""

import re
import unicodedata

MAX_NAME_CHARS = 120
PUNCTUATION = re.compile(r"[\u2018\u2019'`\u00b4.]")
SEPARATORS = re.compile(r"[-\u2010\u2011\u2013\u2014,_/]")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u1100-\u11ff\uac00-\ud7af]")
"""Han ideographs and Hangul (syllables, and the jamo NFKD splits them into)."""


def name_key(name: str) -> tuple[str, ...]:
    """The parts of a name, folded and sorted; empty when nothing name-like is left."""
    text = unicodedata.normalize("NFKD", name.casefold()).replace("đ", "d")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = SEPARATORS.sub(" ", PUNCTUATION.sub("", text))
    if CJK.search(text):
        return ("".join(text.split()),)
    parts = [part for part in text.split() if any(c.isalpha() for c in part)]
    return tuple(sorted(parts))


def same_name(typed: str, on_record: str) -> bool:
    """True when ``typed`` names the same person as ``on_record`` (see the module docstring)."""
    if len(typed) > MAX_NAME_CHARS:
        return False
    key = name_key(typed)
    return bool(key) and key == name_key(on_record)
