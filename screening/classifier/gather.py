"""Extract the public training sets from clones of their repositories.

``python -m screening.classifier.gather --slurp DIR --xstest DIR --hwu64 DIR`` reads each
repository's git directory (a bare clone or a work tree's ``.git``) at its
``HEAD`` and rewrites ``<PUBLIC_DATA_DIR>/<name>.jsonl`` (``.data/crisis-screen/``,
outside git: fetched data is never committed). It documents exactly what was
kept (``screening/classifier/data/README.md`` records repository, commit,
licence); the trainer reads only those files, never the network.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from screening.classifier.corpus import PUBLIC_DATA_DIR

# XSTest "unsafe" prompts are kept only when they are about harming oneself.
_SELF_HARM = re.compile(
    r"\b(myself|my own|my life|commit suicide|my cervical artery)\b|go out like|die like", re.IGNORECASE
)


def _git(git_dir: Path, *args: str) -> str:
    git = shutil.which("git") or "git"
    return subprocess.run([git, "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True).stdout


def _git_show(git_dir: Path, path: str) -> str:
    return _git(git_dir, "show", f"HEAD:{path}")


def _write(name: str, rows: Iterable[dict[str, object]]) -> int:
    unique: dict[tuple[object, object], dict[str, object]] = {}
    for row in rows:
        unique.setdefault((row["text"], row["label"]), row)
    PUBLIC_DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = PUBLIC_DATA_DIR / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in unique.values()), encoding="utf-8")
    return len(unique)


def slurp(git_dir: Path) -> int:
    """SLURP ``devel`` split: everyday voice-assistant requests, all non-crisis."""
    rows = (
        {"text": json.loads(line)["sentence"], "label": 0, "lang": "en", "source": "slurp_devel"}
        for line in _git_show(git_dir, "dataset/slurp/devel.jsonl").splitlines()
        if line.strip()
    )
    return _write("slurp_devel", rows)


def hwu64(git_dir: Path) -> int:
    """HWU64 (NLU-Evaluation-Data): everyday home-assistant requests, all non-crisis. The texts of
    the ten cross-validation test folds (together: every annotated utterance once)."""
    listing = _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    rows = []
    for path in sorted(p for p in listing if "/testset/annotated/" in p and p.endswith(".json")):
        for item in json.loads(_git_show(git_dir, path)).get("test_data_annotation", []):
            text = str(item["text"]).strip()
            if text:
                rows.append({"text": text, "label": 0, "lang": "en", "source": "hwu64"})
    return _write("hwu64", sorted(rows, key=lambda r: str(r["text"])))


def xstest(git_dir: Path) -> int:
    """XSTest: every safe prompt (homonyms, figurative language, definitions ...) as non-crisis,
    and the unsafe prompts about harming oneself as crisis."""
    rows = []
    for row in csv.DictReader(io.StringIO(_git_show(git_dir, "xstest_prompts.csv"))):
        prompt = row["prompt"].strip()
        if row["label"] == "safe":
            rows.append({"text": prompt, "label": 0, "lang": "en", "source": "xstest", "kind": row["type"]})
        elif _SELF_HARM.search(prompt):
            rows.append({"text": prompt, "label": 1, "lang": "en", "source": "xstest", "kind": row["type"]})
    return _write("xstest", rows)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slurp", type=Path, help="git dir of pswietojanski/slurp")
    parser.add_argument("--xstest", type=Path, help="git dir of paul-rottger/exaggerated-safety")
    parser.add_argument("--hwu64", type=Path, help="git dir of xliuhw/NLU-Evaluation-Data")
    args = parser.parse_args()
    if args.slurp:
        print(f"slurp_devel: {slurp(args.slurp)} rows")
    if args.xstest:
        print(f"xstest: {xstest(args.xstest)} rows")
    if args.hwu64:
        print(f"hwu64: {hwu64(args.hwu64)} rows")


if __name__ == "__main__":
    main()
