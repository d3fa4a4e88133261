"""The frequent words of each language, as language identification counts them.

A language's words are its ``common_words`` (its YAML file), its word lists (``languages/lexicons/``)
and, for a language with bot flows, the words of its NLU training data (``data/nlu/<lang>/``). Patients
mix languages, and so do the NLU data: Spanish and Tagalog examples borrow English words ("billing",
"portal", "fax number"), and the English ones hold some Spanish ("necesito un refill"). So a word of the
NLU data of a language other than English is that language's when English does not list it, it occurs in
``NLU_MIN_EXAMPLES`` examples or more and the English NLU data use it less often (a word another
language lists as well, Portuguese "clinica", counts for both); a word of ``NLU_MIN_EXAMPLES`` English
examples or more is English when no other language lists it, or when it occurs at least as often there
as in any other bot language's NLU data (Tagalog sentences write "insulin": it counts
for both, so it is no evidence against English).

A typed word is read as the lists write it: drawn out ("holaaa") it is cut back (``undrawn``), and laughter typed
syllable by syllable ("ja ja ja") is joined (``spaced_laughter``). ``unaccented_pairs`` gives the word pairs of
texts typed without diacritics (Vietnamese).
"""

import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import yaml

from languages.catalog import LanguageCatalog
from languages.text import WORD, plain_words

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
ENGLISH = "en"
NEUTRAL = "neutral"
"""The word lists ``neutral-<source>.txt`` hold words typed alike in every language (brand names of medicines,
health plans): no evidence of any, and no bot language's word however often its NLU examples write it."""
NLU_MIN_EXAMPLES = 2
"""A word of one NLU example only ("medi cal", "fax") is too little to tell a language by."""


DRAWN_OUT = re.compile(r"([^\W\d_])\1{2,}")
"""A letter typed three times or more: a word drawn out for stress ("holaaa", "ayudaaa", "pleaseee")."""


def undrawn(word: str, words: dict[str, frozenset[str]]) -> str:
    """A drawn-out word as the word lists write it: its runs of a letter cut to two ("goooood": "good"), else to
    one ("holaaa": "hola", "siii": "si"); the word itself when it is listed or neither form is, or when the form is
    a two-letter word of English's ("nooo", "sooo", "hiii" stay as they were typed: cut, they would be words many
    languages share, and tell nothing more)."""
    if not DRAWN_OUT.search(word) or any(word in common for common in words.values()):
        return word
    english = words.get(ENGLISH, frozenset())
    for form in (DRAWN_OUT.sub(r"\1\1", word), DRAWN_OUT.sub(r"\1", word)):
        if any(form in common for common in words.values()) and (len(form) > 2 or form not in english):
            return form
    return word


LAUGHTER_SYLLABLE = re.compile(r"[hj][ae]")
"""A syllable of laughter typed apart from the next ("ja ja ja", "ha ha", "je, je"): joined, it reads as "jaja"."""


def spaced_laughter(words: list[str]) -> list[str]:
    """Runs of one laughter syllable typed as words ("ja ja ja", "ha, ha") joined into its two-syllable form."""
    joined: list[str] = []
    for i, word in enumerate(words):
        if LAUGHTER_SYLLABLE.fullmatch(word) and word in words[i - 1 : i] + words[i + 1 : i + 2]:
            if i and words[i - 1] == word:
                continue  # joined with the run's first syllable
            word = word * 2
        joined.append(word)
    return joined


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        (text, str(block["intent"]))
        for block in document.get("nlu", [])
        for line in str(block.get("examples", "")).splitlines()
        if (text := line.strip().removeprefix("- ").strip())
    ]


def lexicon(code: str, directory: Path = LEXICON_DIR) -> frozenset[str]:
    """A language's frequent words from its word lists ``<code>-<source>.txt``, one a line (``#`` starts
    a comment); empty for a language without one."""
    return frozenset(
        line.strip().lower()
        for path in sorted(directory.glob(f"{code}-*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


def nlu_word_examples(nlu_dir: Path, code: str) -> Counter[str]:
    """In how many of a language's NLU examples each word occurs."""
    return Counter(
        word
        for path in sorted((nlu_dir / code).glob("*.yml"))
        for text, _ in nlu_examples(path)
        for word in {word.lower() for word in WORD.findall(text)}
    )


def language_words(catalog: LanguageCatalog, nlu_dir: Path) -> dict[str, frozenset[str]]:
    """Each language's frequent words (see the module's docstring)."""
    common = {language.code: language.common_words | lexicon(language.code) for language in catalog}
    neutral = lexicon(NEUTRAL)
    nlu = {
        code: Counter({word: n for word, n in nlu_word_examples(nlu_dir, code).items() if word not in neutral})
        for code in catalog.bot_languages
    }
    english_nlu = nlu.get(ENGLISH, Counter())
    words = dict(common)
    for code, counts in nlu.items():
        others = (
            frozenset().union(*(listed for other, listed in common.items() if other != code))
            if code == ENGLISH
            else common.get(ENGLISH, frozenset())
        )
        own = {
            word
            for word, n in counts.items()
            if word not in others and n >= NLU_MIN_EXAMPLES and (code == ENGLISH or english_nlu[word] < n)
        }
        words[code] = common[code] | own
    if ENGLISH in words:
        words[ENGLISH] = words[ENGLISH] | {
            word
            for word, n in english_nlu.items()
            if n >= NLU_MIN_EXAMPLES and all(n >= counts[word] for code, counts in nlu.items() if code != ENGLISH)
        }
    return words


def unaccented_pairs(texts: Iterable[str], others: list[frozenset[str]]) -> frozenset[tuple[str, str]]:
    """Adjacent word pairs of these texts typed without diacritics, less pairs of two words of one of the
    other languages' word sets."""
    pairs: set[tuple[str, str]] = set()
    for text in texts:
        pairs.update(
            pair
            for pair in pairwise(plain_words(text))
            if not any(pair[0] in words and pair[1] in words for words in others)
        )
    return frozenset(pairs)


def in_pairs(words: list[str], pairs: frozenset[tuple[str, str]]) -> list[bool]:
    """For each word, whether it and a neighbour form one of the pairs."""
    inside = [False] * len(words)
    for i, pair in enumerate(pairwise(words)):
        if pair in pairs:
            inside[i] = inside[i + 1] = True
    return inside
