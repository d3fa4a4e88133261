"""What a message asks for by a language's name: the bot in that language, or a person who speaks it.

A language named in passing is neither: "are french fries healthy", "my chinese food order", "how do
you say hello in spanish", "my parents speak spanish but i can translate".

- **A switch** asks the bot to speak the language: the message is little more than the name
  ("español?", "english please", "only spanish", "korean only", "tiếng Việt được không"), the name follows
  "in"/"en" ("in Spanish please"), it follows a verb of speaking whose subject is the bot or "we"
  ("¿hablas español?", "do you speak korean", "can we speak vietnamese"), or the patient speaks only it
  ("i only speak spanish", "solo hablo español"); in Han script, the message is the name and
  words of asking only ("说中文", "请改用英文"; not "我不会说英文", I can't speak English).
- **A language-concordant person** is asked for when the name goes with someone who speaks it ("is
  there a chinese speaking doctor", "a nurse who speaks korean", "does anyone speak tagalog",
  "¿tienen un médico que hable vietnamita?", "có bác sĩ nói tiếng Hàn không", "有会说韩语的医生吗"),
  with an interpreter ("a korean interpreter", "intérprete de árabe", "越南语翻译"), or with a family
  member who speaks only that language ("my mother only speaks korean", "mi mamá solo habla
  coreano", "mẹ tôi chỉ nói tiếng Việt", "我妈妈只会说中文"). The patient keeps their own language
  with the bot; the person comes from the named language's queue.
"""

import re
from typing import Optional

from languages.catalog import LanguageCatalog
from languages.script_requests import ScriptRequests
from languages.text import SCRIPT_PATTERNS, occurrences, plain_words

MAX_SWITCH_REQUEST_WORDS = 7
"""A message in Han script that names a language this short may be a request for it."""
MAX_SWITCH_SENTENCE_WORDS = 12
POLITE_WORDS = frozenset(
    [
        "please", "pls", "plz", "por", "favor", "porfa", "porfavor", "thanks", "gracias", "s'il", "vous", "plait",
        "plait", "po", "a", "nhe",
    ]
)
SWITCH_PREPOSITIONS = frozenset(["in", "en", "em", "sa", "into", "bang"])
"""Right before a language name, these ask for it: "in spanish please", "en español", "bằng tiếng Việt"."""
SPEAK_VERBS = frozenset(
    [
        "speak", "talk", "write", "chat", "text", "reply", "answer", "respond", "prefer", "switch", "habla",
        "hablas", "hablame", "hablen", "hablan", "hablamos", "hablar", "hable", "hableme", "prefiero", "cambiar",
        "cambia", "cambie", "parle", "parlez", "parler", "fala", "falar", "noi", "help", "continue", "communicate",
        "ayudar", "ayudarme", "ayudeme", "atender", "atenderme", "atiendame", "seguir", "continuar", "escribir",
        "escribame", "escribeme", "contestar", "responder", "loi", "chuyen", "doi",
    ]
)
"""A verb before a language name asks for it when its subject is the bot or "we" ("do you speak korean")."""
ADDRESSEES = frozenset(["me", "us", "to", "with", "conmigo", "nos", "le", "les", "toi", "voi", "em"])
"""Between a verb of speaking and "in <language>": "talk to me in spanish", "hablame a mi en ingles"."""
SPEAK_SUBJECTS = frozenset(
    ["you", "u", "ya", "we", "please", "pls", "can", "could", "usted", "ud", "tu", "me", "to", "a"]
)
"""...and not when it is someone else ("does anyone speak tagalog", "i speak english but my dad...")."""
TRANSLATING = frozenset(
    ["say", "said", "called", "call", "word", "words", "mean", "means", "translate", "translated", "spell",
     "decir", "dice", "dicen", "significa", "traduce", "traducir", "nghia", "dich"]
)
"""Before "in <language>", these ask about words, not for the language: "how do you say thank you in korean"."""
SWITCH_TAILS = frozenset(["duoc", "khong", "ok", "okay", "pls", "plz", "please", "por", "favor", "porfa", "porfavor"])
HAN_ASKING = frozenset("请請用说說讲講改换換成可以吗嗎好呢吧麻烦煩您你我们們要能跟和聊天回复覆写寫打字话話")
"""Han characters that may stand around a language name in a request to switch; any other (不, 会,
的, 医生 ...) makes the name a mention."""

