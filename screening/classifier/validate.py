"""Validate an artefact on sets it was never trained on: ``python -m screening.classifier.validate``.

Each set comes from a git directory given on the command line (none is
committed: some have no licence that allows it, and a validation set must stay
out of training anyway):

* ``--tweets DIR``: laxmimerit/twitter-suicidal-intention-dataset (English
  tweets, ``intention`` 1 = suicidal): recall and false-positive rate.
* ``--reddit DIR``: ayaanzhaque/SDCNL (r/SuicideWatch vs r/depression posts):
  recall on SuicideWatch titles and posts; depression posts are reported as
  "flagged", not as false positives (many of them voice suicidal thoughts too).
* ``--slurp DIR``: pswietojanski/slurp ``test`` split: everyday voice-assistant
  requests, all non-crisis (training uses ``devel`` only).
* ``--hwu DIR``: xliuhw/NLU-Evaluation-Data (HWU64): everyday requests, all
  non-crisis.
* ``--held-out``: the ``held_out`` split of ``tests/data/crisis`` (reported,
  never used to choose anything).

Prints, per set and language, recall and false-positive rate at the
artefact's threshold and at a few others.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from screening.classifier import DEFAULT_ARTEFACT, CrisisClassifier
from screening.classifier.corpus import CRISIS_CASES_DIR, NONE_LABEL

csv.field_size_limit(sys.maxsize)
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class Item:
    """One validation message."""

    text: str
    crisis: bool
    lang: str


def _git(git_dir: Path, *args: str) -> str:
    git = shutil.which("git") or "git"
    return subprocess.run([git, "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True).stdout


def tweets(git_dir: Path) -> list[Item]:
    rows = csv.DictReader(io.StringIO(_git(git_dir, "show", "HEAD:twitter-suicidal_data.csv")))
    return [Item(r["tweet"], r["intention"].strip() == "1", "en") for r in rows if r["tweet"].strip()]


def reddit(git_dir: Path) -> list[Item]:
    rows = csv.DictReader(io.StringIO(_git(git_dir, "show", "HEAD:data/combined-set.csv")))
    items = []
    for r in rows:
        text = f"{r['title']}. {r['selftext']}".strip()
        items.append(Item(text, r["is_suicide"].strip() == "1", "en"))
    return items


def slurp_test(git_dir: Path) -> list[Item]:
    lines = _git(git_dir, "show", "HEAD:dataset/slurp/test.jsonl").splitlines()
    return [Item(t, False, "en") for t in sorted({json.loads(line)["sentence"] for line in lines if line.strip()})]


def hwu(git_dir: Path) -> list[Item]:
    paths = [
        p
        for p in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
        if "/testset/annotated/" in p and p.endswith(".json")
    ]
    texts: set[str] = set()
    for path in paths:
        data = json.loads(_git(git_dir, "show", f"HEAD:{path}"))
        texts.update(str(item["text"]) for item in data.get("test_data_annotation", []))
    return [Item(t, False, "en") for t in sorted(texts)]


def held_out(directory: Path = CRISIS_CASES_DIR) -> list[Item]:
    items: list[Item] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items.extend(
            Item(str(c["text"]), str(c["label"]) != NONE_LABEL, str(data["language"]))
            for c in data.get("held_out") or []
        )
    return items


def _rates(items: Sequence[Item], scores: Sequence[float], threshold: float) -> str:
    pos = [s >= threshold for i, s in zip(items, scores, strict=True) if i.crisis]
    neg = [s >= threshold for i, s in zip(items, scores, strict=True) if not i.crisis]
    recall = f"recall {sum(pos)}/{len(pos)} {100 * sum(pos) / len(pos):5.1f}%" if pos else ""
    fpr = f"FP {sum(neg)}/{len(neg)} {100 * sum(neg) / len(neg):6.2f}%" if neg else ""
    return f"{recall:<28} {fpr}"


def evaluate(name: str, items: Sequence[Item], classifier: CrisisClassifier, show_errors: int = 0) -> None:
    """Print recall/FPR per language at the artefact threshold and a sweep."""
    scores = [classifier.score(i.text) for i in items]
    for lang in sorted({i.lang for i in items}):
        subset = [(i, s) for i, s in zip(items, scores, strict=True) if i.lang == lang]
        its, scs = [i for i, _ in subset], [s for _, s in subset]
        print(
            f"{name} [{lang}] n={len(its)} at threshold {classifier.threshold:.3f}: "
            f"{_rates(its, scs, classifier.threshold)}"
        )
        for t in SWEEP:
            print(f"    t={t:.2f}: {_rates(its, scs, t)}")
    if show_errors:
        ranked = sorted(zip(scores, items, strict=True), key=lambda p: p[0])
        misses = [p for p in ranked if p[1].crisis and p[0] < classifier.threshold][:show_errors]
        alarms = [p for p in reversed(ranked) if not p[1].crisis and p[0] >= classifier.threshold][:show_errors]
        for score, item in misses:
            print(f"    miss  {score:.3f} [{item.lang}] {item.text[:120]!r}")
        for score, item in alarms:
            print(f"    alarm {score:.3f} [{item.lang}] {item.text[:120]!r}")


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artefact", type=Path, default=DEFAULT_ARTEFACT)
    parser.add_argument("--tweets", type=Path)
    parser.add_argument("--reddit", type=Path)
    parser.add_argument("--slurp", type=Path)
    parser.add_argument("--hwu", type=Path)
    parser.add_argument("--held-out", action="store_true")
    parser.add_argument("--errors", type=int, default=0, help="print this many misses and false alarms per set")
    args = parser.parse_args(argv)
    classifier = CrisisClassifier.load(args.artefact)
    sets = [
        ("tweets", tweets, args.tweets),
        ("reddit", reddit, args.reddit),
        ("slurp_test", slurp_test, args.slurp),
        ("hwu64", hwu, args.hwu),
    ]
    for name, loader, source in sets:
        if source:
            evaluate(name, loader(source), classifier, args.errors)
    if args.held_out:
        evaluate("held_out", held_out(), classifier, args.errors)


if __name__ == "__main__":
    main()
