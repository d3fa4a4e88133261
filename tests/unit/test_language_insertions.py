"""A Spanish sentence that carries an English name or title is Spanish (``clause_openers`` in ``es.yml``,
``clause_words`` in ``en.yml``).

The class came from the Leyzer Spanish tuning intents (not committed; ``tests/data/language_detection/README.md``):
"añade esta canción a playlist legendary women of country" went to English, its English title outnumbering its
Spanish words. Patients write the same shape with the names of insurers, pharmacies, buildings and departments,
replayed here ("tengo blue cross blue shield" was English, and strongly so). Its neighbours must not move: an English
sentence after a Spanish greeting ("hola i need a refill"), English that opens with a name another language lists
("Barca look awful", "LA clinic hours", "yo man"), and English that carries a Spanish name.
"""

import pytest

from languages import LanguageCatalog, LanguageResolver


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("tengo blue cross blue shield", "es"),
        ("Tengo Blue Cross", "es"),
        ("mi seguro es blue shield of california", "es"),
        ("llamen a mi pharmacy walgreens on first street", "es"),
        ("busco el building b parking lot", "es"),
        ("necesito el medical records department", "es"),
        ("dónde queda urgent care north", "es"),
        ("añade esta canción a playlist legendary women of country", "es"),
        # an English sentence after a Spanish word, or English that opens with a name
        ("hola i need a refill", "en"),
        ("gracias thank you so much", "en"),
        ("si i need help", "en"),
        ("Barca look awful at the back", "en"),
        ("Leo Messi scores his 600th", "en"),
        ("la clinic hours", "en"),
        ("yo man", "en"),
        ("yo", "en"),
        ("play despacito by luis fonsi", "en"),
        ("book appointment with dr de la cruz", "en"),
        ("i need the address of clinica de la raza", "en"),
    ],
)
def test_an_english_name_in_a_spanish_sentence(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize("text", ["tengo blue cross blue shield", "mi seguro es blue shield of california"])
def test_a_spanish_patient_naming_the_insurer_is_not_switched_to_english(
    resolver: LanguageResolver, text: str
) -> None:
    """These were "strong" English, which switches a conversation: the bot went on in English."""
    assert resolver.resolve(text, "es", None).language == "es"


def test_an_inserted_name_never_switches_an_ongoing_english_conversation(resolver: LanguageResolver) -> None:
    resolution = resolver.resolve("tengo blue cross blue shield", "en", None)
    assert (resolution.language, resolution.reason) == ("en", "current")


def test_the_english_names_alone_stay_english(resolver: LanguageResolver) -> None:
    """Control: without the Spanish opening the same words are English, so the opening is what decides."""
    for text in ("blue cross blue shield", "blue shield of california", "pharmacy walgreens on first street"):
        assert resolver.resolve(text, None, None).language == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("my mom goes to la clinica del pueblo", "en"),
        ("i go to clinica de salud del pueblo", "en"),
        ("is la clinica de la raza open today", "en"),
        ("my appointment at clinica sierra vista", "en"),
        ("my pharmacy is farmacia del pueblo", "en"),
        ("where is centro de salud familiar", "en"),
        ("does clinica del valle take medicaid", "en"),
        ("my address is calle ocho 1520", "en"),
        # a Spanish sentence that opens with an English word: a Spanish verb, or Spanish words that name no place
        ("what pasa con mi cita", "es"),
        ("how hago una cita", "es"),
        ("where queda la clinica", "es"),
        ("my cita es mañana", "es"),
        ("my appointment para mañana", "es"),
        ("is el doctor disponible", "es"),
        ("can yo hablar con alguien", "es"),
        ("hi necesito ayuda", "es"),
        ("He conseguido enojarte", "es"),
    ],
)
def test_a_spanish_name_in_an_english_sentence(resolver: LanguageResolver, text: str, language: str) -> None:
    """The mirror case (``clause_openers`` in ``en.yml``, ``clause_words`` and ``name_heads`` in ``es.yml``): community
    clinics have Spanish names, and "my mom goes to la clinica del pueblo" was answered in Spanish."""
    assert resolver.resolve(text, None, None).language == language


def test_a_spanish_name_never_switches_an_ongoing_spanish_conversation(resolver: LanguageResolver) -> None:
    """The rule decides a first message only: a Spanish patient who writes a clinic's name with English words around
    it is not taken out of Spanish, nor switched by a Spanish sentence that opens with an English word."""
    for text in ("my pharmacy is farmacia del pueblo", "where queda la clinica"):
        assert resolver.resolve(text, "es", None).language == "es"
    assert resolver.resolve("what pasa con mi cita", "en", None).language == "es"


def test_the_spanish_names_alone_stay_spanish(resolver: LanguageResolver) -> None:
    """Control: without the English opening the same words are Spanish, so the opening is what decides."""
    for text in ("la clinica del pueblo", "clinica de salud del pueblo", "farmacia del pueblo"):
        assert resolver.resolve(text, None, None).language == "es"