SPEAKING = frozenset(
    [
        "speak", "speaks", "talk", "talks", "understand", "understands", "know", "knows", "habla", "hable",
        "hablen", "hablan", "hablar", "entienda", "entiende", "sepa", "noi", "biet", "fala", "parle",
    ]
)
"""Verbs of speaking a language, third person or relative clause ("a nurse who speaks", "que hable")."""
SPEAKING_ADJECTIVES = frozenset(["speaking", "speaker", "speakers", "hablante", "hablantes"])
"""After the name: "a chinese speaking doctor", "chinese-speaking staff"."""
SPEAKERS = frozenset(["speaker", "speakers", "hablante", "hablantes"])
SELF = frozenset(["am", "im", "i'm", "soy", "somos"])
PEOPLE = frozenset(
    [
        "doctor", "doctors", "dr", "doc", "nurse", "nurses", "person", "people", "someone", "somebody", "anyone",
        "anybody", "nobody", "staff", "agent", "agents", "provider", "providers", "physician", "physicians",
        "pharmacist", "therapist", "counselor", "rep", "representative", "member", "team", "medico", "medica",
        "medicos", "doctora", "doctores", "enfermera", "enfermero", "enfermeras", "alguien", "persona", "personas",
        "personal", "agente", "agentes", "gente", "si", "ta", "ai", "nguoi", "vien",
    ]
)
"""Who may speak the language: "a doctor who...", "alguien que...", "bác sĩ nói...", "y tá", "nhân viên"."""
SOMEONE = frozenset(["someone", "somebody", "anyone", "anybody", "alguien", "ai", "nobody"])
"""People who may speak without a relative pronoun: "does anyone speak tagalog", "ai nói tiếng Hàn"."""
INDEFINITES = frozenset(["a", "an", "any", "some", "un", "una", "unos", "algun", "alguna", "co", "can", "cac"])
"""Before a person, asking whether there is one: "any doctors speak korean", "có bác sĩ nói tiếng Hàn"."""
COMPOUND_HEADS = frozenset(["bac", "y", "nhan"])
"""First syllables of the Vietnamese persons "bác sĩ", "y tá", "nhân viên"."""
RELATIVES = frozenset(["who", "that", "which", "que", "quien", "can", "could", "puede", "pueda"])
"""May stand between the person and the verb: "a doctor who speaks", "alguien que hable", "anyone can speak"."""
INTERPRETERS = frozenset(
    ["interpreter", "interpreters", "translator", "translators", "interpretation", "interprete", "interpretes",
     "traductor", "traductora", "dich"]
)
"""Next to the name: "a korean interpreter", "interpreter for arabic", "intérprete de árabe", "thông dịch"."""
INTERPRETER_LINKS = frozenset(["for", "in", "de", "en", "a", "an", "vien", "tieng"])
ONLY = frozenset(["only", "just", "solo", "solamente", "nomas", "unicamente", "chi"])
FIRST_PERSON_ONLY = (
    "i only speak", "i speak only", "i can only speak", "i only understand", "i understand only", "i only read",
    "solo hablo", "hablo solo", "solamente hablo", "yo solo hablo", "solo entiendo", "solo leo",
)
"""The patient speaks only the language named next: they ask the bot for it."""
THIRD_PERSONS = frozenset(
    [
        "mother", "mom", "mum", "mommy", "mama", "dad", "daddy", "father", "papa", "parents", "parent", "grandma",
        "grandmother", "grandpa", "grandfather", "granny", "husband", "wife", "son", "daughter", "brother",
        "sister", "aunt", "uncle", "he", "she", "they", "family", "madre", "padre", "padres", "mami", "papi",
        "abuela", "abuelo", "abuelita", "abuelito", "esposo", "esposa", "marido", "hijo", "hija", "suegra",
        "suegro", "tia", "tio", "hermano", "hermana", "ella", "ellos", "ba", "bo", "ong", "chong", "vo",
    ]
)
"""Someone other than the patient who speaks only the language: "my mother only speaks korean"."""
NOT = frozenset(["no", "not", "dont", "don't", "cant", "can't", "cannot", "doesnt", "doesn't", "didnt", "didn't"])
LACKING_ENGLISH_WORDS = frozenset(
    [
        "english", "i", "me", "do", "does", "can", "speak", "speaks", "talk", "understand", "understands", "read",
        "write", "know", "much", "very", "well", "good", "little", "bit", "sorry", "only",
    ]
)
"""A message of these words, with one of ``NOT`` and ``english``, and nothing else but polite words, says the patient
has no English and names no language: "no english", "english no", "i dont speak english very well", "sorry no
understand english". Not "no, english is fine", "do you speak english", "i can speak english"."""
SPEAKING_FIRST_PERSON = (["i", "speak"], ["i", "understand"], ["i", "read"], ["i", "know"], ["hablo"], ["yo", "hablo"])
"""After "no english": "..., i speak spanish" asks for it ("speak spanish", "i speak only spanish" ask for it anyway,
``_asks_for``)."""
VIETNAMESE_MOTHER = ("me toi", "me em", "me minh")
"""Mẹ (mother) without its diacritic is "me": only with its possessive is it the patient's mother."""
HAN_PERSON_AFTER_NAME = re.compile(r"^的?(?:医生|醫生|大夫|护士|護士|人|员|員|工作人员|工作人員|职员|職員|翻译|翻譯)")
HAN_SPEAKING_BEFORE_NAME = re.compile(r"(?:说|說|讲|講|懂)$")
HAN_INTERPRETER_AFTER_NAME = re.compile(r"^的?(?:翻译|翻譯|口译|口譯|传译|傳譯)")
HAN_ONLY_BEFORE_NAME = re.compile(r"(?<!我)只(?:会|會|能)?(?:说|說|讲|講|懂)$")


