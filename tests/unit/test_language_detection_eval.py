"""`make eval`'s language-detection report: a confusion matrix over every language, and the misses of
measure-only sets never printed."""

from pathlib import Path

import pytest

from evaluation import language_detection, outside_corpora
from languages import LanguageCatalog


def test_every_language_with_data_has_a_row_and_a_column_in_the_confusion_matrix() -> None:
    measured = {language for language, messages in language_detection.authored_sets() if messages}
    tuned = {language for language, messages in language_detection.crisis_case_sets() if messages}
    catalog = {language.code for language in LanguageCatalog.load()}
    assert measured == tuned == catalog, "every language of languages/ has tuning and measure-only data"
    lines = language_detection.report("t", {code: language_detection.LanguageScore(code) for code in sorted(catalog)})
    header = lines[lines.index("confusion matrix (rows: true language, columns: resolved language)") + 1]
    assert header.split() == sorted(catalog)
    assert [line.split()[0] for line in lines[-len(catalog):]] == sorted(catalog)


def test_a_miss_is_counted_in_its_row_and_column() -> None:
    entry = language_detection.LanguageScore("ht")
    entry.add("m pa ka respire", "tl")
    entry.add("m bezwen yon doktè", "ht")
    lines = language_detection.report("t", {"ht": entry}, show_errors=True)
    assert lines[-2].split() == ["ht", "1", "1"] and lines[-3].split() == ["ht", "tl"]
    assert lines[-1] == "    ht 'm pa ka respire' -> tl"


def test_show_errors_lists_tuning_misses_only(capsys: pytest.CaptureFixture[str]) -> None:
    language_detection.main(["--show-errors"])
    out = capsys.readouterr().out
    measure_only = out[out.index("MEASURE-ONLY"):]
    assert "MEASURE-ONLY: third held-out" in measure_only and "MEASURE-ONLY: authored" in measure_only
    assert "TUNING: second everyday" in out[: out.index("MEASURE-ONLY")]
    assert " -> " not in measure_only, "no measure-only miss is shown"


def test_an_outside_corpus_of_posts_is_read_without_mentions_links_or_repeats(tmp_path: Path) -> None:
    posts = tmp_path / "posts.txt"
    posts.write_text("@user hola que tal http\nhola que tal\n\n@user http://x.y\nwww.example.com  ya llegue\n")
    assert language_detection.lines_set(posts) == ["hola que tal", "ya llegue"]


def test_first_words_keeps_two_to_five_words_of_messages_long_enough() -> None:
    messages = ["uno dos tres cuatro cinco seis siete", "uno", "a b c d e f g h"]
    shortened = language_detection.first_words(messages)
    assert "uno" not in shortened and len(shortened) == 2
    assert all(2 <= len(text.split()) <= 5 and message.startswith(text) for text, message in
               zip(shortened, [messages[0], messages[2]], strict=True))


def test_film_dialogue_is_cut_into_turns_without_speaker_labels() -> None:
    running = "Báez ... Carrizo . ¿ Te escribió ? Sí , me llegó una carta . Voz de mujer ¡ Bruno ! Todavía no ..."
    assert outside_corpora.turns(running) == [
        "Carrizo.", "¿Te escribió?", "Sí, me llegó una carta.", "Voz de mujer", "¡Bruno!", "Todavía no...",
    ]


def test_no_film_is_in_both_the_tuning_and_the_held_out_part(tmp_path: Path) -> None:
    films = tmp_path / "plain"
    films.mkdir()
    for number in range(12):
        (films / f"es_Mexico_19{number:02}_Film-{number}_movie_Drama_{number}.run").write_text(
            f"Línea uno de la película {number} . ¿ Y la otra {number} ?", encoding="utf-8"
        )
    outside_corpora.build_activ_es(films, tmp_path / "tuning", tmp_path / "measure")
    tuning = (tmp_path / "tuning" / "activ-es-tuning-es.txt").read_text(encoding="utf-8").split("\n")
    held_out = (tmp_path / "measure" / "activ-es-heldout-es.txt").read_text(encoding="utf-8").split("\n")
    films_of = [{text.rstrip(".?").split()[-1] for text in part if text} for part in (tuning, held_out)]
    assert films_of[0] and films_of[1] and not films_of[0] & films_of[1]
    assert films_of[0] | films_of[1] == {str(number) for number in range(12)}


def test_built_outside_corpora_are_read_by_file_name_and_language(tmp_path: Path) -> None:
    (tmp_path / "activ-es-heldout-es.txt").write_text("¿Qué hora es?\n\n¿Qué hora es?\nVámonos.\n", encoding="utf-8")
    (tmp_path / "xlmt-en.txt").write_text("@user see you http\n", encoding="utf-8")
    assert language_detection.built_outside_sets(tmp_path) == [
        ("activ-es-heldout-es.txt", ("es", ["¿Qué hora es?", "Vámonos."])),
        ("xlmt-en.txt", ("en", ["see you"])),
    ]
    assert language_detection.built_outside_sets(tmp_path / "absent") == []


