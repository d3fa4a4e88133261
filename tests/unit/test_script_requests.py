"""Switches and language-concordant requests written in Korean, Russian and Arabic script, and the
mentions that must stay neither."""

import pytest

from languages import LanguageCatalog, LanguageResolver
from languages.script_requests import NAMES


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


def test_every_language_has_its_name_in_every_script() -> None:
    codes = {language.code for language in LanguageCatalog.load()}
    for script, names in NAMES.items():
        assert set(names) == codes, f"{script}: add the name of each language of languages/ to NAMES"


@pytest.mark.parametrize(
    ("text", "requested", "patient_language"),
    [
        ("엄마가 한국어만 해요", "ko", "ko"),
        ("어머니는 한국어밖에 못 하세요", "ko", "ko"),
        ("한국어 하는 의사 있어요?", "ko", "ko"),
        ("영어 하는 간호사 있나요", "en", "ko"),
        ("한국어 통역 필요해요", "ko", "ko"),
        ("моя мама говорит только по-русски", "ru", "ru"),
        ("есть врач, который говорит по-корейски?", "ko", "ru"),
        ("нужен переводчик с арабского", "ar", "ru"),
        ("русскоговорящий врач есть?", "ru", "ru"),
        ("есть кто-нибудь, кто говорит по-английски", "en", "ru"),
        ("أمي تتكلم العربية فقط", "ar", "ar"),
        ("هل يوجد طبيب يتكلم الكورية؟", "ko", "ar"),
        ("أحتاج مترجم عربي", "ar", "ar"),
        ("في حد بيحكي انجليزي؟", "en", "ar"),
        ("¿hay un doctor que hable chino?", "zh", "es"),
        ("is there a tagalog speaker", "tl", "en"),
    ],
)
def test_a_request_for_a_person_in_any_script_names_their_language(
    resolver: LanguageResolver, text: str, requested: str, patient_language: str
) -> None:
    assert resolver.concordant_request(text) == requested
    assert resolver.explicit_switch(text) is None, "a person is asked for, not the bot's language"
    assert resolver.resolve(text, None, None).language == patient_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("한국어로 해 주세요", "ko"), ("영어로 해주세요", "en"), ("한국어 가능해요?", "ko"), ("한국어요", "ko"),
        ("영어로 바꿔 주세요", "en"), ("говорите по-русски?", "ru"), ("по-русски пожалуйста", "ru"),
        ("на русском можно?", "ru"), ("давайте на английском", "en"), ("вы говорите по-английски?", "en"),
        ("بالعربي من فضلك", "ar"), ("هل تتكلم العربية؟", "ar"), ("ممكن بالعربي", "ar"), ("تكلم انجليزي", "en"),
        ("عربي", "ar"),
    ],
)
def test_asking_the_bot_for_a_language_in_any_script_switches(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.explicit_switch(text) == language
    assert resolver.resolve(text, "es", None).language == language


@pytest.mark.parametrize(
    "text",
    [
        "한국어로 된 서류 있나요", "한국 음식 좋아해요", "영어로 뭐라고 해요?", "한국어 수업",
        "у вас есть документы на русском?", "я не говорю по-английски", "как сказать спасибо по-английски",
        "русская еда", "мой муж англичанин", "моя мама говорит по-русски и по-английски, я тоже",
        "عندي أوراق بالعربي", "انا لا اتكلم الانجليزية", "كيف نقول شكرا بالانجليزي", "مطعم صيني قريب",
        "are french fries healthy", "is the korean bbq place near the clinic open", "my chinese food order",
    ],
)
def test_a_language_mentioned_in_any_script_is_neither_a_switch_nor_a_request(
    resolver: LanguageResolver, text: str
) -> None:
    assert resolver.explicit_switch(text) is None
    assert resolver.concordant_request(text) is None
