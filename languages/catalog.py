"""One YAML file per language: its names, frequent words, script and connector notices."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import yaml

LANGUAGES_DIR = Path(__file__).parent
FALLBACK_LANGUAGES = ("en", "es")
"""Notices for a language we have no text for are given in these, one after the other."""
LANGUAGE_MENU = "language_menu"
"""The notice that offers a language in its own words: its name and the word to write to switch to it."""


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    bot: bool
    """True when the bot has flows in this language; otherwise it goes straight to an agent."""
    names: tuple[str, ...]
    common_words: frozenset[str]
    script: Optional[str] = None
    notices: dict[str, str] = field(default_factory=dict)
    common_pairs: frozenset[tuple[str, str]] = frozenset()
    """Pairs of words each of which other languages write too, but which together are this language's
    ("no me", "yo no"): in a message of three words or more, the two words count as words of its own."""
    pair_messages: frozenset[tuple[str, str]] = frozenset()
    """Pairs that are this language's as a whole two-word message ("no sea", "yo he"; not "no me", which English
    patients write alone): in a message of two words, they count as words of its own."""
    neighbour_words: frozenset[str] = frozenset()
    """Words this language writes that are another's frequent words ("ya" in "see ya"): this language's
    only right beside a word that no other language lists."""
    object_words: frozenset[str] = frozenset()
    """Words this language writes as objects only, after a verb ("call me"), that another language writes
    before its verb ("me urge"): opening a message before a word another language lists, neither is this
    language's."""
    clause_words: frozenset[str] = frozenset()
    """Words that make a clause of this language (subject pronouns, finite verbs: "i", "need", "is"): a run of this
    language's words without one, after another language's opening words, is a name or a title inserted into that
    language's sentence ("tengo blue cross blue shield"); a run with one is a sentence of its own ("hola i need
    help")."""
    clause_openers: frozenset[str] = frozenset()
    """Words that open a sentence of this language and carry its grammar (Spanish "mi", "el", "tengo", "busco"): a
    message that opens with one and goes on with English words that make no English clause is this language's."""
    name_heads: frozenset[str] = frozenset()
    """Nouns that head the names this language gives to places (Spanish "clínica", "farmacia", "calle"). A language
    that drops its subject pronouns writes clauses no closed list of ``clause_words`` tells ("what pasa con mi cita"),
    so a run of its words inside another language's sentence is taken for a name only when it holds one of these ("my
    mom goes to la clinica del pueblo")."""
    word_shapes: Optional[re.Pattern[str]] = None
    """Shapes of words no list has that only this language writes (Spanish "llámeme", "dígame"): such a word
    counts as a word of its own."""
    no_english: tuple[str, ...] = ()
    """"I don't speak English" as this language says it, lower case and without diacritics ("no hablo ingles"):
    the patient asks the bot for this language."""
    translation_frames: tuple[tuple[str, ...], ...] = ()
    """Openings of a message in this language that ask how to say, or what means, words of another ("cómo se dice",
    "how do you say"), lower case: the message is this language's whatever the words after."""
    spelling: Optional[re.Pattern[str]] = None
    """Letters and word shapes that this language writes and the Latin-script languages it is told apart
    from do not (Portuguese "ã", "-ção"; Spanish "ñ", "-ción"), matched on a lower-case word: they break a
    tie of frequent words between such languages."""


def _pattern(alternatives: Optional[list[str]]) -> Optional[re.Pattern[str]]:
    return re.compile("|".join(alternatives)) if alternatives else None


class LanguageCatalog:
    def __init__(self, languages: list[Language]) -> None:
        self._languages = {language.code: language for language in languages}

    @classmethod
    def load(cls, directory: Path = LANGUAGES_DIR) -> "LanguageCatalog":
        languages = []
        for path in sorted(directory.glob("*.yml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            languages.append(
                Language(
                    code=str(document["code"]),
                    name=str(document["name"]),
                    bot=bool(document.get("bot", False)),
                    names=tuple(str(name).lower() for name in document.get("names", [])),
                    common_words=frozenset(str(word).lower() for word in document.get("common_words", [])),
                    script=document.get("script"),
                    notices={str(k): str(v) for k, v in (document.get("notices") or {}).items()},
                    common_pairs=frozenset(
                        (first, second)
                        for pair in document.get("common_pairs", [])
                        for first, second in [str(pair).lower().split()]
                    ),
                    pair_messages=frozenset(
                        (first, second)
                        for pair in document.get("pair_messages", [])
                        for first, second in [str(pair).lower().split()]
                    ),
                    neighbour_words=frozenset(str(word).lower() for word in document.get("neighbour_words", [])),
                    object_words=frozenset(str(word).lower() for word in document.get("object_words", [])),
                    clause_words=frozenset(str(word).lower() for word in document.get("clause_words", [])),
                    clause_openers=frozenset(str(word).lower() for word in document.get("clause_openers", [])),
                    name_heads=frozenset(str(word).lower() for word in document.get("name_heads", [])),
                    word_shapes=_pattern(document.get("word_shapes")),
                    spelling=_pattern(document.get("spelling")),
                    no_english=tuple(str(phrase).lower() for phrase in document.get("no_english", [])),
                    translation_frames=tuple(
                        tuple(str(frame).lower().split()) for frame in document.get("translation_frames", [])
                    ),
                )
            )
        return cls(languages)

    def get(self, code: Optional[str]) -> Optional[Language]:
        return self._languages.get(code) if code else None

    def __iter__(self) -> Iterator[Language]:
        return iter(self._languages.values())

    @property
    def bot_languages(self) -> tuple[str, ...]:
        return tuple(code for code, language in self._languages.items() if language.bot)

    def has_bot(self, code: str) -> bool:
        language = self._languages.get(code)
        return bool(language and language.bot)

    def language_menu(self, without: str) -> str:
        """Every language but ``without``, each in its own words with the word that switches to it (its
        ``language_menu`` notice), those with bot flows first."""
        offered = sorted((language for language in self if language.code != without), key=lambda item: not item.bot)
        return "\n".join(language.notices[LANGUAGE_MENU] for language in offered if LANGUAGE_MENU in language.notices)

    def notice(self, code: str, key: str, **values: object) -> str:
        """The notice in the patient's language, else in English and Spanish."""
        language = self._languages.get(code)
        if language and key in language.notices:
            return language.notices[key].format(**values)
        return "\n".join(
            self._languages[fallback].notices[key].format(**values)
            for fallback in FALLBACK_LANGUAGES
            if fallback in self._languages and key in self._languages[fallback].notices
        )