def test_tsv_splits_are_built_apart_without_stand_ins_hashtags_or_repeats(tmp_path: Path) -> None:
    source = tmp_path / "splits"
    (source / "es").mkdir(parents=True)
    (source / "es" / "train.tsv").write_text(
        "id\tevent\ttweet\n1\tx\tUSER USER no me contestan #Cita &amp; URL\n2\tx\tno me contestan &amp;\n",
        encoding="utf-8",
    )
    (source / "es" / "test.tsv").write_text("id\tevent\ttweet\n3\tx\tme urge HASHTAG\n", encoding="utf-8")
    splits = {
        "e-tuning-es.txt": (tmp_path / "tuning", "es/train.tsv"),
        "e-heldout-es.txt": (tmp_path / "measure", "es/test.tsv"),
    }
    outside_corpora.build_tsv_splits(source, 2, splits)
    assert (tmp_path / "tuning" / "e-tuning-es.txt").read_text(encoding="utf-8") == "no me contestan &\n"
    assert (tmp_path / "measure" / "e-heldout-es.txt").read_text(encoding="utf-8") == "me urge\n"


def test_chit_chat_scenarios_keep_user_messages_only_and_are_split_whole(tmp_path: Path) -> None:
    def knowledge_base(scenarios: range) -> str:
        return "> Source: qna_chitchat_Professional\n" + "".join(
            f"## ? pregunta {number}\n- otra  pregunta {number}\n- y otra {number}\n\n**Filters:**\n"
            f"- editorial = chitchat\n\n```markdown\nrespuesta del bot {number}\n- no es del paciente\n```\n\n"
            for number in scenarios
        )

    def intents(numbers: range) -> str:
        return "> # Intent definitions\n" + "".join(
            f"## Intent{number}\n- cancela {number}\n- la {{ordinal=primera}} {number}\n- (soy|yo) {{Name.Any}} [.]\n"
            f"- no {number}\n\n$Ordinal:primera=\n- uno\n\n"
            for number in numbers
        )

    assert outside_corpora.chitchat_scenarios(knowledge_base(range(1))) == {
        "## ? pregunta 0": ["pregunta 0", "otra  pregunta 0", "y otra 0"]
    }
    assert outside_corpora.chitchat_scenarios(intents(range(1))) == {
        "## Intent0": ["cancela 0", "la primera 0", "no 0"]
    }
    for locale in outside_corpora.CHITCHAT_LOCALES.values():
        (tmp_path / "QnA" / locale).mkdir(parents=True)
        (tmp_path / "QnA" / locale / "Chitchat.qna").write_text("\ufeff" + knowledge_base(range(12)), encoding="utf-8")
        (tmp_path / "LU" / locale).mkdir(parents=True)
        (tmp_path / "LU" / locale / "general.lu").write_text(intents(range(12)), encoding="utf-8")
    outside_corpora.build_chitchat(tmp_path, tmp_path / "tuning", tmp_path / "measure")
    for corpus in outside_corpora.CHITCHAT_FILES:
        for language in outside_corpora.CHITCHAT_LOCALES:
            parts = [
                (tmp_path / part / f"{corpus}-{name}-{language}.txt").read_text(encoding="utf-8").splitlines()
                for part, name in (("tuning", "tuning"), ("measure", "heldout"))
            ]
            scenarios_of = [{text.split()[-1] for text in part} for part in parts]
            assert scenarios_of[0] and scenarios_of[1] and not scenarios_of[0] & scenarios_of[1]
            assert scenarios_of[0] | scenarios_of[1] == {str(number) for number in range(12)}
            assert all(len(part) == 3 * len(scenarios) for part, scenarios in zip(parts, scenarios_of, strict=True))
            assert not any(word in text for text in parts[0] + parts[1] for word in ("respuesta", "editorial", "uno"))


def test_leyzer_intents_are_pooled_over_the_splits_and_split_whole(tmp_path: Path) -> None:
    """Leyzer's own splits share every intent; the builder pools them and holds out whole intents, the same ones
    in both languages, so no request of a held-out intent was read."""
    for locale in outside_corpora.LEYZER_LOCALES.values():
        for split in outside_corpora.LEYZER_SPLITS:
            rows = "".join(
                f"Domain\tIntent{number}\t{split} orden  {number}\tO O B-x\n"
                f"Domain\tIntent{number}\torden {number}\tO O\n"
                for number in range(12)
            )
            (tmp_path / f"leyzer-{split}-{locale}-0.1.0.tsv").write_text(
                "domain\tintent\tutterance\tbio\n" + rows, encoding="utf-8"
            )
    outside_corpora.build_leyzer(tmp_path, tmp_path / "tuning", tmp_path / "measure")
    intents_of = {}
    for language in outside_corpora.LEYZER_LOCALES:
        parts = [
            (tmp_path / part / f"leyzer-{name}-{language}.txt").read_text(encoding="utf-8").splitlines()
            for part, name in (("tuning", "tuning"), ("measure", "heldout"))
        ]
        intents_of[language] = [{text.split()[-1] for text in part} for part in parts]
        tuning, held_out = intents_of[language]
        assert tuning and held_out and not tuning & held_out
        assert tuning | held_out == {str(number) for number in range(12)}
        assert all(len(part) == 4 * len(intents) for part, intents in zip(parts, intents_of[language], strict=True))
        assert "train orden 0" in parts[0] + parts[1] and "utterance" not in " ".join(parts[0] + parts[1])
    assert intents_of["es"] == intents_of["en"]
