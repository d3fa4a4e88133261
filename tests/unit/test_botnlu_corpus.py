"""The chat-bot NLU corpus builder's parsing (``evaluation.outside_corpora``), on tiny inline fixtures."""

import json

import pytest

from evaluation.outside_corpora import (
    BotNluSource,
    botnlu_groups,
    botnlu_sources,
    dialogflow_messages,
    nlu_file_messages,
    rasa_md_messages,
    rasa_yml_messages,
    source_messages,
    without_entity_marks,
)

RASA_MD = """## intent:pedir_cita
- quiero una cita con [la doctora](medico)
- cita para [mañana](fecha)

## synonym:medico
- doctora

## regex:telefono
- [0-9]{9}

## lookup:ciudades
- Lima

## intent:greet_es
- hola
"""

RASA_YML = """version: "3.1"
nlu:
- intent: refill
  examples: |
    - I need a refill of [ibuprofen](drug)
    - refill please
- synonym: ibuprofen
  examples: |
    - advil
- regex: phone
  examples: |
    - \\d{10}
- lookup: drug
  examples: |
    - aspirin
- intent: thanks
  examples:
  - text: thank you
  - text: thanks a lot
"""


def test_rasa_md_keeps_intent_examples_only():
    assert rasa_md_messages(RASA_MD) == [
        ("pedir_cita", "quiero una cita con [la doctora](medico)"),
        ("pedir_cita", "cita para [mañana](fecha)"),
        ("greet_es", "hola"),
    ]


def test_rasa_yml_keeps_intent_examples_only():
    assert rasa_yml_messages(RASA_YML) == [
        ("refill", "I need a refill of [ibuprofen](drug)"),
        ("refill", "refill please"),
        ("thanks", "thank you"),
        ("thanks", "thanks a lot"),
    ]


def test_dialogflow_usersays_joins_parts_and_drops_templates():
    usersays = [
        {"data": [{"text": "quiero cita el "}, {"text": "lunes", "alias": "date", "meta": "@sys.date"}],
         "isTemplate": False, "count": 0},
        {"data": [{"text": "cita @sys.date:date"}], "isTemplate": True, "count": 0},
    ]
    assert dialogflow_messages(json.dumps(usersays), "Cita") == [("Cita", "quiero cita el lunes")]
    assert nlu_file_messages("agent/intents/Cita_usersays_es.json", json.dumps(usersays)) == [
        ("Cita", "quiero cita el lunes")
    ]


@pytest.mark.parametrize(
    ("marked", "plain"),
    [
        ("quiero una cita con [la doctora](medico)", "quiero una cita con la doctora"),
        ('cita para [mañana]{"entity": "fecha"}', "cita para mañana"),
        ("refill [ibuprofen](drug:advil)  now", "refill ibuprofen now"),
        ("cancel my {item=appointment}", "cancel my appointment"),
    ],
)
def test_entity_marks_keep_their_words(marked, plain):
    assert without_entity_marks(marked) == plain


def test_manifest_lines_and_intent_suffix_filter():
    manifest = (
        "# comment\n\n"
        "a/b@0123abc:data/nlu.md\tes\tMIT\tsuffix=_es\n"
        "a/b@0123abc:data/nlu.md\ten\tMIT\tnosuffix=_es\n"
        "c/d@4567def:intents/*_usersays_es*.json\tes\tnone stated\n"
    )
    spanish, english, dialogflow = botnlu_sources(manifest)
    assert (spanish.repo, spanish.commit, spanish.path, spanish.licence) == ("a/b", "0123abc", "data/nlu.md", "MIT")
    assert dialogflow.intents == ""
    files = {"data/nlu.md": RASA_MD, "data/other.md": "## intent:x_es\n- no\n"}
    assert source_messages(spanish, files) == ["hola"]
    assert source_messages(english, files) == ["quiero una cita con la doctora", "cita para mañana"]
    with pytest.raises(ValueError):
        botnlu_sources("a/b@0123abc:data/nlu.md\tfr\tMIT\n")


def test_glob_picks_language_files():
    source = BotNluSource("c/d", "4567def", "intents/*_usersays_es*.json", "es", "none stated")
    example = json.dumps([{"data": [{"text": "hola"}], "isTemplate": False}])
    files = {"intents/A_usersays_es.json": example, "intents/A_usersays_en.json": "[]", "intents/A.json": "{}"}
    assert source_messages(source, files) == ["hola"]


def test_message_a_project_has_in_both_languages_is_dropped_and_duplicates_too():
    per_repo = {
        "a/b": {"es": ["hola", "ok", "gracias", "hola"], "en": ["hello", "ok"]},
        "c/d": {"es": ["gracias"], "en": ["hello", "thanks"]},
        "e/f": {"en": ["ok"]},
    }
    assert botnlu_groups(per_repo) == {
        "es": {"a/b": ["hola", "gracias"], "c/d": ["gracias"]},
        "en": {"a/b": ["hello"], "c/d": ["hello", "thanks"], "e/f": ["ok"]},
    }