class LanguageRequests:
    def __init__(self, catalog: LanguageCatalog) -> None:
        self.catalog = catalog
        self._latin_names = [
            (language.code, words)
            for language in catalog
            for name in language.names
            if not any(SCRIPT_PATTERNS[script].search(name) for script in SCRIPT_PATTERNS)
            and (words := plain_words(name))
        ]
        self._latin_names_by_first_word: dict[str, list[int]] = {}
        for index, (_, words) in enumerate(self._latin_names):
            self._latin_names_by_first_word.setdefault(words[0], []).append(index)
        self._whole_names = [
            (language.code, name)
            for language in catalog
            for name in language.names
            if SCRIPT_PATTERNS["han"].search(name)
        ]
        self._scripts = ScriptRequests(catalog)
        self._no_english = [(language.code, phrase) for language in catalog for phrase in language.no_english]

    def _latin_names_in(self, words: list[str]) -> list[tuple[str, list[str]]]:
        """The Latin-script names whose first word the message has, in the catalog's order: every message is
        looked at this way, and most name no language."""
        found = {index for word in set(words) for index in self._latin_names_by_first_word.get(word, ())}
        return [self._latin_names[index] for index in sorted(found)]

    def explicit_switch(self, text: str) -> Optional[str]:
        """The language a message asks the bot to speak, if any (the last one asked for wins)."""
        lowered = text.lower()
        words = plain_words(text)
        if len(words) <= MAX_SWITCH_REQUEST_WORDS:
            asked = [
                (lowered.rfind(name), code)
                for code, name in self._whole_names
                if name in lowered and _only_asking(lowered, name)
            ]
            if asked:
                return max(asked)[1]
        best: Optional[tuple[int, str]] = None
        for code, name_words in self._latin_names_in(words) if len(words) <= MAX_SWITCH_SENTENCE_WORDS else []:
            for start in occurrences(name_words, words):
                if self._asks_for_beyond_no_english(words[:start], words[start + len(name_words):]):
                    best = max(best or (-1, ""), (start, code))
        if best:
            return best[1]
        said = f" {' '.join(words)} "
        saying_no_english = [code for code, phrase in self._no_english if f" {phrase} " in said]
        return saying_no_english[0] if saying_no_english else self._scripts.explicit_switch(text)

    def _asks_for_beyond_no_english(self, before: list[str], after: list[str]) -> bool:
        """``_asks_for``, or so after the patient said they have no English: "no english, only spanish", "i don't
        speak english, i speak spanish", "no hablo inglés, solo coreano"."""
        if _asks_for(before, after):
            return True
        said = f"{' '.join(before)} "
        ends = [len(phrase.split()) for _, phrase in self._no_english if said.startswith(f"{phrase} ")]
        if "english" in before:
            end = len(before) - before[::-1].index("english")
            ends += [end] if _says_no_english(before[:end]) else []
        for end in ends:
            rest = [word for word in before[end:] if word not in POLITE_WORDS]
            if _asks_for(rest, after) or rest in SPEAKING_FIRST_PERSON:
                return True
        return False

    def concordant_person(self, text: str) -> Optional[str]:
        """The language of a person the message asks for (see the module's docstring), if any."""
        lowered = text.lower()
        for code, name in self._whole_names if SCRIPT_PATTERNS["han"].search(lowered) else []:
            for found in re.finditer(re.escape(name), lowered):
                before, after = lowered[: found.start()], lowered[found.end():]
                if (
                    (HAN_SPEAKING_BEFORE_NAME.search(before) and HAN_PERSON_AFTER_NAME.search(after))
                    or HAN_INTERPRETER_AFTER_NAME.search(after)
                    or HAN_ONLY_BEFORE_NAME.search(before)
                ):
                    return code
        words = plain_words(text)
        for code, name_words in self._latin_names_in(words):
            for start in occurrences(name_words, words):
                if _asks_for_a_speaker(words[:start], words[start + len(name_words):]):
                    return code
        return self._scripts.concordant_person(text)


