"""Trains the Rasa model only when its inputs changed: models are named by content.

Training is reproducible: the same inputs give the same model, and so the same
predictions, on any machine. Rasa seeds its own randomness (``random_seed`` in
``config.yml``); what is left is fixed here, in the environment of ``rasa train``:

* ``TF_DETERMINISTIC_OPS``: TensorFlow ops use their deterministic kernels;
* a fixed number of TensorFlow threads (``TF_INTRA_OP_PARALLELISM_THREADS``,
  ``TF_INTER_OP_PARALLELISM_THREADS``), so float sums are split the same way
  whether the machine has 2 cores or 64;
* ``TF_ENABLE_ONEDNN_OPTS=0``: oneDNN picks kernels by the CPU's instruction set,
  which changes float results between CPU models;
* ``PYTHONHASHSEED``: set and dict orders that depend on string hashes.

Each model has a sidecar ``<model>.json`` with how long it took to train.
"""

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Mapping, Optional

from stack.domain import ASSEMBLED_DOMAIN, require_fresh_domain

TRAINING_INPUTS = ("config.yml", "domain", "data")
"""``domain.yml`` is not among them: it is generated from ``domain/``, and ``ensure_model`` trains only when it
is up to date (``stack.domain``), so a model's name still says which sources it was trained on."""
REPRODUCIBLE_TRAINING_ENV = {
    "TF_DETERMINISTIC_OPS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "2",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYTHONHASHSEED": "0",
}


def training_digest(project_dir: Path) -> str:
    """SHA-256 over Rasa's version and every training input's path and bytes."""
    digest = hashlib.sha256(f"rasa {version('rasa')}".encode())
    for name in TRAINING_INPUTS:
        root = project_dir / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def training_record(model: Path) -> Optional[dict[str, float]]:
    """What ``ensure_model`` recorded when it trained ``model``: seconds and CPU count."""
    sidecar = model.with_name(model.name.removesuffix(".tar.gz") + ".json")
    return json.loads(sidecar.read_text()) if sidecar.exists() else None


def ensure_model(
    project_dir: Path, rasa_executable: str, env: Optional[Mapping[str, str]] = None
) -> Path:
    """Path of the model for the current inputs, training it first if it is not cached.

    Raises ``stack.domain.StaleDomain`` when ``domain.yml`` is not what ``domain/`` gives: a model
    trained on it would be cached under the name of sources it was not trained on. The model
    returned is also made the newest in ``models/``, the one ``rasa shell`` and ``rasa test`` pick.
    """
    require_fresh_domain(project_dir)
    models_dir = project_dir / "models"
    name = f"routing-{training_digest(project_dir)}"
    model = models_dir / f"{name}.tar.gz"
    if model.exists():
        with contextlib.suppress(OSError):  # a read-only models/ serves as well; only the CLI's pick differs
            model.touch()
        return model
    started = time.monotonic()
    subprocess.run(
        [
            rasa_executable, "train",
            "--config", "config.yml",
            "--domain", str(ASSEMBLED_DOMAIN),
            "--data", "data",
            "--out", str(models_dir),
            "--fixed-model-name", name,
        ],
        cwd=project_dir,
        env={**(os.environ if env is None else env), **REPRODUCIBLE_TRAINING_ENV},
        stdout=sys.stderr,
        check=True,
    )
    record = {"training_seconds": round(time.monotonic() - started, 1), "cpu_count": os.cpu_count() or 0}
    (models_dir / f"{name}.json").write_text(json.dumps(record))
    return model
