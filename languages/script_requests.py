"""Switches and language-concordant requests written in Korean, Russian and Arabic.

The same two questions as ``languages/requests.py`` (does the message ask the bot to speak a language,
or ask for a person who speaks one?), for languages whose names of languages are inflected or carry
particles: Korean "한국어로" (in Korean), "한국어만" (only Korean); Russian "по-русски", "на русском";
Arabic "بالعربي" (in Arabic), "العربية". Each script has the names of every language of
``languages/`` in it (in the ``names`` of the language's YAML file; a test fails when a language lacks
one) and the words around a name that make it a request.

- A **switch**: the message is short and the name is the whole request ("한국어요", "по-русски
  пожалуйста", "بالعربي من فضلك") or follows a verb of speaking addressed to the bot ("говорите
  по-русски?", "تتكلم عربي؟", "영어로 해 주세요"); not when a thing is wanted in it ("документы на
  русском", "한국어로 된 서류"), nor a word asked about ("как сказать ... по-русски").
- A **person**: the name goes with someone who speaks it ("врач, который говорит по-корейски",
  "한국어 하는 의사", "طبيب يتكلم الكورية"), with an interpreter ("переводчик с арабского",
  "한국어 통역", "مترجم عربي"), or with a family member who speaks only it ("моя мама говорит только
  по-русски", "엄마가 한국어만 해요", "أمي تتكلم العربية فقط").
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

from languages.catalog import LanguageCatalog
from languages.text import SCRIPT_PATTERNS

SCRIPTS = ("hangul", "cyrillic", "arabic")
RUSSIAN_ENDINGS = re.compile("(?:ий|ый|ой|ая|ое|ие|ые|ого|ому|ом|ую|и)$")
"""Adjective endings after the stem of a Russian language name: "английский", "на английском", "по-английски"."""

MAX_SWITCH_WORDS = 8
ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
"""Arabic vowel marks and the tatweel, which patients may or may not type."""


@dataclass(frozen=True)
class ScriptWords:
    speak_to_bot: frozenset[str]
    """Verbs of speaking addressed to the bot or to "us", and "may we": before a name they ask for it."""
    speaking: frozenset[str]
    """Verbs of speaking with someone else as subject: "говорит", "يتكلم"."""
    people: frozenset[str]
    family: frozenset[str]
    only: frozenset[str]
    interpreters: frozenset[str]
    asking_about_words: frozenset[str]
    links: frozenset[str]
    """May stand between a verb and the name: "на", "по", "اللغه"."""
    polite: frozenset[str]


RUSSIAN = ScriptWords(
    speak_to_bot=frozenset(["говорите", "говоришь", "говори", "пишите", "напишите", "пиши", "ответьте", "отвечайте",
                            "можно", "давайте", "давай", "перейдите", "перейдем", "переключите", "общаться",
                            "поговорить", "говорить", "помогите", "продолжим", "продолжить", "хочу", "хотим"]),
    speaking=frozenset(["говорит", "говорят", "говорящий", "говорящая", "говорящего", "разговаривает",
                        "понимает", "понимают", "знает", "владеет"]),
    people=frozenset(["врач", "врача", "доктор", "доктора", "медсестра", "медсестру", "медбрат", "человек",
                      "кто", "кто-нибудь", "кто-то", "сотрудник", "сотрудника", "специалист", "специалиста",
                      "который", "которая", "которые", "оператор", "оператора", "консультант", "фармацевт"]),
    family=frozenset(["мама", "мать", "папа", "отец", "бабушка", "дедушка", "муж", "жена", "сын", "дочь",
                      "родители", "свекровь", "теща", "тёща", "он", "она", "они", "брат", "сестра"]),
    only=frozenset(["только"]),
    interpreters=frozenset(["переводчик", "переводчика", "переводчица", "переводчицу", "переводчики", "перевод"]),
    asking_about_words=frozenset(["сказать", "будет", "перевести", "переводится", "значит", "называется"]),
    links=frozenset(["на", "по", "языке", "язык"]),
    polite=frozenset(["пожалуйста", "пж", "плиз", "спасибо", "можно", "ли", "вы", "мне", "с", "со", "мной", "нами"]),
)
ARABIC = ScriptWords(
    speak_to_bot=frozenset(["تتكلم", "تتكلمي", "تتكلمون", "تكلم", "تكلمي", "تكلمني", "تحكي", "احكي", "احكيلي",
                            "تتحدث", "تحدث", "تحدثي", "اكتب", "اكتبي", "رد", "ردي", "جاوب", "ممكن", "نتكلم",
                            "نحكي", "نتحدث", "خلينا", "كلمني", "تعرف", "بتعرف", "بتحكي", "بتتكلم"]),
    speaking=frozenset(["يتكلم", "يتكلمون", "تتكلم", "يتحدث", "تتحدث", "يحكي", "تحكي", "بيحكي", "بتحكي",
                        "بيتكلم", "بتتكلم", "يعرف", "تعرف", "يفهم", "تفهم"]),
    people=frozenset(["طبيب", "طبيبه", "دكتور", "دكتوره", "ممرض", "ممرضه", "شخص", "احد", "حد", "حدا", "موظف",
                      "موظفه", "اخصائي", "صيدلي", "مين"]),
    family=frozenset(["امي", "ماما", "ابي", "بابا", "والدتي", "والدي", "جدتي", "جدي", "زوجي", "زوجتي", "ابني",
                      "بنتي", "ابنتي", "اهلي", "امه", "ابوه", "هو", "هي", "هم"]),
    only=frozenset(["فقط", "بس", "غير", "الا"]),
    interpreters=frozenset(["مترجم", "مترجمه", "ترجمه", "مترجمين"]),
    asking_about_words=frozenset(["نقول", "يقال", "تقول", "معنى", "ترجم", "ترجمة", "كيف"]),
    links=frozenset(["اللغه", "باللغه", "لغه"]),
    polite=frozenset(["من", "فضلك", "لو", "سمحت", "رجاء", "ارجوك", "شكرا", "معي", "معاي", "هل"]),
)
HANGUL_SWITCH = (
    "(?:로|으로)\\s*(?:해|말|얘기|이야기|대화|답|써|상담|진행|바꿔|변경|주세요|부탁|가능|돼|될|되나|할\\s*수)"
)
HANGUL_ASKING = "(?:요|\\s*(?:가능|돼|되나|될까|할\\s*수|할\\s*줄|하세요|하시나요|해요|주세요|부탁)\\S*)"
HANGUL_PEOPLE = "(?:의사|선생님|간호사|사람|분|직원|상담원|상담사|약사|담당자|통역)"
HANGUL_FAMILY = (
    "(?:엄마|어머니|어머님|아빠|아버지|아버님|부모님|할머니|할아버지|남편|아내|와이프|아들|딸|시어머니|장모님)"
)
HANGUL_SPEAKING = (
    "(?:을|를)?\\s*(?:하는|하시는|할\\s*수\\s*있는|할\\s*줄\\s*아는|할\\s*줄\\s*아시는|가능한|잘하는|쓰는|말하는"
    "|하실\\s*수\\s*있는)\\s*"
)
HANGUL_ASKING_ABOUT = re.compile("(?:뭐|무엇|어떻게)\\s*(?:라고|말해|해요|하나요)|뜻")


class ScriptRequests:
    """Switches and person requests written in Hangul, Cyrillic or Arabic script."""

    def __init__(self, catalog: LanguageCatalog) -> None:
        self.names = script_names(catalog)
        self._hangul = {code: "|".join(map(re.escape, names)) for code, names in self.names["hangul"].items()}

    def explicit_switch(self, text: str) -> Optional[str]:
        lowered = text.lower()
        for code, names in self._hangul.items() if SCRIPT_PATTERNS["hangul"].search(lowered) else ():
            if HANGUL_ASKING_ABOUT.search(lowered):
                break
            if re.search(f"(?:{names}){HANGUL_SWITCH}", lowered) or re.fullmatch(
                f"\\s*(?:{names})(?:로|으로)?{HANGUL_ASKING}?\\s*[?？!.]*\\s*", lowered
            ):
                return code
        for script, words in self._written_in(text):
            tokens = _tokens(text)
            if len(tokens) > MAX_SWITCH_WORDS or any(token in words.asking_about_words for token in tokens):
                continue
            if any(token in words.family or token in words.people for token in tokens):
                continue  # about someone else: "моя мама говорит по-русски"
            for index, code in _named(tokens, self.names[script], script):
                head = [token for token in tokens[:index] if token not in words.links | words.polite]
                tail = [token for token in tokens[index + 1 :] if token not in words.links | words.polite]
                if (not head and not tail) or (head and head[-1] in words.speak_to_bot):
                    return code
        return None

    @staticmethod
    def _written_in(text: str) -> list[tuple[str, ScriptWords]]:
        """Cyrillic and Arabic with their words, those of the two the message has letters of (a name is written
        in its script)."""
        return [(script, words) for script, words in (("cyrillic", RUSSIAN), ("arabic", ARABIC))
                if SCRIPT_PATTERNS[script].search(text)]

    def concordant_person(self, text: str) -> Optional[str]:
        lowered = text.lower()
        for code, names in self._hangul.items() if SCRIPT_PATTERNS["hangul"].search(lowered) else ():
            if (
                re.search(f"(?:{names}){HANGUL_SPEAKING}{HANGUL_PEOPLE}", lowered)
                or re.search(f"(?:{names})\\s*(?:통역|번역)", lowered)
                or re.search(f"{HANGUL_FAMILY}\\S*\\s+(?:\\S+\\s+)?(?:{names})(?:만|밖에)", lowered)
            ):
                return code
        for script, words in self._written_in(text):
            tokens = _tokens(text)
            for index, code in _named(tokens, self.names[script], script):
                near = tokens[max(0, index - 3) : index + 3]
                if any(token in words.interpreters for token in near):
                    return code
                if tokens[index].endswith(("говорящ", "говорящий", "говорящая", "говорящие", "язычный", "язычного")):
                    return code
                before = tokens[:index]
                verb = max((i for i, token in enumerate(before) if token in words.speaking), default=-1)
                if verb < 0 or index - verb > 3:
                    continue
                if any(token in words.only for token in tokens) and any(token in words.family for token in tokens):
                    return code
                if any(token in words.people for token in before[max(0, verb - 4) : verb]):
                    return code
        return None


def _tokens(text: str) -> list[str]:
    """Words in lower case; Arabic without diacritics, with its alef, yeh and teh marbuta forms unified."""
    folded = ARABIC_MARKS.sub("", unicodedata.normalize("NFC", text.lower())).replace("ё", "е")
    folded = re.sub("[أإآ]", "ا", folded).replace("ى", "ي").replace("ة", "ه")
    return re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", folded)


def script_names(catalog: LanguageCatalog) -> dict[str, dict[str, tuple[str, ...]]]:
    """The names of each language in Hangul, Cyrillic and Arabic script, from the ``names`` of its YAML file:
    Korean whole words, Russian stems ("английск"), Arabic folded and without the article ("انجليزيه")."""
    names: dict[str, dict[str, tuple[str, ...]]] = {script: {} for script in SCRIPTS}
    for language in catalog:
        for script in SCRIPTS:
            found = [_name_key(name, script) for name in language.names if SCRIPT_PATTERNS[script].search(name)]
            if found:
                names[script][language.code] = tuple(dict.fromkeys(found))
    return names


def _name_key(name: str, script: str) -> str:
    if script == "cyrillic":
        return RUSSIAN_ENDINGS.sub("", _tokens(name)[-1].removeprefix("по-"))
    if script == "arabic":
        folded = _tokens(name)[-1]
        return folded[2:] if folded.startswith("ال") and len(folded) >= 5 else folded
    return name


def _named(tokens: list[str], names: dict[str, tuple[str, ...]], script: str) -> list[tuple[int, str]]:
    """(position, language) of each word naming a language in this script."""
    found = []
    for index, token in enumerate(tokens):
        forms = {token.removeprefix("по-")} if script == "cyrillic" else _without_arabic_prefixes(token)
        for code, language_names in names.items():
            if any(_names(form, name, script) for form in forms for name in language_names):
                found.append((index, code))
                break
    return found


def _names(word: str, name: str, script: str) -> bool:
    if script == "cyrillic":
        # "английский", "по-английски", and the compounds "англоязычный", "русскоговорящий"
        return word.startswith(name) or word.startswith(name.removesuffix("ийск").removesuffix("ск") + "о")
    return word == name


def _without_arabic_prefixes(word: str) -> set[str]:
    """The word as it is and without each prefix it may carry: "بالعربي" (in Arabic), "والعربيه", "العربيه" ->
    "عربي", "عربيه"; "برتغالي" stays itself as well ("ب" is also its first letter)."""
    forms = {word}
    for prefix in ("بال", "وال", "فال", "لل", "ال", "ب"):
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            forms.add(word[len(prefix):])
    return forms
