"""A frequent word of another language never outvotes clear evidence of English; Haitian Creole is not
taken for French, Vietnamese or Spanish; chat Spanish stays Spanish."""

from collections import Counter

import pytest

from languages import LanguageCatalog, LanguageResolver
from languages.lexicon_builder import also_english


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
