"""Short chat messages: medicines named by brand, and the chit-chat words of the branch ``langid-es4``.

The branch read the misses of the chit-chat tuning messages (the Bot Framework Virtual Assistant's knowledge
bases, not committed; ``tests/data/language_detection/README.md``) and replays their error classes here as
patient messages of the same construction: everyday Spanish that only the Tagalog or Portuguese list had
("con gusto", "me caes genial"), chat Spanish no list had ("no sirves"), and English greetings that a Spanish
or French word outvoted ("hey pal", "greetings and salutations"). Each has neighbours that must not move: the
other language's own messages with the same word, and English messages around a brand name.
"""

import pytest

from languages import LanguageCatalog, LanguageResolver
from languages.vocabulary import NEUTRAL, lexicon


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


BRANDS = ["prozac", "narcan", "lexapro", "zoloft", "xanax", "tylenol", "advil", "ozempic", "Mounjaro", "NORCO"]


@pytest.mark.parametrize("brand", BRANDS)
def test_a_medicine_named_by_its_brand_alone_is_no_evidence(resolver: LanguageResolver, brand: str) -> None:
    """A brand name is typed alike in every language: alone, English by default, else the locale's or the
    conversation's language; never Spanish by its letters ("prozac", "narcan" were)."""
    assert resolver.detect(brand) is None
    assert resolver.resolve(brand, None, None).language == "en"
    assert resolver.resolve(brand, None, "es-MX").language == "es"
    assert resolver.resolve(brand, "es", None).language == "es"
    assert resolver.resolve(brand, "en", "es-MX").language == "en"
    assert resolver.resolve(f"{brand} {brand}?", "vi", None).language == "vi"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("necesito prozac", "es"),
        ("se me acabó el xanax", "es"),
        ("tomé dos advil", "es"),
        ("need prozac", "en"),
        ("prozac refill please", "en"),
        ("I took too much xanax", "en"),
        ("is ozempic covered", "en"),
        ("my son needs narcan", "en"),
        ("can I take advil with lexapro", "en"),
    ],
)
def test_the_words_around_a_brand_name_tell(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.resolve(text, None, None).language == language


PLANS = ["medicare", "Medicare", "Medi-Cal", "kaiser", "Kaiser Permanente", "aetna", "cigna", "obamacare",
         "blue cross blue shield"]


@pytest.mark.parametrize("plan", PLANS)
def test_a_health_plan_named_alone_is_no_evidence(resolver: LanguageResolver, plan: str) -> None:
    """A patient answering "which insurance do you have?" with its name: "medicare" was Spanish (a word of the Spanish
    NLU examples), "kaiser" and "aetna" Tagalog, "obamacare" Spanish by their letters, "kaiser permanente" Spanish by
    its second word; a Spanish patient who named a plan in an English conversation's words kept nothing of theirs."""
    assert resolver.detect(plan) is None
    assert resolver.resolve(plan, None, None).language == "en"
    assert resolver.resolve(plan, None, "es-US").language == "es"
    assert resolver.resolve(plan, "es", None).language == "es"
    assert resolver.resolve(plan, "tl", None).language == "tl"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("tengo medicare", "es"),
        ("aceptan aetna?", "es"),
        ("tengo kaiser permanente", "es"),
        ("mi seguro es blue cross", "es"),
        ("do you take medicare", "en"),
        ("i have kaiser permanente", "en"),
        ("is cigna accepted", "en"),
        ("may kaiser ako", "tl"),
    ],
)
def test_the_words_around_a_health_plan_tell(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.resolve(text, None, None).language == language


def test_a_run_of_brand_names_does_not_flip_an_established_language(resolver: LanguageResolver) -> None:
    """An attack: a message of brand names only, however long, moves no conversation to another language."""
    message = " ".join(BRANDS * 3)
    for current in ("es", "en", "tl"):
        assert resolver.resolve(message, current, None).language == current


def test_no_brand_name_is_a_word_another_language_lists(resolver: LanguageResolver) -> None:
    """A neutral word hides a word of a language's own from the count: none of another language's lists may
    have one (English's may: "tylenol" is no evidence against English)."""
    listed = {code: words for code, words in resolver._words.items() if code != "en"}
    assert {brand: [code for code, words in listed.items() if brand in words] for brand in lexicon(NEUTRAL)} == {
        brand: [] for brand in lexicon(NEUTRAL)
    }


@pytest.mark.parametrize(
    "text",
    ["la daga", "tengo una daga", "una soga", "muletas", "temblores", "bronquitis", "holi", "holis",
     "con gusto", "mucho gusto", "me caes genial", "estás irritado",
     "no sirves", "me aburres", "fenomenal", "me meo"],
)
def test_everyday_spanish_another_list_has_or_no_list_had_is_spanish(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "es"


@pytest.mark.parametrize(
    "text", ["may daga sa bahay", "gusto ko ng tubig", "gusto ko na umuwi", "gusto ko mag schedule ng appointment"]
)
def test_tagalog_keeps_the_words_it_shares_with_spanish(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "tl"


@pytest.mark.parametrize("text", ["adoro a minha médica", "tô rindo demais"])
def test_portuguese_keeps_adoro_and_rindo(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "pt"


@pytest.mark.parametrize(
    "text",
    ["hey pal", "you're a pal", "thanks pal", "the epa", "the EPA says", "oh hey amigo", "greetings and salutations",
     "amuse me", "heya", "ahoy there", "heh heh", "kthx", "nom nom nom", "me too", "me neither"],
)
def test_english_greetings_a_spanish_or_french_word_shares_stay_english(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "en"


@pytest.mark.parametrize(("text", "language"), [("voy pal doctor", "es"), ("hola amigo", "es"), ("mon nom", "fr")])
def test_the_shared_chat_words_still_count_for_their_other_language(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("holaaa", "es"),
        ("ayudaaa", "es"),
        ("AYUDAAAA", "es"),
        ("siii", "es"),
        ("porfaaa", "es"),
        ("graciaaas", "es"),
        ("me dueleee", "es"),
        ("pleaseee", "en"),
        ("helppp", "en"),
        ("goooood morning", "en"),
        ("sooo tired", "en"),
        ("thx sooo much", "en"),
        ("booooom", "en"),
    ],
)
def test_a_drawn_out_word_is_read_as_the_lists_write_it(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.resolve(text, None, None).language == language


@pytest.mark.parametrize("text", ["nooo", "hiii", "sooo", "hmmm", "aaahh"])
def test_a_drawn_out_word_english_shares_tells_no_more_than_before(resolver: LanguageResolver, text: str) -> None:
    """Cut to two letters, "nooo" would be "no", which English, Spanish and Portuguese share: it stays as typed,
    English by default, and no evidence against a conversation's language."""
    assert resolver.resolve(text, None, None).language == "en"
    assert resolver.resolve(text, "es", None).language == "es"


@pytest.mark.parametrize(
    "text",
    ["senor", "senora", "bano", "el bano", "contrasena", "olvide mi contrasena", "mi nino", "cumpleanos", "sueno",
     "wepa", "qué vaina", "chévere", "guagua", "oigan", "qe"],
)
def test_spanish_typed_without_enye_and_caribbean_chat_are_spanish(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text, None, None).language == "es"


@pytest.mark.parametrize("text", ["canon", "the cabana", "ano ba", "um menino pequeno"])
def test_a_word_typed_without_enye_that_another_language_writes_is_not_made_spanish(
    resolver: LanguageResolver, text: str
) -> None:
    """ "cañon", "cabaña", "año", "pequeño" typed with "n" are words of English, Tagalog or Portuguese lists: the
    list of Spanish words typed without "ñ" leaves them out."""
    assert resolver.resolve(text, None, None).language != "es"


@pytest.mark.parametrize(
    ("text", "language"),
    [("ja ja ja", "es"), ("Ja, ja", "es"), ("¡je, je, je!", "es"), ("ja ja ja ok gracias", "es"), ("ha ha", "en"),
     ("HA HA HA", "en"), ("ha ha very funny", "en")],
)
def test_laughter_typed_syllable_by_syllable_reads_as_laughter(
    resolver: LanguageResolver, text: str, language: str
) -> None:
    """ "ja ja ja" is Spanish laughter (not Portuguese "já", French "je"); "ha ha" is "haha", typed alike everywhere
    (not Spanish "ha"), so English by default and no evidence against a conversation's language."""
    assert resolver.resolve(text, None, None).language == language
    assert resolver.resolve("ha ha", "es", None).language == "es"


@pytest.mark.parametrize(("text", "language"), [("ja vou", "pt"), ("je ne sais pas", "fr"), ("ha llegado", "es")])
def test_one_syllable_alone_is_still_a_word(resolver: LanguageResolver, text: str, language: str) -> None:
    assert resolver.resolve(text, None, None).language == language