def lacks_english(text: str) -> bool:
    """Whether the message says the patient has no English, and only that (see ``LACKING_ENGLISH_WORDS``)."""
    return _says_no_english(plain_words(text))


def _says_no_english(words: list[str]) -> bool:
    return (
        "english" in words
        and any(word in NOT for word in words)
        and all(word in NOT or word in LACKING_ENGLISH_WORDS or word in POLITE_WORDS for word in words)
    )




def _only_asking(lowered: str, name: str) -> bool:
    """A Han name whose message holds, besides the name, only words of asking and Latin words."""
    rest = lowered.replace(name, "")
    return all(char in HAN_ASKING for char in rest if SCRIPT_PATTERNS["han"].match(char))


def _asks_for(before: list[str], after: list[str]) -> bool:
    """Whether a language name between these words asks the bot to speak it."""
    if all(word in POLITE_WORDS or word in ONLY for word in before + after):
        return True  # "spanish", "only spanish please", "korean only", "solo español"
    if " ".join(before[-4:]).endswith(FIRST_PERSON_ONLY):
        return True  # "i only speak spanish", "solo hablo español"; not "my mother only speaks korean"
    if not before:
        return all(word in SWITCH_TAILS or word in POLITE_WORDS for word in after)
    previous = before[-1]
    if previous in SWITCH_PREPOSITIONS:
        if any(word in TRANSLATING for word in before):
            return False
        head = [word for word in before[:-1] if word not in POLITE_WORDS]
        while head and head[-1] in ADDRESSEES:
            head.pop()
        # "in spanish please", "talk to me in spanish"; not "are the forms available in spanish"
        return not head or head[-1] in SPEAK_VERBS
    if previous in ("a", "to") and len(before) >= 2 and before[-2] in SPEAK_VERBS:
        return True  # "cambiar a español", "switch to english"
    if previous in SPEAK_VERBS:
        subject = before[-2] if len(before) >= 2 else ""
        return subject == "" or subject in SPEAK_SUBJECTS or subject in SPEAK_VERBS
    return False


def _asks_for_a_speaker(before: list[str], after: list[str]) -> bool:
    """Whether a language name between these words asks for someone who speaks it."""
    if after[:1] and after[0] in SPEAKING_ADJECTIVES and any(word in PEOPLE for word in after[1:3]):
        return True  # "a chinese speaking doctor"
    if after[:1] and after[0] in SPEAKERS and before[-1:] and before[-1] in INDEFINITES:
        return not any(word in SELF for word in before)  # "is there a tagalog speaker"; not "i am a spanish speaker"
    if (after[:1] and after[0] in INTERPRETERS) or (before[-1:] and before[-1] in INTERPRETERS):
        return True  # "a korean interpreter", "thông dịch viên tiếng Hàn"
    if len(before) >= 2 and before[-1] in INTERPRETER_LINKS and before[-2] in INTERPRETERS:
        return True  # "an interpreter for arabic", "intérprete de árabe"
    verb = len(before) - 1
    if verb >= 0 and before[verb] == "tieng":
        verb -= 1  # "nói tiếng ..." when the name was given without "tiếng"
    only = verb >= 0 and before[verb] in ONLY
    if only:
        verb -= 1  # "speaks only korean"
    if verb < 0 or before[verb] not in SPEAKING:
        return False
    if only or (verb >= 1 and before[verb - 1] in ONLY):
        speakers = before[:verb]  # "my mother only speaks korean"
        return any(word in THIRD_PERSONS for word in speakers) or any(
            mother in " ".join(speakers) for mother in VIETNAMESE_MOTHER)
    if any(word in INTERPRETERS for word in before) and before[verb - 1 : verb] != ["i"]:
        return True  # "i need an interpreter for my dad, he speaks arabic"
    subject = verb - 1
    related = subject >= 0 and before[subject] in RELATIVES
    if related:
        subject -= 1
    if subject >= 0 and before[subject] in ("there", "here", "alli", "aqui", "o", "day"):
        subject -= 1  # "does anyone there speak tagalog"
    if subject < 0 or before[subject] not in PEOPLE:
        return False
    if related or before[subject] in SOMEONE:
        return True  # "a doctor who speaks korean", "does anyone speak tagalog"
    article = subject - 1
    if article >= 0 and before[article] in COMPOUND_HEADS:
        article -= 1
    return article >= 0 and before[article] in INDEFINITES  # "any nurses speak korean", "có bác sĩ nói tiếng Hàn"
