"""The crisis screen starts without TensorFlow (issue 13), and hiding it from spaCy breaks nothing after."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run(script: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_the_product_screen_loads_and_screens_without_importing_tensorflow() -> None:
    report = _run(
        """
        import json, sys
        import screening
        screen = screening.CrisisScreen()
        rules = screen.screen("I want to kill myself", "en")
        negated = screen.screen("I'm not suicidal, I need a refill", "en")
        print(json.dumps({
            "tensorflow": sorted(m for m in sys.modules if m == "tensorflow" or m.startswith("tensorflow.")),
            "rules": rules and [rules.category.value, rules.source],
            "negated": negated is None,
            "classifier_loaded": "screening.classifier" in sys.modules,
        }))
        """
    )
    assert report["tensorflow"] == []
    assert report["rules"] == ["suicide_self_harm", "rules"]
    assert report["negated"] is True
    assert report["classifier_loaded"] is True


def test_tensorflow_still_imports_after_the_screen_and_the_screen_works_beside_it() -> None:
    # Rasa imports TensorFlow in the same process as the connector's screen, in either order.
    report = _run(
        """
        import json, sys
        import screening
        import tensorflow
        after = screening.CrisisScreen(classifier=None).screen("I want to kill myself", "en")
        print(json.dumps({"tensorflow": hasattr(tensorflow, "constant"), "after": after and after.category.value}))
        """
    )
    assert report == {"tensorflow": True, "after": "suicide_self_harm"}


def test_the_screen_loads_when_tensorflow_was_imported_first() -> None:
    report = _run(
        """
        import json
        import tensorflow
        import screening
        found = screening.CrisisScreen(classifier=None).screen("quiero quitarme la vida", "es")
        print(json.dumps({"finding": found and found.category.value, "tensorflow": hasattr(tensorflow, "constant")}))
        """
    )
    assert report == {"finding": "suicide_self_harm", "tensorflow": True}
