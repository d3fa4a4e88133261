"""Short chat Spanish that opens with "me", Spanish verb endings no list has, and Portuguese chat that Spanish chat
shares, each beside English and Portuguese neighbours that keep their language.

The cases replay the error classes of the tuning sets read on the branch ``langid-es2``: the second everyday set's
"me urge" word for word; the ACTIV-ES tuning films ("Me dice"), the EmoEvent tuning tweets ("me van", "No
paraban") and the XLM-T Portuguese tuning tweets ("pq o ... saiu", "q agonia", "ta começando") are not committed
(their rights), so their classes are replayed as patient messages of the same construction.
"""

import pytest

from languages import LanguageCatalog, LanguageResolver

CLASSES = {
    # English writes "me" after its verb; a message that opens with it before a word Spanish lists, or a verb no
    # list has, is Spanish's pronoun before its verb (en.yml object_words).
    "an opening me before a spanish verb": (
        "es", ["me urge", "me he", "me dice", "me van", "me golpea", "me regalan", "me cachetea", "me sangraba"]
    ),
    # English words follow, the word after "me" is listed by no language that writes "me" before its verb
    # (Tagalog "at"), or it is English chat the profiles place in English.
    "english that opens with me": (
        "en",
        ["me too", "me neither", "me either", "me and my son", "me at", "me at the clinic", "me first", "me again",
         "me plz", "me tooo", "me nd my wife", "me gobsmacked"],
    ),
    # Still English: the pairs alone ("no me", "yo no"), "me" after a verb, "nose" alone or with English words.
    "english neighbours with the same words": (
        "en", ["no me", "yo no", "roll me dice", "call me", "nose", "runny nose", "nose bleed", "my nose is bleeding"]
    ),
    "portuguese that opens with me": ("pt", ["me ajuda", "me ajuda por favor", "me liga"]),
    # "-aban", "-ía", "-aron", "-iendo", "-ción": endings of Spanish's grammar that no other language writes
    # (es.yml word_shapes).
    "a spanish verb ending no list has": ("es", ["no paraban", "no paraban de llamar", "me sangraba"]),
    # "nose" ("no sé" typed as one word), "ud", "uds" (usted, ustedes; es-chat.txt).
    "spanish chat words": ("es", ["uds a", "ud?", "nose, ya veré", "nose q hacer", "ud me puede llamar"]),
    # Brazilian chat writes "q", "pq", "ta", "mt" as Spanish chat does (pt-chat.txt): words of both, so a Portuguese
    # word of its own tells.
    "portuguese chat with words spanish chat writes": ("pt", ["pq o medico saiu", "ta bom", "ta doendo", "q saudade"]),
    "spanish chat with those words": ("es", ["q onda", "q paso", "pq no me contestan", "ta bien", "mano me duele"]),
    # "-ável", "-ível", "-agem", "-eiro" are Portuguese spellings of Spanish "-able", "-ible", "-aje", "-ero".
    "portuguese endings": ("pt", ["que impagável", "que incrível", "que coragem", "a mensagem", "o primeiro"]),
    "spanish neighbours of those endings": ("es", ["que impagable", "que increíble", "que coraje", "el primero"]),
}


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


@pytest.mark.parametrize(
    ("language", "text"),
    [
        pytest.param(language, text, id=f"{name}: {text}")
        for name, (language, texts) in CLASSES.items()
        for text in texts
    ],
)
def test_first_message_language(resolver: LanguageResolver, language: str, text: str) -> None:
    assert resolver.resolve(text, None, None).language == language


ENGLISH = CLASSES["english that opens with me"][1] + CLASSES["english neighbours with the same words"][1]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_that_opens_with_me_keeps_an_english_conversation(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, "en", None).language == "en"


@pytest.mark.parametrize("text", ["me urge", "me duele"])
def test_a_two_word_spanish_message_does_not_switch_an_english_conversation(
    resolver: LanguageResolver, text: str
) -> None:
    """Two words are no strong evidence: a conversation keeps its language (only the first message is decided)."""
    assert resolver.resolve(text, "en", None).language == "en"
