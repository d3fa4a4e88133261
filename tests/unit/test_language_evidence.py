"""A frequent word of another language never outvotes clear evidence of English; Haitian Creole is not
taken for French, Vietnamese or Spanish; chat Spanish stays Spanish."""

from collections import Counter
from pathlib import Path

import pytest

from languages import LanguageCatalog, LanguageResolver
from languages.catalog import Language
from languages.detection import Resolution
from languages.lexicon_builder import also_english
from languages.vocabulary import language_words, lexicon


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


@pytest.mark.parametrize(
    "text",
    [
        # words frequent elsewhere: Vietnamese "a", Tagalog "may", Haitian/Spanish "yo", French "chat"
        "book a flu shot", "a billing question", "set a reminder", "may i", "may i speak to a nurse", "yo",
        "chat", "live chat", "can i chat with someone", "do me a favor", "pap smear",
        # contractions typed with a space or a phone's curly apostrophe: no Haitian "m", no Tagalog "t"
        "i m sick", "I\u2019m sick", "I\u2019m at the clinic", "you shouldn t", "i don t know", "i can t log in",
        "it s my son", "we re running late",
        # a language named in passing, or things asked for in it, is no switch
        "are the forms available in spanish", "is there info in spanish", "do you have the forms in chinese",
        "can you send the paperwork in spanish for my mom", "what is appointment in spanish",
        "are french fries healthy", "is the korean bbq place near the clinic open",
        "is there a chinese speaking doctor", "my mom only speaks spanish but i can translate",
    ],
)
def test_english_is_not_outvoted_by_words_other_languages_share(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "en"
    assert resolver.resolve(text, "en", None).language == "en"


@pytest.mark.parametrize(
    "text",
    [
        "mwen bezwen wè yon doktè", "m bezwen yon randevou demen", "Mari m bat mwen", "m pa ka respire",
        "kote famasi a ye", "èske nou louvri jodi a", "pitit mwen an malad anpil", "Yo vyole m",
        "m ap tann doktè a", "konbyen kòb pou m peye",
    ],
)
def test_haitian_creole_is_not_taken_for_french_spanish_or_vietnamese(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "ht"


@pytest.mark.parametrize(
    "text",
    ["ta bien", "si ta bien", "toy enfermo", "mi hija ta enferma", "refill por favor", "necesito un doctor",
     "mi copay", "m siento mal", "gracias", "en español por favor"],
)
def test_chat_spanish_and_spanglish_stay_spanish(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "es"


@pytest.mark.parametrize(
    ("text", "language"),
    [("in spanish please", "es"), ("can we switch to spanish", "es"), ("switch to english", "en"),
     ("can you talk to me in spanish", "es"), ("reply in english", "en"), ("hablame en ingles", "en"),
     ("puede atenderme en español", "es"), ("cambiar a ingles", "en")],
)
def test_asking_the_bot_for_a_language_still_switches(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.explicit_switch(text) == language


def test_a_word_english_writes_too_is_shared_but_not_a_word_another_language_owns() -> None:
    english = Counter({"the": 5000, "chat": 20, "favor": 10, "de": 5})
    spanish = Counter({"de": 5000, "favor": 40, "chat": 5, "hola": 50})
    tables = {"en": (english, english), "es": (spanish, spanish)}
    # English writes "chat" and "favor" at least 1/200 as often as Spanish; "de" is a Spanish word.
    assert also_english({"en": ["the"], "es": ["de", "favor", "chat", "hola"]}, tables) == ["chat", "favor"]
    # a word already in the English list, or one English writes in capitals only, is left alone
    capitals = Counter({"the": 5000})
    assert also_english({"en": ["the", "chat"], "es": ["chat"]}, {"en": (english, capitals), "es": tables["es"]}) == []


@pytest.mark.parametrize(
    "text",
    [
        # English words that the Tagalog and Spanish NLU examples borrow ("pa-refill po ng insulin ko")
        "insulin", "my insulin pen", "fax number", "what is your fax number", "portal login", "telehealth visit",
        # one word English took from Spanish or French, or writes in chat, beside English ones
        "salsa recipe", "solo trip ideas", "one sec", "mama has a fever", "my mama has a cough", "tb test results",
        "do you take medi cal",
    ],
)
def test_a_borrowed_word_does_not_outvote_english(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("pa-refill po ng insulin ko", "tl"), ("ano po ang fax number ninyo", "tl"),
        ("Training sa suicide prevention para sa mga nurse", "tl"),
        ("la app no funciona", "es"), ("el portal no funciona", "es"), ("telehealth no funciona", "es"),
        ("aceptan medi cal", "es"), ("jajaja", "es"), ("jajajajaja ok", "es"), ("x favor ayudenme", "es"),
    ],
)
def test_the_language_of_most_words_wins_over_borrowed_english(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize("text", ["okay", "ok", "haha ok", "hahahaha", "ok ok lol"])
def test_words_typed_alike_everywhere_leave_the_language_to_the_session_or_locale(
    resolver: LanguageResolver, text: str
) -> None:
    assert resolver.detect(text) is None
    assert resolver.resolve(text, None, None) == Resolution("en", "default")
    assert resolver.resolve(text, None, "es-MX") == Resolution("es", "locale")
    assert resolver.resolve(text, "tl", None) == Resolution("tl", "current")


def test_a_bot_languages_nlu_words_are_its_own_only_when_english_does_not_use_them_as_often(
    tmp_path: Path,
) -> None:
    for code, examples in {
        "en": ["refill my insulin", "is my insulin ready", "fax it to me"],
        "tl": ["pakirefill po ng insulin ko", "ready na po ba ang insulin", "ipa fax po", "pakirefill na po"],
    }.items():
        (tmp_path / code).mkdir()
        lines = "\n".join(f"      - {text}" for text in examples)
        (tmp_path / code / "nlu.yml").write_text(f"nlu:\n  - intent: any\n    examples: |\n{lines}\n")
    catalog = LanguageCatalog([
        Language(code="en", name="English", bot=True, names=(), common_words=frozenset(["my", "the"])),
        Language(code="tl", name="Tagalog", bot=True, names=(), common_words=frozenset(["po"])),
    ])
    words = language_words(catalog, tmp_path)
    from_nlu = {code: words[code] - lexicon(code) - catalog_words for code, catalog_words in
                (("en", frozenset(["my", "the"])), ("tl", frozenset(["po"])))}
    assert "insulin" in from_nlu["en"] and "insulin" not in from_nlu["tl"], "as often in English: English's"
    assert "pakirefill" in from_nlu["tl"] and "pakirefill" not in from_nlu["en"], "two Tagalog examples, no English"
    assert "fax" not in from_nlu["en"] | from_nlu["tl"], "one example is too little"
    assert "ready" not in from_nlu["tl"], "no more often in Tagalog than in English"
