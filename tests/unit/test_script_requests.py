"""Switches and language-concordant requests written in Korean, Russian and Arabic script, and the
mentions that must stay neither."""

import pytest

from languages import LanguageCatalog, LanguageResolver
from languages.script_requests import SCRIPTS
from languages.text import SCRIPT_PATTERNS

CODES = sorted(language.code for language in LanguageCatalog.load())
KOREAN_NAMES = {"ar": "아랍어", "en": "영어", "es": "스페인어", "fr": "프랑스어", "ht": "아이티 크리올어",
                "ko": "한국어", "pt": "포르투갈어",
                "ru": "러시아어", "tl": "타갈로그어", "vi": "베트남어", "zh": "중국어"}
RUSSIAN_STEMS = {"ar": "арабск", "en": "английск", "es": "испанск", "fr": "французск", "ht": "гаитянск",
                 "ko": "корейск", "pt": "португальск", "ru": "русск", "tl": "тагальск", "vi": "вьетнамск",
                 "zh": "китайск"}
ARABIC_NAMES = {"ar": "العربية", "en": "الإنجليزية", "es": "الإسبانية", "fr": "الفرنسية", "ht": "الكريولية",
                "ko": "الكورية", "pt": "البرتغالية", "ru": "الروسية", "tl": "التاغالوغية", "vi": "الفيتنامية",
                "zh": "الصينية"}
"""Written here, not read from languages/*.yml, so that a name missing there fails the tests below."""


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


def test_every_language_has_its_name_in_every_script() -> None:
    assert set(KOREAN_NAMES) == set(RUSSIAN_STEMS) == set(ARABIC_NAMES) == set(CODES), "name each language below"
    for language in LanguageCatalog.load():
        for script in SCRIPTS:
            assert any(SCRIPT_PATTERNS[script].search(name) for name in language.names), (
                f"languages/{language.code}.yml: add its name in {script} script to names"
            )


def _switches_in_every_script(code: str) -> list[str]:
    korean, russian, arabic = KOREAN_NAMES[code], RUSSIAN_STEMS[code], ARABIC_NAMES[code]
    bare_arabic = arabic.removeprefix("ال")
    return [
        f"{korean}로 해 주세요", f"{korean}로 바꿔 주세요", f"{korean} 가능해요?", f"{korean}요", f"{korean}로",
        f"говорите по-{russian}и?", f"по-{russian}и пожалуйста", f"давайте на {russian}ом", f"на {russian}ом можно?",
        f"хочу на {russian}ом",
        f"هل تتكلم {arabic}؟", f"بال{bare_arabic} من فضلك", f"ممكن بال{bare_arabic}",
        f"تكلم {bare_arabic.removesuffix('ة')}",
    ]


def _mentions_in_every_script(code: str) -> list[str]:
    korean, russian, arabic = KOREAN_NAMES[code], RUSSIAN_STEMS[code], ARABIC_NAMES[code]
    bare_arabic = arabic.removeprefix("ال")
    return [
        f"{korean}로 된 서류 있나요", f"{korean} 수업", f"{korean}로 뭐라고 해요?",
        f"у вас есть документы на {russian}ом?", f"я не говорю по-{russian}и", f"как сказать спасибо по-{russian}и",
        f"хочу документы на {russian}ом",
        f"عندي أوراق بال{bare_arabic}", f"انا لا اتكلم {arabic}", f"كيف نقول شكرا بال{bare_arabic}",
    ]


@pytest.mark.parametrize("code", CODES)
def test_a_switch_to_each_language_in_korean_russian_and_arabic_switches(resolver: LanguageResolver, code: str) -> None:
    for text in _switches_in_every_script(code):
        assert resolver.explicit_switch(text) == code, text
        other = "es" if code != "es" else "en"
        assert resolver.resolve(text, other, None).language == code, text


@pytest.mark.parametrize("code", CODES)
def test_each_language_mentioned_in_korean_russian_or_arabic_is_no_switch(
    resolver: LanguageResolver, code: str
) -> None:
    for text in _mentions_in_every_script(code):
        assert resolver.explicit_switch(text) is None, text
        assert resolver.concordant_request(text) is None, text
        script_language = resolver.detect(text)
        assert script_language is not None and script_language.reason == "script", text
        assert resolver.resolve(text, script_language.language, None).language == script_language.language, text


@pytest.mark.parametrize(
    ("text", "requested", "patient_language"),
    [
        ("엄마가 한국어만 해요", "ko", "ko"),
        ("어머니는 한국어밖에 못 하세요", "ko", "ko"),
        ("한국어 하는 의사 있어요?", "ko", "ko"),
        ("영어 하는 간호사 있나요", "en", "ko"),
        ("한국어 통역 필요해요", "ko", "ko"),
        ("스페인어 할 줄 아는 의사 있나요", "es", "ko"),
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
