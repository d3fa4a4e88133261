"""Builds the frequent-word lists of ``languages/lexicons/`` from Tatoeba frequency tables.

    python -m languages.lexicon_builder DIR     # DIR holds spa.txt, eng.txt, por.txt, ... ("word count" lines)

The tables are per-language word counts over Tatoeba's sentences (see ``languages/lexicons/README.md``
for the source and licence); only the derived word lists are kept in the repository. For each language
built, a word is kept when:

- it is among the language's most frequent (``TOP_WORDS``) and seen at least ``MIN_COUNT`` times;
- it is mostly written in lower case (names such as "Tom" or "Boston" are not evidence of a language);
- no other compared language uses it ``DOMINANCE`` times as often ("de" is no English word, "the" no
  Spanish one, even though each turns up in the other's sentences).

Spanish, Portuguese and French also get every word without its accents, as patients type them
("medico", "voce", "tres").
"""

import argparse
import unicodedata
from collections import Counter
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
TABLES = {"en": "eng", "es": "spa", "pt": "por", "fr": "fra", "tl": "tgl", "vi": "vie"}
"""Our language codes -> Tatoeba's."""
BUILT = ("en", "es", "pt", "fr", "tl")
UNACCENTED_VARIANTS = ("es", "pt", "fr")
TOP_WORDS = {"en": 10000}
"""How many of a language's most frequent words are candidates: English, the language every other is told
apart from, gets the whole table; the others ``DEFAULT_TOP_WORDS``."""
DEFAULT_TOP_WORDS = 6000
MIN_COUNT = 5
LOWER_CASE_SHARE = 0.1
DOMINANCE = 20.0
HEADER = """# Frequent {name} words from Tatoeba sentences (CC BY 2.0 FR), one a line, built by
# languages/lexicon_builder.py from the frequency tables described in languages/lexicons/README.md.
"""
NAMES = {"en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "tl": "Tagalog"}


def read_table(path: Path) -> tuple[Counter[str], Counter[str]]:
    """Counts per lower-cased word, and how many of them were written in lower case."""
    counts: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, count = line.rpartition(" ")
        word = word.strip().strip("\"'«»“”()-:;")
        if not word or not count.isdigit() or not all(part.isalpha() for part in word.split("'") if part):
            continue
        counts[word.lower()] += int(count)
        if word == word.lower():
            lower[word.lower()] += int(count)
    return counts, lower


def build(code: str, tables: dict[str, tuple[Counter[str], Counter[str]]]) -> list[str]:
    counts, lower = tables[code]
    total = sum(counts.values())
    rates = {other: (table[0], sum(table[0].values())) for other, table in tables.items() if other != code}
    words = set()
    for word, count in counts.most_common(TOP_WORDS.get(code, DEFAULT_TOP_WORDS)):
        if count < MIN_COUNT or lower[word] < LOWER_CASE_SHARE * count:
            continue
        rate = count / total
        if any(other[word] / other_total >= DOMINANCE * rate for other, other_total in rates.values()):
            continue
        words.add(word)
        if code in UNACCENTED_VARIANTS:
            words.add(strip_accents(word))
    return sorted(words)


def strip_accents(word: str) -> str:
    """Accents off, ñ kept (Spanish keyboards have it even when patients skip accents)."""
    return "".join(
        c for c in unicodedata.normalize("NFD", word.replace("ñ", "\0"))
        if unicodedata.category(c) != "Mn"
    ).replace("\0", "ñ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tables", type=Path, help="directory of Tatoeba frequency tables (spa.txt, eng.txt, ...)")
    args = parser.parse_args()
    tables = {code: read_table(args.tables / f"{name}.txt") for code, name in TABLES.items()}
    for code in BUILT:
        words = build(code, tables)
        path = LEXICON_DIR / f"{code}-tatoeba.txt"
        path.write_text(HEADER.format(name=NAMES[code]) + "\n".join(words) + "\n", encoding="utf-8")
        print(f"{path}: {len(words)} words")


if __name__ == "__main__":
    main()
