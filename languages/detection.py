"""Which language a patient writes in, robust to one- and two-word messages.

Signals, strongest first:

1. an explicit switch: a message that asks the bot for a language by name ("¿hablas
   español?", "in English please", "can we speak vietnamese", "说中文"); a message that only
   mentions one ("is there a chinese speaking doctor", "are french fries healthy") is not
   (``languages/requests.py``);
2. the script: Han, Hangul, Cyrillic, Arabic letters, or Vietnamese-only
   letters (not "â", "ê", "ô", which Portuguese and French write), which settle a message of any length;
3. the language's frequent words (``languages/vocabulary.py``: ``common_words`` in its YAML file,
   the word lists of ``languages/lexicons/`` and, for languages with bot flows, their NLU training
   data less the English words those borrow): the language that accounts for the most words of the
   message leads ("la app no funciona": Spanish accounts for three words, English for two), then
   weights break the tie: a word frequent in several languages ("a", "may", "yo", "me", "chat")
   counts for a share in each, and a Latin-script language other than English wins only with a word
   of its own (or a clear lead) and never with fewer words of its own than English has, so one
   ambiguous word never outvotes English. A shared word right after a word of another language's own
   is that language's ("por favor"), the next one no longer ("mama has a fever"); English
   contractions typed "i m" or "I\u2019m" are joined again; laughter counts as its two-syllable form
   ("jajajaja" and "ja ja ja" are "jaja", Spanish spelling; "haha", like "ok" and drawn-out sounds such as "aaahh" or
   "mhm", is typed alike everywhere and a message of such words only gives no evidence), a drawn-out word as the
   lists write it ("holaaa", "ayudaaa"); an opening "¿" or "¡", which only Spanish writes, counts as a word of
   Spanish's own; an email or web address ("nacha@mail.com", "bit.ly/x") is no words, and a message that asks how
   to say words of another language is its frame's ("cómo se dice i need a refill"), and one that opens with a word
   that opens that language's sentences (its ``clause_openers``: "tengo", "mi", "busco") and carries English words that
   make no English clause (no ``clause_words`` of English's: "i", "need", "is") is that language's when it has as many
   words of its own as English has runs of words: an insurer, a pharmacy, a building named in English ("tengo blue cross
   blue shield", "busco el building b parking lot"; "hola i need a refill" stays English); the mirror holds for an
   English sentence carrying a Spanish name (English ``clause_openers``, Spanish ``clause_words`` and ``name_heads``:
   "my mom goes to la clinica del pueblo" is English, "what pasa con mi cita" Spanish). Vietnamese typed without
   diacritics is told by its syllable pairs ("cam on", "tam biet": pairs of the Vietnamese NLU data
   without diacritics, less pairs of words the English examples write, "Medi-Cal", and pairs of two words
   of another language, Spanish "si le"), whose words then count for Vietnamese (and for a share of
   English when they are English words too: "is the cam on"). When English and another language account
   for as many words, the other wins if it has as many words of its own as English, since code-switching
   patients mix English words into their own language ("necesito un refill", "telehealth no funciona"). A
   pair of a language's ``common_pairs`` (Spanish "no me", "yo no", "me dice": words English writes one by
   one) makes its two words that language's own in a message of three words or more ("no me contestan";
   "no me" alone and "no me neither" stay English); a pair of its ``pair_messages`` ("no sea", "yo he") does so in a
   message of two words too. Languages that tie on words none has of its own are
   told apart by the words no list knows, placed by the character profiles below ("me emociona", "no
   firmes"); a tie is then won by the language with the most words of its own; between languages that
   all have a ``spelling`` (Spanish, Portuguese, French), by the only one whose letters a word shows
   (Portuguese "ã", "-ção", Spanish "ñ", "-ción"), and when no word shows any, by the one with bot flows
   (a Spanish/Portuguese tie no word settles, "todo depende de vos", goes to Spanish, which far more
   patients write, not to langdetect, which sends such short ties to Portuguese); then by langdetect, then
   by a language with bot flows. A word no list has but of a language's ``word_shapes`` is a word of its own
   (Spanish "llámeme", "dígame": stress and pronouns joined). A ``neighbour_words`` word of English ("ya",
   Spanish "already") is English only right beside a word only English lists ("see ya", "ya know"). English's
   ``object_words`` ("me") follow a verb; opening a message before a word Spanish, Portuguese or French lists, or
   before a word no list has ("me urge", "me golpea"), one is those languages' pronoun before its verb, and
   neither word is English's ("me too", "me and my son" keep English, whose words follow);
4. for languages with bot flows, character n-gram profiles learnt from their NLU
   training data (``data/nlu/<lang>/``) and the words of their word lists, which place
   single content words such as "farmacia", "estacionamiento" or "adivina";
5. langdetect (seeded) on messages of four words or more, as a tie-breaker.

A conversation that already has a language keeps it unless the new message is
strong evidence of another (an explicit switch, a script, or a clear margin of
frequent words over three words or more), so "ok" or "hola" never flips it. The
first message falls back to the client's locale, then English.
"""

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from langdetect import DetectorFactory, LangDetectException, detect_langs

