from pathlib import Path

import pytest

from languages import LanguageCatalog, LanguageResolver


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hola", "es"),
        ("hi", "en"),
        ("necesito un refill", "es"),
        ("toi muon gap bac si", "vi"),
        ("tôi muốn gặp bác sĩ", "vi"),
        ("我要refill", "zh"),
        ("我要預約", "zh"),
        ("what are your hours", "en"),
        ("안녕하세요", "ko"),
        ("здравствуйте", "ru"),
        ("مرحبا", "ar"),
    ],
)
def test_first_message_language(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize("text", ["ok", "hola", "gracias", "hi", "thanks", "yes", "si", "no", "12345", "??"])
def test_short_messages_never_flip_an_established_language(resolver: LanguageResolver, text: str) -> None:
    for current in ("en", "es", "vi", "zh"):
        assert resolver.resolve(text, current, None).language == current


@pytest.mark.parametrize(
    ("text", "current", "language"),
    [
        ("¿hablas español?", "en", "es"),
        ("hablas espanol", "en", "es"),
        ("in English please", "es", "en"),
        ("说中文", "en", "zh"),
        ("tiếng Việt được không", "en", "vi"),
        ("do you speak korean", "en", "ko"),
        ("quiero hablar con alguien de la oficina", "en", "es"),
        ("我想预约医生", "en", "zh"),
    ],
)
def test_explicit_switch_and_strong_evidence_change_language(
    resolver: LanguageResolver, text: str, current: str, language: str
) -> None:
    assert resolver.resolve(text, current, None).language == language


def test_locale_decides_a_first_message_without_evidence(resolver: LanguageResolver) -> None:
    assert resolver.resolve("ok", None, "es-US").language == "es"
    assert resolver.resolve("ok", None, "xx-YY").language == "en"
    assert resolver.resolve("ok", None, None).language == "en"


def test_a_long_message_that_mentions_a_language_is_not_a_switch(resolver: LanguageResolver) -> None:
    text = "my father spoke spanish and I need a copy of his records from last year please"
    assert resolver.resolve(text, "en", None).language == "en"


def test_every_language_has_the_notices_the_connector_sends() -> None:
    catalog = LanguageCatalog.load()
    for language in catalog:
        keys = ("queued", "language_concordant", "unsupported_language", "crisis_resources", "crisis_connecting",
                "crisis_unrecorded", "after_hours")
        for key in keys:
            assert key in language.notices, (language.code, key)
        assert "{language}" in language.notices["language_concordant"], "it names the language asked for"
        assert "988" in language.notices["crisis_resources"]
        assert "911" in language.notices["crisis_resources"]
        assert "988" in language.notices["crisis_unrecorded"], "an outage notice still gives the number first"
        assert language.notices["crisis_connecting"] not in language.notices["crisis_resources"], (
            "the promise of a person is sent only once the escalation is stored"
        )
        assert language.notices["crisis_connecting"] not in language.notices["crisis_unrecorded"]
    assert "marque 2" in catalog.notice("es", "crisis_resources")
    assert "AYUDA" in catalog.notice("es", "crisis_resources")
    project = Path(__file__).resolve().parents[2]
    with_flows = {path.name for path in (project / "data" / "nlu").iterdir() if path.is_dir()}
    with_responses = {path.stem for path in (project / "domain" / "responses").glob("*.yml")}
    assert set(catalog.bot_languages) == with_flows == with_responses, "bot: true exactly where the bot has flows"
    assert not catalog.has_bot("fr"), "a queue-only language stays queue-only"


def test_a_language_without_notices_gets_english_and_spanish() -> None:
    catalog = LanguageCatalog.load()
    notice = catalog.notice("xx", "queued", position=3)
    assert "number 3" in notice and "número 3" in notice


@pytest.mark.parametrize(
    "text",
    [
        "book a flu shot", "a billing question", "set a reminder", "may i", "may i ask a question", "yo",
        "yo whats up", "is there a chinese speaking doctor", "are french fries healthy",
        "my mom speaks only spanish", "does anyone there speak tagalog", "i speak english but my dad speaks russian",
    ],
)
def test_shared_words_and_mentioned_languages_do_not_outvote_english(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "en"
    assert resolver.resolve(text, "en", None).language == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [("in Spanish please", "es"), ("can we speak vietnamese", "vi"), ("español por favor", "es"),
     ("en español porfa", "es"), ("do you speak korean", "ko"), ("cambiar a inglés", "en"),
     ("only spanish", "es"), ("Spanish only please", "es"), ("korean only", "ko"), ("solo español", "es"),
     ("I only speak Spanish", "es"), ("sorry i can only speak korean", "ko"), ("solo hablo español", "es"),
     ("hi, I speak only Russian", "ru")],
)
def test_asking_for_a_language_is_a_switch(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.explicit_switch(text) == language


@pytest.mark.parametrize("text", ["is there a chinese speaking doctor", "are french fries healthy",
                                  "my mother only speaks korean", "vietnamese food near me",
                                  "is the menu only in spanish", "mi mamá solo habla coreano",
                                  "the only spanish class", "only spanish rice please"])
def test_mentioning_a_language_is_not_a_switch(resolver: LanguageResolver, text: str) -> None:
    assert resolver.explicit_switch(text) is None


@pytest.mark.parametrize("text", ["¿Doctor?", "¡No, no!", "¿Me?", "¿Hospital?", "¿Final?", "¡Doctor, doctor!"])
def test_an_opening_question_or_exclamation_mark_is_spanish_evidence(resolver: LanguageResolver, text: str) -> None:
    """Words English shares ("no", "me", "doctor", "hospital") alone are English; typed with ¿ or ¡ they are Spanish."""
    assert resolver.resolve(text, None, None).language == "es"
    assert resolver.resolve(text.strip("¿¡?!"), None, None).language == "en"


@pytest.mark.parametrize("text", ["¿what time do you open tomorrow?", "¡thank you so much for the help!"])
def test_a_spanish_mark_does_not_outvote_clear_english(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "en"


@pytest.mark.parametrize("text", ["¿Doctor?", "¡No, no!"])
def test_a_spanish_mark_on_a_short_message_does_not_flip_an_established_language(
    resolver: LanguageResolver, text: str
) -> None:
    assert resolver.resolve(text, "en", None).language == "en"


@pytest.mark.parametrize(("text", "locale"), [("aaahhh", "es"), ("Ooooh", "vi"), ("uuuhhh", "tl"), ("mhmm", "zh")])
def test_a_drawn_out_sound_is_no_evidence_and_the_locale_decides(
    resolver: LanguageResolver, text: str, locale: str
) -> None:
    assert resolver.detect(text) is None
    assert resolver.resolve(text, None, locale).language == locale
    assert resolver.resolve(text, "ko", None).language == "ko"


def test_a_two_letter_word_of_doubled_vowels_is_still_a_word(resolver: LanguageResolver) -> None:
    """Tagalog "oo" (yes) is a word, not a drawn-out sound; and a sound does not hide the words after it."""
    assert resolver.resolve("oo", None, None).language == "tl"
    assert resolver.resolve("ahhh me duele la cabeza", None, None).language == "es"
    assert resolver.resolve("aaah, I need a refill", None, None).language == "en"
