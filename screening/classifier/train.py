"""Train the learned crisis screen: ``python -m screening.classifier.train``.

Steps (deterministic; about 25 s on two cores, most of it hashing n-grams in
Python):

1. Load the training corpus (:mod:`screening.classifier.corpus`) and hash
   every message's n-grams (:mod:`screening.classifier.features`).
2. Five-fold cross-validation (stratified by language and label) gives every
   training message an out-of-fold score, from a model that never saw it,
   computed as :meth:`CrisisClassifier.score` does (maximum over segments).
3. Threshold, from those out-of-fold scores: the highest score that keeps
   recall on crisis messages at ``--recall`` (default 95 %), but never below
   the score that keeps false alarms on everyday assistant requests (SLURP
   devel and HWU64) at ``--everyday-fpr`` (default 0.05 %, the target for
   everyday requests). The everyday bound wins when the two conflict, as it
   does with today's data: the recall this costs is in the printed table.
4. Fit on everything and write the artefact (``--out``, default
   ``screening/classifier/crisis_classifier.npz``) with the threshold, the
   out-of-fold figures per language and a digest of the training data, so a
   test can tell when the committed artefact no longer matches the data.
   Any change to ``data/nlu`` or ``tests/data/crisis`` therefore means
   running this again and committing the new artefact.

Prints the out-of-fold recall and false-positive rate per source and language.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize

from screening.classifier import DEFAULT_ARTEFACT, FORMAT_VERSION
from screening.classifier.corpus import Example, digest, training_corpus
from screening.classifier.features import CHAR_NGRAMS, DEFAULT_BITS, feature_counts, segments

C = 10.0
FOLDS = 5
SEED = 0
DEFAULT_RECALL = 0.95
DEFAULT_EVERYDAY_FPR = 0.0005
EVERYDAY_SOURCES = frozenset({"slurp_devel", "hwu64"})


@dataclass(frozen=True)
class Config:
    """Everything besides the data that decides the artefact."""

    bits: int = DEFAULT_BITS
    c: float = C
    folds: int = FOLDS
    recall: float = DEFAULT_RECALL
    everyday_fpr: float = DEFAULT_EVERYDAY_FPR

    def as_dict(self) -> dict[str, object]:
        return {
            "bits": self.bits,
            "C": self.c,
            "folds": self.folds,
            "recall": self.recall,
            "everyday_fpr": self.everyday_fpr,
            "char_ngrams": list(CHAR_NGRAMS),
            "seed": SEED,
        }


def term_frequencies(texts: Sequence[str], bits: int) -> sparse.csr_matrix:
    """Sublinear term frequencies (``1 + log(count)``) of hashed n-grams, one row per text."""
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for text in texts:
        counts = feature_counts(text, bits)
        for bucket in sorted(counts):
            indices.append(bucket)
            values.append(1.0 + float(np.log(counts[bucket])))
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(values), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(texts), 1 << bits),
    )


def inverse_document_frequency(tf: sparse.csr_matrix) -> tuple[np.ndarray, float]:
    """Smoothed IDF per bucket (scikit-learn's formula) and the IDF of an unseen bucket."""
    rows = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = np.log((1.0 + rows) / (1.0 + df)) + 1.0
    return idf, float(np.log(1.0 + rows) + 1.0)


def tfidf(tf: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """TF times IDF, each row L2-normalised (what :meth:`CrisisClassifier.score` computes)."""
    return normalize(tf @ sparse.diags(idf), norm="l2", copy=False).tocsr()


def _model(config: Config) -> LogisticRegression:
    return LogisticRegression(C=config.c, class_weight="balanced", solver="liblinear", random_state=SEED)


def out_of_fold_scores(
    x: sparse.csr_matrix, examples: Sequence[Example], idf: np.ndarray, config: Config
) -> np.ndarray:
    """Score every example with a model trained on the other folds, as
    :meth:`CrisisClassifier.score` does: the maximum over the message's segments."""
    labels = np.array([e.crisis for e in examples])
    strata = [f"{e.lang}:{e.crisis}" for e in examples]
    owners = []
    texts = []
    for index, example in enumerate(examples):
        for segment in segments(example.text):
            owners.append(index)
            texts.append(segment)
    owner = np.asarray(owners)
    segment_x = tfidf(term_frequencies(texts, config.bits), idf)
    scores = np.zeros(len(examples))
    folds = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=SEED)
    for train, test in folds.split(np.zeros(len(examples)), strata):
        model = _model(config).fit(x[train], labels[train])
        rows = np.flatnonzero(np.isin(owner, test))
        np.maximum.at(scores, owner[rows], model.predict_proba(segment_x[rows])[:, 1])
    return scores


def choose_threshold(scores: np.ndarray, examples: Sequence[Example], config: Config) -> tuple[float, dict[str, float]]:
    """Threshold for recall, bounded below by the everyday false-positive budget."""
    labels = np.array([e.crisis for e in examples])
    positives = np.sort(scores[labels])
    everyday = np.sort(scores[[not e.crisis and e.source in EVERYDAY_SOURCES for e in examples]])[::-1]
    # recall: at least `recall` of positives score >= t
    missable = int(np.floor((1.0 - config.recall) * len(positives)))
    for_recall = float(positives[missable])
    # everyday: at most `everyday_fpr` of everyday negatives score >= t
    allowed = int(np.floor(config.everyday_fpr * len(everyday)))
    for_everyday = float(np.nextafter(everyday[allowed], 1.0)) if len(everyday) > allowed else 0.0
    threshold = max(for_recall, for_everyday)
    return threshold, {"for_recall": for_recall, "for_everyday": for_everyday}


def report(scores: np.ndarray, examples: Sequence[Example], threshold: float) -> str:
    """Out-of-fold recall and false-positive rate per source and language."""
    groups: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
    for example, score in zip(examples, scores, strict=True):
        flagged = bool(score >= threshold)
        groups.setdefault((example.source, example.lang), []).append((example.crisis, flagged))
        groups.setdefault(("ALL", example.lang), []).append((example.crisis, flagged))
        groups.setdefault(("ALL", "*"), []).append((example.crisis, flagged))
    lines = [f"{'source':<16} {'lang':<4} {'recall':>16} {'false positives':>20}"]
    for (source, lang), outcomes in sorted(groups.items()):
        pos = [flagged for crisis, flagged in outcomes if crisis]
        neg = [flagged for crisis, flagged in outcomes if not crisis]
        recall = f"{sum(pos)}/{len(pos)} {100 * sum(pos) / len(pos):5.1f}%" if pos else "-"
        fpr = f"{sum(neg)}/{len(neg)} {100 * sum(neg) / len(neg):5.2f}%" if neg else "-"
        lines.append(f"{source:<16} {lang:<4} {recall:>16} {fpr:>20}")
    return "\n".join(lines)


def per_language(scores: np.ndarray, examples: Sequence[Example], threshold: float) -> dict[str, dict[str, float]]:
    """Out-of-fold recall and false-positive rate per language (stored in the artefact)."""
    figures = {}
    for lang in sorted({e.lang for e in examples}):
        pos = [s >= threshold for e, s in zip(examples, scores, strict=True) if e.lang == lang and e.crisis]
        neg = [s >= threshold for e, s in zip(examples, scores, strict=True) if e.lang == lang and not e.crisis]
        figures[lang] = {
            "crisis": len(pos),
            "recall": round(float(np.mean(pos)), 4) if pos else 0.0,
            "not_crisis": len(neg),
            "false_positive_rate": round(float(np.mean(neg)), 4) if neg else 0.0,
        }
    return figures


def train(config: Config, verbose: bool = True) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """Run the whole procedure; returns the artefact's arrays and metadata."""
    examples = training_corpus()
    labels = np.array([e.crisis for e in examples])
    tf = term_frequencies([e.text for e in examples], config.bits)
    idf, unseen_idf = inverse_document_frequency(tf)
    x = tfidf(tf, idf)
    scores = out_of_fold_scores(x, examples, idf, config)
    threshold, bounds = choose_threshold(scores, examples, config)
    if verbose:
        print(report(scores, examples, threshold))
        print(
            f"threshold {threshold:.4f} (recall bound {bounds['for_recall']:.4f},"
            f" everyday bound {bounds['for_everyday']:.4f})"
        )
    model = _model(config).fit(x, labels)
    buckets = np.flatnonzero(np.bincount(tf.indices, minlength=tf.shape[1])).astype(np.uint32)
    coef = model.coef_[0]
    arrays = {
        "buckets": buckets,
        "idf": idf[buckets].astype(np.float32),
        "coef": coef[buckets].astype(np.float32),
    }
    meta: dict[str, object] = {
        "format": FORMAT_VERSION,
        "bits": config.bits,
        "intercept": float(model.intercept_[0]),
        "threshold": threshold,
        "unseen_idf": unseen_idf,
        "digest": digest(examples, config.as_dict()),
        "config": config.as_dict(),
        "examples": len(examples),
        "crisis_examples": int(labels.sum()),
        "threshold_bounds": bounds,
        "out_of_fold": per_language(scores, examples, threshold),
    }
    return arrays, meta


def save(path: str, arrays: dict[str, np.ndarray], meta: dict[str, object]) -> None:
    """Write the artefact (compressed ``.npz``, no pickled objects)."""
    np.savez_compressed(path, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(DEFAULT_ARTEFACT))
    parser.add_argument("--recall", type=float, default=DEFAULT_RECALL)
    parser.add_argument("--everyday-fpr", type=float, default=DEFAULT_EVERYDAY_FPR)
    parser.add_argument("--c", type=float, default=C)
    parser.add_argument("--bits", type=int, default=DEFAULT_BITS)
    args = parser.parse_args(argv)
    config = Config(bits=args.bits, c=args.c, recall=args.recall, everyday_fpr=args.everyday_fpr)
    arrays, meta = train(config)
    save(args.out, arrays, meta)
    print(f"wrote {args.out}: {len(arrays['buckets'])} buckets, threshold {meta['threshold']:.4f}")


if __name__ == "__main__":
    main()
