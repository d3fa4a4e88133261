"""Short commands to an assistant and chat Spanish: the error classes of the branch ``langid``.

The branch read the misses of the Leyzer tuning intents (Spanish and English requests to a voice assistant, not
committed; ``tests/data/language_detection/README.md``) and replays their classes here as patient messages of the
same construction: an email or web address whose parts ("mail", "com", "ly") were counted as Portuguese or English
words ("responde a nacha@mail.com" was Portuguese), an app named in a Spanish request ("abre youtube") that counted
for English, and a Spanish command verb the lists lacked beside an English word ("verifica email", "confirma
appointment"), and a request to translate whose words were the other language's ("cómo se dice i need a refill").
From the ACTIV-ES tuning films, the EmoEvent Spanish tuning tweets and the chit-chat tuning messages:
chat Spanish no list had ("Chiquitos, chau.", "No cacho", "Jelou"). Each has neighbours that must not move: English
messages with the same address, app or word, and a Spanish-looking address in an English message.
"""

import pytest

from languages import LanguageCatalog, LanguageResolver
from languages.detection import Resolution
from languages.vocabulary import LEXICON_DIR, NEUTRAL, lexicon


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("responde a nacha@mail.com", "es"),
        ("mi correo es juan.perez@gmail.com", "es"),
        ("mándalo a ursua@outlook.com por favor", "es"),
        ("sube bit.ly/5RTHNrw a facebook", "es"),
        ("no puedo entrar a portal.clinica.org", "es"),
        ("mira https://portal.example.com/citas", "es"),
        # an English message with an address of Spanish or Portuguese words stays English
        ("my email is maria.de.la.paz@correo.es", "en"),
        ("please send it to mi.casa.com", "en"),
        ("email me at juan@hotmail.com", "en"),
        ("the link bit.ly/hola-que-tal does not open", "en"),
        ("send it to esperanza@clinica.org", "en"),
        # an address spoken word by word is no address: its words still count
        ("email hwu@gmail dot com", "en"),
    ],
)
def test_an_address_is_no_words_of_the_message(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize("address", ["nacha@mail.com", "bit.ly/5RTHNrw", "www.clinica.com.mx", "portal.salud.gov"])
def test_an_address_alone_is_no_evidence(resolver: LanguageResolver, address: str) -> None:
    """An attack: an address alone, or a run of them, moves no conversation to another language."""
    assert resolver.detect(address) is None
    for current in ("es", "en", "tl"):
        assert resolver.resolve(f"{address} {address}", current, None).language == current


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("abre youtube", "es"),
        ("mándame el link por whatsapp", "es"),
        ("no puedo entrar a mychart", "es"),
        ("busca en google", "es"),
        ("la farmacia walgreens", "es"),
        ("open youtube", "en"),
        ("can you send it on whatsapp", "en"),
        ("i can't log into mychart", "en"),
        ("is walgreens open", "en"),
        ("show a video matching karaoke on youtube", "en"),
    ],
)
def test_an_app_name_is_no_evidence_and_the_words_around_it_tell(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize("app", ["whatsapp", "youtube", "mychart", "Google", "WALGREENS"])
def test_an_app_name_alone_keeps_the_language(resolver: LanguageResolver, app: str) -> None:
    assert resolver.detect(app) is None
    assert resolver.resolve(app, None, None).language == "en"
    assert resolver.resolve(app, None, "es-MX").language == "es"
    assert resolver.resolve(f"{app} {app} {app}", "es", None).language == "es"
    assert resolver.resolve(f"{app} {app} {app}", "en", "es-MX").language == "en"


def test_app_names_are_no_words_of_a_language(resolver: LanguageResolver) -> None:
    """Names that are also words ("outlook", "zoom", "apple") are left out of the neutral list; email providers
    ("gmail", "hotmail") too, as they carry the English of a spoken address ("at gmail dot com")."""
    neutral = lexicon(NEUTRAL)
    assert {"whatsapp", "youtube", "mychart", "google"} <= neutral
    assert not {"outlook", "zoom", "apple", "telegram", "gmail", "hotmail"} & neutral


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("cancela", "es"),
        ("cancele", "es"),
        ("cancele mi cita", "es"),
        ("confirma appointment", "es"),
        ("reanuda spotify", "es"),
        ("verifique mi seguro", "es"),
        ("imprime el recibo", "es"),
        ("reagendar", "es"),
        ("reagendar appointment", "es"),
        ("reschedule", "en"),
        ("reschedule mi cita", "es"),
        # English commands, and English words the list leaves out ("revise", "active", "continue", "pause")
        ("cancel", "en"),
        ("please cancel", "en"),
        ("cancel appointment", "en"),
        ("revise the form", "en"),
        ("continue", "en"),
        ("active", "en"),
        ("pause", "en"),
        ("cancela appointment please", "en"),
        # the imperatives Portuguese writes alike count for Portuguese too
        ("cancela o episódio", "pt"),
        ("verifica isso", "pt"),
        ("avisa ela", "pt"),
    ],
)
def test_a_spanish_command_verb_weighs_against_an_english_word(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.resolve(text, None, None).language == language


def test_the_spanish_commands_are_no_english_words_and_the_portuguese_alike_are_among_them(
    resolver: LanguageResolver,
) -> None:
    commands, shared = (
        {line for line in (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines() if not line.startswith("#")}
        for name in ("es-commands.txt", "pt-commands.txt")
    )
    assert commands and shared <= commands
    assert not commands & resolver._words["en"]
    assert all(word in resolver._words["pt"] for word in shared)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("chau", "es"),
        ("Chiquitos, chau.", "es"),
        ("Dinos, mana.", "es"),
        ("che, no", "es"),
        ("órale pues", "es"),
        ("ajá", "es"),
        ("gracias mijo", "es"),
        ("joder que dolor", "es"),
        ("Uy, yo", "es"),
        ("no cacho", "es"),
        ("pinche Messi", "es"),
        ("campeones de liga", "es"),
        ("jelou", "es"),
        # English around the same words stays English
        ("no", "en"),
        ("ok bye", "en"),
        ("che guevara was born in argentina", "en"),
        ("my son says joder all the time", "en"),
        ("mmr vaccine", "en"),
        ("did my son get the mmr shot", "en"),
    ],
)
def test_chat_spanish_the_lists_lacked(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("cómo se dice i need a refill", "es"),
        ("como se dice headache", "es"),
        ("qué significa copay", "es"),
        ("traduce where is the pharmacy", "es"),
        ("how do you say dolor de cabeza", "en"),
        ("translate necesito una cita", "en"),
        ("what's the translation of me duele el pecho", "en"),
        ("how do you say 谢谢", "en"),
        # not a frame: Portuguese writes "que significa", and a frame alone is an ordinary message
        ("que significa isso", "pt"),
        ("translate", "en"),
        ("traduce", "es"),
    ],
)
def test_a_message_that_asks_how_to_say_words_is_the_language_of_its_frame(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.resolve(text, None, None).language == language


def test_a_translation_frame_moves_no_conversation(resolver: LanguageResolver) -> None:
    """An attack: a frame is no switch; a Spanish conversation asking how to say something in English stays Spanish,
    and an English one asking in Spanish stays English; a frame that agrees with the words keeps their strength."""
    assert resolver.resolve("how do you say dolor de cabeza", "es", None).language == "es"
    assert resolver.resolve("cómo se dice i need a refill", "en", None).language == "en"
    assert resolver.detect("how do you say headache") == Resolution("en", "strong-words")
    assert resolver.detect("cómo se dice headache en español") == Resolution("es", "strong-words")
    assert resolver.detect("cómo se dice i need a refill") == Resolution("es", "words")
