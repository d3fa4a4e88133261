"""Messages made only of words several languages share ("no", "me", "yo", "ay") and words no list knows.

The cases replay the error classes of the tuning sets read on the branch ``langid-short``: the crisis cases
"Me violaron", "vo me mata" and "Ti bebe a vale yon pil" (``tests/data/crisis/``, tuning split) word for word;
the ACTIV-ES tuning films and the XLM-T Portuguese tuning tweets are not committed (their rights), so their
misses ("no/me + a verb no list knows", "ay", Portuguese "você" taken for Vietnamese) are replayed as patient
messages of the same construction. Each has English neighbours with the same words, which stay English.
"""

import pytest

from languages import LanguageCatalog, LanguageResolver


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


@pytest.mark.parametrize(
    "text",
    [
        "Me violaron",
        "me emociona",
        "me raptaron",
        "no me contestan",
        "no me atienden",
        "no firmes nada",
        "no sea malo",
        "no seas malo",
        "yo no puedo ir",
        "yo no me acuerdo",
        "me dice que espere",
        "me dijo que espere",
    ],
)
def test_shared_words_with_a_spanish_verb_no_list_knows_are_spanish(resolver: LanguageResolver, text: str) -> None:
    """ "me" and "no" are English words too; a Spanish pair ("no me", "yo no") or a verb whose letters are
    Spanish ("emociona", "violaron") tells."""
    assert resolver.resolve(text, None, None).language == "es"


@pytest.mark.parametrize(
    "text",
    [
        "no me",
        "yo no",
        "no me neither",
        "no me either",
        "no me too",
        "me too",
        "not me",
        "text me asap",
        "email me the form",
        "call me tmrw",
        "no biggie",
        "roll me dice",
        "yo no way",
        "no he didnt",
        "no, me and my husband both have covid",
    ],
)
def test_english_with_the_same_words_stays_english(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "en"
    assert resolver.resolve(text, "en", None).language == "en"


@pytest.mark.parametrize("text", ["ay", "ay, pobrecita", "ay que dolor", "ay me duele"])
def test_ay_is_spanish_too(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "es"


def test_ay_in_a_tagalog_sentence_stays_tagalog(resolver: LanguageResolver) -> None:
    assert resolver.resolve("ang anak ko ay may lagnat po", None, None).language == "tl"


@pytest.mark.parametrize("text", ["si le duele mucho", "¿si le llamo?"])
def test_a_spanish_pair_is_no_unaccented_vietnamese_pair(resolver: LanguageResolver, text: str) -> None:
    """ "si le" is "sĩ lê" without diacritics; two Spanish words are Spanish."""
    assert resolver.resolve(text, None, None).language == "es"


@pytest.mark.parametrize("text", ["toi muon gap bac si", "tôi", "tôi bị sốt", "cam on bac si"])
def test_vietnamese_still_vietnamese(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "vi"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("você tá bem", "pt"),
        ("tô com febre", "pt"),
        ("cadê o médico", "pt"),
        ("vc pode me ligar hj", "pt"),
        ("kkkkk adorei", "pt"),
        ("vo me mata", "pt"),
        ("Ti bebe a vale yon pil", "ht"),
        ("être malade", "fr"),
        ("je suis à l'hôpital", "fr"),
    ],
)
def test_portuguese_french_and_haitian_words_are_theirs(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    """"â", "ê", "ô" are no Vietnamese-only letters; "vo me mata" and "Ti bebe a vale yon pil" are crisis tuning
    cases (``tests/data/crisis/``) that went to Spanish."""
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize(("text", "language"), [("adivina", "es"), ("cálmese güey", "es"), ("celebrities", "en")])
def test_a_word_no_list_knows_is_placed_by_the_letters_of_the_word_lists(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    """The character profiles learn each language's word lists too, not its NLU examples only."""
    assert resolver.resolve(text, None, None).language == language
