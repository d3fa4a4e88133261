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
("medico", "voce", "tres"), unless that bare form is another language's word by the same rule
(Portuguese "pó" is not written "po", Tagalog's politeness word).

With ``--spanish-dictionary es_ES`` (a hunspell dictionary, Debian's ``hunspell-es``) it also writes
``es-shared-hunspell.txt``: the words of the Portuguese lists that Spanish writes too (the dictionary accepts
them) but that Spanish's lists lack ("sinceramente", "comandante", "faltando"), so that they count for both
languages and are no word of Portuguese's own. A word among Portuguese's ``PORTUGUESE_COMMON_RANK`` most
frequent is left out: were it everyday Spanish, Spanish's own 10,000 words would have it, so the dictionary
accepts it as a rare form ("pode", "até", "medo").
It also writes ``es-verbs-hunspell.txt``: the third person plural present of the Spanish list's regular
infinitives that the dictionary accepts and no list has ("visitan", "gritan"), which Spanish's 10,000 words lack.
Last, it writes ``es-without-enye.txt``: the Spanish list words written with "ñ" typed with "n", as patients on a
keyboard without it type them ("senor", "bano"), less words any list has.

A word of another language's list that English writes too, in lower case and at least
``ALSO_ENGLISH_SHARE`` as often ("favor", "chat", "comment", "era", "raw"), goes to
``en-shared-tatoeba.txt``: it counts for English and that language both, so it is no word of that
language's own against English ("chat", "do me a favor").
"""

import argparse
import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
TABLES = {"en": "eng", "es": "spa", "pt": "por", "fr": "fra", "tl": "tgl", "vi": "vie"}
"""Our language codes -> Tatoeba's."""
BUILT = ("en", "es", "pt", "fr", "tl")
UNACCENTED_VARIANTS = ("es", "pt", "fr")
TOP_WORDS = 10000
"""How many of a language's most frequent words are candidates: the whole of a table (10,000 words). The
branch ``langid-short`` raised it from 6,000 for the languages other than English, which Spanish words
such as "sinceramente" were missing from while Portuguese listed them (chosen on the tuning sets)."""
MIN_COUNT = 5
LOWER_CASE_SHARE = 0.1
DOMINANCE = 20.0
ALSO_ENGLISH_SHARE = 1 / 200
"""English writes the word at least this share as often as the other language does (not "de", "pour")."""
HEADER = """# Frequent {name} words from Tatoeba sentences (CC BY 2.0 FR), one a line, built by
# languages/lexicon_builder.py from the frequency tables described in languages/lexicons/README.md.
"""
ALSO_ENGLISH_FILE = "en-shared-tatoeba.txt"
ALSO_ENGLISH_HEADER = """# Words of the Spanish, Portuguese, French and Tagalog lists that English writes too (Tatoeba
# sentences, CC BY 2.0 FR), built by languages/lexicon_builder.py: they count for English and their language.
"""
SPANISH_DICTIONARY_FILE = "es-shared-hunspell.txt"
SPANISH_DICTIONARY_HEADER = """# Words of the Portuguese lists that a Spanish spelling dictionary accepts and the
# Spanish lists lack, less Portuguese's 3,000 most frequent words, built by languages/lexicon_builder.py
# --spanish-dictionary es_ES from Debian's hunspell-es (Santiago Bosio's RLA-ES dictionary: GPL-3+,
# LGPL-3+ or MPL-1.1+) and the Tatoeba tables (CC BY 2.0 FR). They count for Spanish and Portuguese both.
"""
SPANISH_VERBS_FILE = "es-verbs-hunspell.txt"
SPANISH_VERBS_HEADER = """# Spanish present-tense plural verbs ("visitan", "gritan"): the third person plural
# of every regular infinitive of es-tatoeba.txt that the RLA-ES dictionary (hunspell-es) accepts, less
# words any list has; built by languages/lexicon_builder.py --spanish-dictionary es_ES.
"""
SPANISH_ENYE_FILE = "es-without-enye.txt"
SPANISH_ENYE_HEADER = """# Words of the Spanish lists written with "ñ", typed with "n" as on a keyboard without it
# ("senor", "bano", "contrasena"), less words any list has ("ano", "nina", "pequeno" are other
# languages' words); built by languages/lexicon_builder.py.
"""
PORTUGUESE_COMMON_RANK = 3000
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
    for word, count in counts.most_common(TOP_WORDS):
        if count < MIN_COUNT or lower[word] < LOWER_CASE_SHARE * count:
            continue
        rate = count / total
        if any(other[word] / other_total >= DOMINANCE * rate for other, other_total in rates.values()):
            continue
        words.add(word)
        bare = strip_accents(word)
        if code in UNACCENTED_VARIANTS and not any(
            other[bare] / other_total >= DOMINANCE * rate for other, other_total in rates.values()
        ):
            words.add(bare)  # not when the bare form is another language's word ("pó" -> Tagalog "po")
    return sorted(words)


def also_english(built: dict[str, list[str]], tables: dict[str, tuple[Counter[str], Counter[str]]]) -> list[str]:
    """Words of the other built lists, not in the English one, that English writes too (see the module)."""
    english, english_lower = tables["en"]
    english_total = sum(english.values())
    words = set()
    for code, built_words in built.items():
        if code == "en":
            continue
        counts, _ = tables[code]
        total = sum(counts.values())
        for word in set(built_words) - set(built.get("en", [])):
            count = english[word]
            if count < MIN_COUNT or english_lower[word] < 0.5 * count or not counts[word]:
                continue
            if count / english_total >= ALSO_ENGLISH_SHARE * counts[word] / total:
                words.add(word)
    return sorted(words)


def spanish_in_portuguese(portuguese: Counter[str], dictionary: str, directory: Path = LEXICON_DIR) -> list[str]:
    """Words of the Portuguese lists that the Spanish dictionary accepts and no Spanish or English list has,
    less Portuguese's most frequent (see the module)."""
    spanish = _listed("es", directory, but=SPANISH_DICTIONARY_FILE)
    candidates = sorted(
        word for word in _listed("pt", directory) - spanish - _listed("en", directory) if word.isalpha()
    )
    ranks: dict[str, int] = {}
    for rank, (word, _) in enumerate(portuguese.most_common()):
        for form in (word, strip_accents(word)):
            ranks.setdefault(form, rank)
    accepted = _accepted(candidates, dictionary)
    return sorted(word for word in set(accepted) if ranks.get(word, PORTUGUESE_COMMON_RANK) >= PORTUGUESE_COMMON_RANK)


def spanish_plural_verbs(dictionary: str, directory: Path = LEXICON_DIR) -> list[str]:
    """The third person plural present of the regular infinitives of ``es-tatoeba.txt`` ("visitar": "visitan";
    "comer": "comen") that the dictionary accepts (not "querer": "queren") and no list of any language has."""
    tatoeba = (directory / "es-tatoeba.txt").read_text(encoding="utf-8").split()
    infinitives = [word for word in tatoeba if re.fullmatch("[a-zñ]{2,}(?:ar|er|ir)", word)]
    candidates = sorted({word[:-2] + ("an" if word.endswith("ar") else "en") for word in infinitives})
    return sorted(set(_accepted(candidates, dictionary)) - _every_listed(directory, but=SPANISH_VERBS_FILE))


def spanish_without_enye(directory: Path = LEXICON_DIR) -> list[str]:
    """The words of the Spanish lists with "ñ" typed with "n" instead ("señor": "senor"), less words any list has."""
    typed = {word.replace("ñ", "n") for word in _listed("es", directory, but=SPANISH_ENYE_FILE) if "ñ" in word}
    return sorted(typed - _every_listed(directory, but=SPANISH_ENYE_FILE))


def _accepted(candidates: list[str], dictionary: str) -> list[str]:
    """The words a hunspell dictionary accepts."""
    hunspell = shutil.which("hunspell")
    if not hunspell:
        raise SystemExit("hunspell is not installed (apt-get install hunspell hunspell-es)")
    return subprocess.run(
        [hunspell, "-d", dictionary, "-G"], input="\n".join(candidates), capture_output=True, text=True, check=True
    ).stdout.split()


def _every_listed(directory: Path, but: str) -> set[str]:
    """The words of every language's lists but the file ``but`` (the one being built)."""
    codes = {path.name.partition("-")[0] for path in directory.glob("*-*.txt")}
    return set().union(*(_listed(code, directory, but=but) for code in codes))


def _listed(code: str, directory: Path, but: str = "") -> set[str]:
    return {
        line.strip().lower()
        for path in sorted(directory.glob(f"{code}-*.txt"))
        if path.name != but
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }


def strip_accents(word: str) -> str:
    """Accents off, ñ kept (Spanish keyboards have it even when patients skip accents)."""
    return "".join(
        c for c in unicodedata.normalize("NFD", word.replace("ñ", "\0"))
        if unicodedata.category(c) != "Mn"
    ).replace("\0", "ñ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tables", type=Path, help="directory of Tatoeba frequency tables (spa.txt, eng.txt, ...)")
    parser.add_argument("--spanish-dictionary", metavar="NAME",
                        help="hunspell dictionary (es_ES): also write " + SPANISH_DICTIONARY_FILE)
    args = parser.parse_args()
    tables = {code: read_table(args.tables / f"{name}.txt") for code, name in TABLES.items()}
    built = {code: build(code, tables) for code in BUILT}
    for code, words in built.items():
        write_list(f"{code}-tatoeba.txt", HEADER.format(name=NAMES[code]), words)
    write_list(ALSO_ENGLISH_FILE, ALSO_ENGLISH_HEADER, also_english(built, tables))
    if args.spanish_dictionary:
        write_list(SPANISH_DICTIONARY_FILE, SPANISH_DICTIONARY_HEADER,
                   spanish_in_portuguese(tables["pt"][0], args.spanish_dictionary))
        write_list(SPANISH_VERBS_FILE, SPANISH_VERBS_HEADER, spanish_plural_verbs(args.spanish_dictionary))
    write_list(SPANISH_ENYE_FILE, SPANISH_ENYE_HEADER, spanish_without_enye())


def write_list(name: str, header: str, words: list[str]) -> None:
    path = LEXICON_DIR / name
    path.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{path}: {len(words)} words")


if __name__ == "__main__":
    main()