from languages.catalog import LanguageCatalog
from languages.profiles import PROFILE_MIN_LEAD, CharacterProfiles
from languages.requests import LanguageRequests, lacks_english
from languages.text import ADDRESS, SCRIPT_PATTERNS, WORD, opening_frame
from languages.vocabulary import (
    NEUTRAL,
    in_pairs,
    language_words,
    lexicon,
    nlu_examples,
    nlu_word_examples,
    spaced_laughter,
    unaccented_pairs,
    undrawn,
)

DetectorFactory.seed = 0

DEFAULT_LANGUAGE = "en"
LANGDETECT_MIN_WORDS = 4
LANGDETECT_MIN_PROBABILITY = 0.9

VIETNAMESE_LETTERS = re.compile(
    "[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĩũ]", re.IGNORECASE
)
"""Letters only Vietnamese writes; not "â", "ê" or "ô", which Portuguese ("você", "tô") and French ("être")
write too: a word with one of those ("tôi") is told by the word lists."""
NLU_DIR = Path(__file__).resolve().parent.parent / "data" / "nlu"
UNACCENTED_VIETNAMESE_WEIGHT = 0.5
"""A bare Vietnamese syllable that is also another language's word ("a", "la", "may") counts for half
of its share."""
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
"""Phone keyboards type a curly apostrophe (U+2019): "I\u2019m" is one word, as "I'm" is."""
CONTRACTION_TAILS = frozenset(["m", "t", "s", "d", "ve", "ll", "re"])
NEUTRAL_WORDS = frozenset(["ok", "okay", "okey", "k", "kk", "lol", "haha", "hehe", "xd", "omg"])
"""Typed alike in every language: no evidence; the locale or the session decides them. Laughter spelt
with "j" ("jaja", "jeje") is Spanish spelling, and evidence of Spanish. So are brand names of medicines
("prozac", "xanax": ``languages/lexicons/neutral-medicines.txt``)."""
LAUGHTER = re.compile(r"^([hj][aei])\1{2,}[hj]?$")
"""Laughter of any length, "jajajaja", "hahahah", counted as its two-syllable form ("jaja", "haha")."""
K_LAUGHTER = re.compile(r"^k{3,}$")
"""Brazilian laughter, "kkkkkk", counted as "kkk" (Portuguese chat, ``languages/lexicons/pt-chat.txt``)."""
INTERJECTION = re.compile(r"^(?=\w*(\w)\1)[aeiouh]{3,}$|^h*m+h*m+$")
"""Drawn-out sounds typed alike everywhere ("aaahh", "oooh", "mhm", "hmm"): no evidence, as "ok" is none."""
SPANISH_MARKS = re.compile("[¿¡]")
"""Opening question and exclamation marks: only Spanish writes them; a message with one counts one word of
Spanish's own more ("¿me besas?", "¡no me digas!")."""
SPANISH_MARK_WORD = "¿"
PROFILE_MIN_LETTERS = 4
"""Shorter messages ("ok", "si") say too little; the locale or the session decides them."""
MIN_UNLISTED_VERB = 4
"""A word no list has after an opening object word ("me golpea") is taken for a verb when it has four letters or
more and the character profiles do not place it in that language ("me nd", "me plz", "me tooo", "me gobsmacked"
are English chat)."""


