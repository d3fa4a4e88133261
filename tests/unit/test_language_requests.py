"""Asking for a person who speaks a language, as against naming a language in passing."""

import pytest

from languages import LanguageCatalog, LanguageResolver


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


@pytest.mark.parametrize(
    ("text", "requested", "patient_language"),
    [
        ("is there a Chinese-speaking doctor", "zh", "en"),
        ("is there a chinese speaking doctor?", "zh", "en"),
        ("my mother only speaks Korean", "ko", "en"),
        ("my mom speaks only spanish", "es", "en"),
        ("can i get a nurse who speaks korean please", "ko", "en"),
        ("does anyone there speak tagalog", "tl", "en"),
        ("do you have doctors that speak russian", "ru", "en"),
        ("i need an interpreter for my dad, he speaks arabic", "ar", "en"),
        ("can we get a korean interpreter", "ko", "en"),
        ("any portuguese speaking staff", "pt", "en"),
        ("my dad only understands haitian creole", "ht", "en"),
        ("¿tienen un médico que hable vietnamita?", "vi", "es"),
        ("tienen un medico que hable vietnamita", "vi", "es"),
        ("hay alguien que hable chino", "zh", "es"),
        ("mi mamá solo habla coreano", "ko", "es"),
        ("necesito un intérprete de árabe", "ar", "es"),
        ("có bác sĩ nói tiếng Hàn không", "ko", "vi"),
        ("co bac si noi tieng han khong", "ko", "vi"),
        ("mẹ tôi chỉ nói tiếng Việt", "vi", "vi"),
        ("有会说韩语的医生吗", "ko", "zh"),
        ("有沒有講廣東話的醫生", "zh", "zh"),
        ("我妈妈只会说中文", "zh", "zh"),
        ("需要越南语翻译", "vi", "zh"),
    ],
)
def test_a_request_for_a_person_names_their_language_and_the_patient_keeps_their_own(
    resolver: LanguageResolver, text: str, requested: str, patient_language: str
) -> None:
    assert resolver.concordant_request(text) == requested
    assert resolver.resolve(text, None, None).language == patient_language
    assert resolver.resolve(text, patient_language, None).language == patient_language


@pytest.mark.parametrize(
    "text",
    [
        "my chinese food order", "are french fries healthy", "korean bbq near me", "spanish rice recipe",
        "how do you say hello in spanish", "is there a spanish class", "french toast", "the chinese restaurant",
        "spanish speaking countries", "my friend is korean", "is the doctor chinese", "the doctor speaks english",
        "i speak english", "i only speak spanish", "my parents speak spanish but i can translate",
        "i speak english but my wife prefers french", "vietnamese food near me", "does the nurse speak too fast",
        "no hablo ingles", "me solo hablan en ingles", "comida china", "con el chino de la esquina",
        "do you speak korean", "in spanish please", "说中文", "我不会说英文", "我要去中国餐馆", "pho viet nam ngon",
        "how do you say thank you in korean",
    ],
)
def test_a_language_named_in_passing_or_asked_of_the_bot_asks_for_no_person(
    resolver: LanguageResolver, text: str
) -> None:
    assert resolver.concordant_request(text) is None


@pytest.mark.parametrize(
    ("text", "current"),
    [("我不会说英文", "zh"), ("有会说英文的医生吗", "zh"), ("我妈妈只会说中文", "en"), ("有会说中文的医生吗", "en")],
)
def test_naming_a_language_in_han_script_switches_only_when_the_message_asks_for_it(
    resolver: LanguageResolver, text: str, current: str
) -> None:
    assert resolver.explicit_switch(text) is None
    assert resolver.resolve(text, current, None).language == "zh", "Han script: the patient writes Chinese"


@pytest.mark.parametrize(
    "text", ["how do you say thank you in korean", "what does gracias mean in english", "como se dice cita en ingles"]
)
def test_asking_what_a_word_is_in_a_language_is_not_a_switch(resolver: LanguageResolver, text: str) -> None:
    assert resolver.explicit_switch(text) is None


@pytest.mark.parametrize(
    ("text", "language"), [("请改用英文", "en"), ("中文可以吗", "zh"), ("英文", "en"), ("한국어", "ko")]
)
def test_a_han_or_hangul_message_that_asks_for_a_language_switches(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.explicit_switch(text) == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("cam on", "vi"), ("tam biet", "vi"), ("refill thuoc", "vi"), ("xin chao", "vi"),
        ("q onda", "es"), ("ntp gracias", "es"), ("xq no contestan", "es"), ("me duele la cabeza", "es"),
        ("on my way", "en"), ("is the cam on", "en"), ("is my cam on", "en"), ("tam is my sister", "en"),
        ("pie recipe", "en"),
    ],
)
def test_chat_spanish_and_vietnamese_without_diacritics_without_losing_english(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize(
    "text",
    ["no english", "No English!", "english no", "no english please", "i dont speak english", "no speak english",
     "I don't speak English very well", "sorry no understand english", "not much english", "english not good",
     "i can't read english"],
)
def test_a_patient_with_no_english_who_names_no_language_is_offered_the_languages(
    resolver: LanguageResolver, text: str
) -> None:
    resolution = resolver.resolve(text, None, None)
    assert (resolution.language, resolver.lacks_english(text)) == ("en", True)


@pytest.mark.parametrize(
    "text",
    ["no, english is fine", "do you speak english", "i can speak english", "english please", "english?",
     "not in english", "no english forms today?", "my english is not good but i can read it", "no thanks",
     "i dont know", "is the english menu open"],
)
def test_english_said_otherwise_offers_nothing(resolver: LanguageResolver, text: str) -> None:
    assert not resolver.lacks_english(text)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("no english only spanish", "es"),
        ("no english, spanish please", "es"),
        ("i don't speak english, i speak spanish", "es"),
        ("sorry no english, tagalog?", "tl"),
        ("no english. korean", "ko"),
        ("no english vietnamese please", "vi"),
        ("no hablo inglés", "es"),
        ("No hablo ingles", "es"),
        ("no inglés", "es"),
        ("no hablo inglés, solo coreano", "ko"),
        ("não falo inglês", "pt"),
        ("je ne parle pas anglais", "fr"),
        ("không biết tiếng Anh", "vi"),
        ("hindi ako marunong mag-english", "tl"),
        ("mwen pa pale angle", "ht"),
    ],
)
def test_no_english_and_a_language_asked_for_switches_to_it(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.resolve(text, "en", None).language == language
    assert not resolver.lacks_english(text)


@pytest.mark.parametrize(
    "text", ["no english, my spanish is better", "my mom doesn't speak english, she speaks spanish"]
)
def test_no_english_and_a_language_mentioned_is_no_switch(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, "en", None).language == "en"
