"""Chinese text is split into characters; other scripts keep their whitespace tokens."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu_components.han_tokenizer import HanCharacterTokenizer


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("我想跟真人说话", [("我", 0), ("想", 1), ("跟", 2), ("真", 3), ("人", 4), ("说", 5), ("话", 6)]),
        ("转agent好吗\uff1f", [("转", 0), ("agent", 1), ("好", 6), ("吗", 7)]),
        ("hello, 我的A1C報告", [("hello", 0), ("我", 7), ("的", 8), ("A1C", 9), ("報", 12), ("告", 13)]),
        ("tôi muốn gặp người", [("tôi", 0), ("muốn", 4), ("gặp", 9), ("người", 13)]),
        ("where do I park?", [("where", 0), ("do", 6), ("I", 9), ("park", 11)]),
    ],
)
def test_han_characters_become_tokens_with_their_offsets(text: str, tokens: list[tuple[str, int]]) -> None:
    tokenizer = HanCharacterTokenizer(HanCharacterTokenizer.get_default_config())
    got = tokenizer.tokenize(Message({"text": text}), "text")
    assert [(token.text, token.start) for token in got] == tokens
    assert all(text[token.start : token.end] == token.text for token in got)