@dataclass(frozen=True)
class Resolution:
    language: str
    reason: str
    """explicit | script | strong-words | words | profile | langdetect | current | locale | default"""

    @property
    def strong(self) -> bool:
        return self.reason in ("explicit", "script", "strong-words")


class LanguageResolver:
    def __init__(self, catalog: LanguageCatalog, nlu_dir: Path = NLU_DIR) -> None:
        self.catalog = catalog
        self.requests = LanguageRequests(catalog)
        self._by_script = {language.script: language.code for language in catalog if language.script}
        self._profiles = CharacterProfiles.from_nlu_data(nlu_dir, catalog.bot_languages)
        self._words = language_words(catalog, nlu_dir)
        neutral = lexicon(NEUTRAL)
        self._neutral_words = NEUTRAL_WORDS | {entry for entry in neutral if " " not in entry}
        self._neutral_names = [tuple(entry.split()) for entry in neutral if " " in entry]
        self._pairs = {language.code: language.common_pairs for language in catalog if language.common_pairs}
        self._pair_messages = {
            language.code: language.pair_messages for language in catalog if language.pair_messages
        }
        self._neighbour_words = {
            language.code: language.neighbour_words for language in catalog if language.neighbour_words
        }
        self._object_words = {language.code: language.object_words for language in catalog if language.object_words}
        self._clause_openers = {
            language.code: language.clause_openers for language in catalog if language.clause_openers
        }
        self._clause_words = {language.code: language.clause_words for language in catalog if language.clause_words}
        self._name_heads = {language.code: language.name_heads for language in catalog if language.name_heads}
        self._word_shapes = {language.code: language.word_shapes for language in catalog if language.word_shapes}
        self._spelling = {language.code: language.spelling for language in catalog if language.spelling}
        self._translation_frames = {
            language.code: language.translation_frames for language in catalog if language.translation_frames
        }
        self._vietnamese_pairs = unaccented_pairs(
            (text for path in sorted((nlu_dir / "vi").glob("*.yml")) for text, _ in nlu_examples(path)),
            # less pairs of English words, and of words the English examples write ("Medi-Cal được không"), and
            # pairs of another language's words (Spanish "si le" is "sĩ lê" unaccented)
            [
                self._words.get(DEFAULT_LANGUAGE, frozenset())
                | frozenset(nlu_word_examples(nlu_dir, DEFAULT_LANGUAGE)),
                *(common for code, common in self._words.items() if code not in (DEFAULT_LANGUAGE, "vi")),
            ],
        )

    def explicit_switch(self, text: str) -> Optional[str]:
        """The language a message asks the bot to speak, if any (see ``languages.requests``)."""
        return self.requests.explicit_switch(text)

    def concordant_request(self, text: str) -> Optional[str]:
        """The language of the person a message asks for, if any (see ``languages.requests``)."""
        return self.requests.concordant_person(text)

    @staticmethod
    def lacks_english(text: str) -> bool:
        """Whether the message says only that the patient has no English ("no english", "i dont speak english"):
        the patient is offered the languages, each in its own words (``LanguageCatalog.language_menu``)."""
        return lacks_english(text)

    def detect(self, text: str) -> Optional[Resolution]:
        """The language of the message alone, or None when it gives no evidence; a message that asks how to say words
        of another language is the language of its frame ("cómo se dice i need a refill")."""
        text = ADDRESS.sub(" ", text)
        detected = self._detected(text)
        framed = opening_frame(text.translate(APOSTROPHES), self._translation_frames)
        if framed and (not detected or detected.language != framed):
            return Resolution(framed, "words")
        return detected

    def _detected(self, text: str) -> Optional[Resolution]:
        for script, pattern in SCRIPT_PATTERNS.items():
            if script in self._by_script and pattern.search(text):
                return Resolution(self._by_script[script], "script")
        if VIETNAMESE_LETTERS.search(text) and self.catalog.get("vi"):
            return Resolution("vi", "script")
        typed = WORD.findall(text.translate(APOSTROPHES))
        spelt = spaced_laughter([K_LAUGHTER.sub("kkk", LAUGHTER.sub(r"\1\1", word.lower())) for word in typed])
        words = self._english_contractions(
            [word if INTERJECTION.match(word) else undrawn(word, self._words) for word in spelt]
        )
        evidence = [
            word
            for word in self._without_neutral_names(words)
            if word not in self._neutral_words and not INTERJECTION.match(word)
        ]
        if words and not evidence:
            return None  # "ok", "haha ok", "aaahh": typed alike everywhere; the session or the locale decides
        if SPANISH_MARKS.search(text):
            evidence.append(SPANISH_MARK_WORD)
        scores, own, covered = self._word_scores(evidence)
        ranked = sorted(scores.items(), key=lambda item: (covered[item[0]], item[1]), reverse=True)
        if ranked and ranked[0][1] > 0:
            best_code, best_score = ranked[0]
            tied = [code for code, _ in ranked if covered[code] == covered[best_code]]
            if len(tied) > 1:
                self._profile_unlisted(evidence, tied, own)
                best_code = self._break_tie(tied, text, evidence, own)
            english = scores.get(DEFAULT_LANGUAGE, 0.0)
            if best_code != DEFAULT_LANGUAGE and not own.get(best_code) and best_score < english + 1:
                # Only words other languages share ("a", "may", "yo", "la"): no evidence against English.
                best_code = DEFAULT_LANGUAGE if english > 0 else ""
            elif best_code != DEFAULT_LANGUAGE and own.get(best_code, 0) < own.get(DEFAULT_LANGUAGE, 0):
                # More words only English has than words of the other language's own: clear English.
                best_code = DEFAULT_LANGUAGE
            if best_code:
                best_code = self._frame_of_insertion(evidence, best_code) or best_code
            if best_code:
                best_score = scores[best_code]
                runner_up = max((score for code, score in ranked if code != best_code), default=0.0)
                if best_score - runner_up >= 2 and len(words) >= 3:
                    return Resolution(best_code, "strong-words")
                return Resolution(best_code, "words")
        profiled = self._profiles.best(text) if sum(map(len, words)) >= PROFILE_MIN_LETTERS else None
        if profiled and profiled[1] >= PROFILE_MIN_LEAD:
            return Resolution(profiled[0], "profile")
        guess = self._langdetect(text, len(words))
        return Resolution(guess, "langdetect") if guess else None

    def resolve(self, text: str, current: Optional[str], locale: Optional[str]) -> Resolution:
        """The conversation's language after this message."""
        explicit = self.explicit_switch(text)
        if explicit:
            return Resolution(explicit, "explicit")
        detected = self.detect(text)
        if current and self.catalog.get(current):
            if detected and detected.strong and detected.language != current:
                return detected
            return Resolution(current, "current")
        if detected:
            return detected
        locale_code = (locale or "")[:2].lower()
        if self.catalog.get(locale_code):
            return Resolution(locale_code, "locale")
        return Resolution(DEFAULT_LANGUAGE, "default")

    def _without_neutral_names(self, words: list[str]) -> list[str]:
        """The words less the names of several words a neutral list has ("kaiser permanente", "blue cross"), which
        are no evidence of a language as a whole, though their words are some language's."""
        kept: list[str] = []
        i = 0
        while i < len(words):
            name = next((name for name in self._neutral_names if tuple(words[i : i + len(name)]) == name), None)
            if name:
                i += len(name)
            else:
                kept.append(words[i])
                i += 1
        return kept

    def _english_contractions(self, words: list[str]) -> list[str]:
        """English contractions typed with a space for the apostrophe ("i m", "don t") joined again, so
        that their tail is not taken for a word of another language (Haitian "m", Tagalog "t")."""
        english = self._words.get(DEFAULT_LANGUAGE, frozenset())
        joined: list[str] = []
        for word in words:
            if joined and word in CONTRACTION_TAILS and f"{joined[-1]}'{word}" in english:
                joined[-1] = f"{joined[-1]}'{word}"
            else:
                joined.append(word)
        return joined

    def _word_scores(self, words: list[str]) -> tuple[dict[str, float], dict[str, int], Counter[str]]:
        """Each word's vote shared among the languages it is frequent in; and per language, its words of
        its own: for English, the words no other language has; for another, its words that are not English."""
        scores: dict[str, float] = {}
        own: dict[str, int] = {}
        covered: Counter[str] = Counter()
        in_vietnamese_pair = in_pairs(words, self._vietnamese_pairs)
        # A pair alone is too little ("no me" is English too, "no, me!"), but for the pairs that are a message of
        # their own ("no sea", "yo he"); with another word, it tells.
        pairs_told = self._pairs if len(words) > 2 else self._pair_messages
        in_pair = {code: in_pairs(words, pairs) for code, pairs in pairs_told.items()}
        previous_own: set[str] = set()
        listings = self._listings(words)
        for i, (word, paired) in enumerate(zip(words, in_vietnamese_pair, strict=True)):
            listed = listings[i]
            if word == SPANISH_MARK_WORD:
                listed = ["es"]
            owners = listed
            if DEFAULT_LANGUAGE in listed and previous_own.intersection(listed):
                # A word English shares, right after a word of another language's own, is that language's
                # ("por favor", "un doctor"); the word after it is not ("mama has a fever").
                owners = [code for code in listed if code in previous_own]
            previous_own = set(listed) if listed and DEFAULT_LANGUAGE not in listed else set()
            pair_codes = {code for code, inside in in_pair.items() if inside[i] and code in listed}
            if pair_codes:
                # One of a language's pairs ("no me"): its words are that language's own, and still count
                # for every language that lists them ("no me neither" is English).
                for code in listed:
                    scores[code] = scores.get(code, 0.0) + 1 / len(listed)
                    covered[code] += 1
                for code in pair_codes:
                    own[code] = own.get(code, 0) + 1
                previous_own = pair_codes
                continue
            if paired:
                # A Vietnamese syllable pair: the word is Vietnamese, or English ("is the cam on") for a share.
                scores["vi"] = scores.get("vi", 0.0) + 1
                own["vi"] = own.get("vi", 0) + 1
                covered["vi"] += 1
                if DEFAULT_LANGUAGE in owners:
                    scores[DEFAULT_LANGUAGE] = scores.get(DEFAULT_LANGUAGE, 0.0) + 1 / len(owners)
                continue
            for code in owners:
                weight = 1 / len(owners)
                if code == "vi" and len(owners) > 1 and not VIETNAMESE_LETTERS.search(word):
                    weight *= UNACCENTED_VIETNAMESE_WEIGHT
                scores[code] = scores.get(code, 0.0) + weight
                covered[code] += 1
            if owners == [DEFAULT_LANGUAGE]:
                own[DEFAULT_LANGUAGE] = own.get(DEFAULT_LANGUAGE, 0) + 1
            elif DEFAULT_LANGUAGE not in owners:
                for code in owners:
                    own[code] = own.get(code, 0) + 1
        return scores, own, covered

    def _frame_of_insertion(self, words: list[str], inserted: str) -> Optional[str]:
        """The language of a sentence that opens with one of its ``clause_openers`` and carries words of the
        ``inserted`` language (the one the words alone would give) that make no clause of it, a name or a title
        ("tengo blue cross blue shield", "busco el building b parking lot"; "my mom goes to la clinica del pueblo"),
        if it has as many words of its own as the inserted language has runs of words ("mi seguro es | blue shield of
        california"); else None. Only between English and a language with ``clause_words``, which tell a name from a
        sentence of its own; where the inserted language has ``name_heads``, each of its runs must hold one."""
        clause_words = self._clause_words.get(inserted)
        if not clause_words or not words or any(word in clause_words for word in words):
            return None
        opened = [
            code
            for code, openers in self._clause_openers.items()
            if code != inserted and DEFAULT_LANGUAGE in (code, inserted) and words[0] in openers
        ]
        if not opened:
            return None
        name_heads = self._name_heads.get(inserted)
        listings = self._listings(words)
        for code in opened:
            if code not in listings[0]:
                continue
            own = [code in listed and inserted not in listed for listed in listings]
            runs: list[list[str]] = []
            inside = False
            for word, listed, frame_word in zip(words, listings, own, strict=True):
                if frame_word:
                    inside = False
                elif inserted in listed and code not in listed:
                    if not inside:
                        runs.append([])
                    runs[-1].append(word)
                    inside = True
            named = not name_heads or all(name_heads.intersection(run) for run in runs)
            if runs and named and sum(own) >= len(runs):
                return code
        return None

    def _listings(self, words: list[str]) -> list[list[str]]:
        """For each word, the languages that list it, else those whose word shapes it has ("llámeme"); a
        neighbour word of a language ("ya") right beside a word only that language lists ("see ya", "ya know")
        is that language's alone; an object word of a language ("me") opening a message before a word another
        language lists ("me urge", "me duele") is not that language's, nor is the word after it."""
        listings = [
            [code for code, common in self._words.items() if word in common]
            or [code for code, shapes in self._word_shapes.items() if shapes.search(word)]
            for word in words
        ]
        for code, neighbour_words in self._neighbour_words.items():
            for i, word in enumerate(words):
                if word in neighbour_words and any(
                    listings[j] == [code] for j in (i - 1, i + 1) if 0 <= j < len(words)
                ):
                    listings[i] = [code]
        for code, object_words in self._object_words.items():
            if len(words) < 2 or words[0] not in object_words:
                continue
            first, second = ([other for other in listed if other != code] for listed in listings[:2])
            verb = words[1]
            unlisted_verb = not listings[1] and len(verb) >= MIN_UNLISTED_VERB and not self._placed_in(code, verb)
            if first and (set(first) & set(second) or unlisted_verb):
                # An object pronoun opens no message of this language before a verb ("me urge", "me golpea"): it
                # is a pronoun of the languages that write it before their verb, if they list the word after it.
                listings[:2] = [first, second]
        return listings

    def _placed_in(self, code: str, word: str) -> bool:
        """Whether the character profiles place a word in this language with a clear lead."""
        profiled = self._profiles.best(word)
        return bool(profiled and profiled[0] == code and profiled[1] >= PROFILE_MIN_LEAD)

    def _profile_unlisted(self, evidence: list[str], tied: list[str], own: dict[str, int]) -> None:
        """When languages tie on shared words alone ("me emociona", "no firmes"), the words no list has
        count as words of their own for the language of the tie their letters place (by the character
        profiles, with a clear lead)."""
        if any(own.get(code) for code in tied):
            return
        unlisted = [
            word
            for word in evidence
            if len(word) >= PROFILE_MIN_LETTERS and not any(word in common for common in self._words.values())
        ]
        profiled = self._profiles.best(" ".join(unlisted)) if unlisted else None
        if profiled and profiled[1] >= PROFILE_MIN_LEAD and profiled[0] in tied:
            own[profiled[0]] = len(unlisted)

    def _break_tie(self, tied: list[str], text: str, evidence: list[str], own: dict[str, int]) -> str:
        """The tied language with the most words of its own; between as many languages that all have a
        spelling (Spanish, Portuguese, French), the only one whose spelling a word shows ("-ção", "-ción";
        words English lists tell nothing); then langdetect's; else one with bot flows."""
        most = max(own.get(code, 0) for code in tied)
        leaders = [code for code in tied if own.get(code, 0) == most]
        if len(leaders) == 1:
            return leaders[0]
        if all(code in self._spelling for code in leaders):
            english = self._words.get(DEFAULT_LANGUAGE, frozenset())
            unlisted = [word for word in evidence if word not in english]
            spelled = [code for code in leaders if any(map(self._spelling[code].search, unlisted))]
            if len(spelled) == 1:
                return spelled[0]
            if not spelled:
                bots = [code for code in leaders if self.catalog.has_bot(code)]
                if len(bots) == 1:
                    return bots[0]
        guess = self._langdetect(text, len(evidence))
        if guess in leaders:
            return guess
        others = sorted(
            (code for code in leaders if code != DEFAULT_LANGUAGE and own.get(code)),
            key=lambda code: not self.catalog.has_bot(code),
        )
        return others[0] if others else (DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in tied else tied[0])

    def _langdetect(self, text: str, word_count: int) -> Optional[str]:
        if word_count < LANGDETECT_MIN_WORDS:
            return None
        try:
            candidates = detect_langs(text)
        except LangDetectException:
            return None
        for candidate in candidates:
            code = candidate.lang.split("-")[0]
            if self.catalog.get(code) and candidate.prob >= LANGDETECT_MIN_PROBABILITY:
                return code
        return None
