"""The parts of spaCy the crisis screen uses, imported without TensorFlow.

spaCy imports thinc, and ``thinc.compat`` tries ``import tensorflow`` to offer
its TensorFlow wrappers. TensorFlow is installed (Rasa needs it), so every
process that only screens text paid about 4 s and a few hundred MB for it.
The screen uses blank tokenizers and ``Matcher`` only, never a thinc model, so
spaCy is imported here with ``tensorflow`` marked absent for the duration of
the import; thinc then records that it has no TensorFlow, and a later
``import tensorflow`` (Rasa's) works as usual. When TensorFlow is already
loaded (inside the Rasa server) nothing is hidden: it costs nothing there.

Every module of the screen imports spaCy through this one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

_TENSORFLOW = "tensorflow"


@contextmanager
def _tensorflow_hidden() -> Iterator[None]:
    """Make ``import tensorflow`` fail inside the block unless it is already imported."""
    if _TENSORFLOW in sys.modules:
        yield
        return
    sys.modules[_TENSORFLOW] = None  # type: ignore[assignment]  # None in sys.modules: ImportError
    try:
        yield
    finally:
        if sys.modules.get(_TENSORFLOW, ...) is None:
            del sys.modules[_TENSORFLOW]


with _tensorflow_hidden():
    import spacy
    from spacy.attrs import NORM
    from spacy.language import Language
    from spacy.matcher import Matcher
    from spacy.tokenizer import Tokenizer
    from spacy.tokens import Doc

__all__ = ["NORM", "Doc", "Language", "Matcher", "Tokenizer", "spacy"]
