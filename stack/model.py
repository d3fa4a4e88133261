"""Trains the Rasa model only when its inputs changed: models are named by content."""

import hashlib
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Mapping, Optional

from stack.domain import assemble_domain

TRAINING_INPUTS = ("config.yml", "domain", "data")


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


def ensure_model(
    project_dir: Path, rasa_executable: str, env: Optional[Mapping[str, str]] = None
) -> Path:
    """Path of the model for the current inputs, training it first if it is not cached."""
    models_dir = project_dir / "models"
    name = f"routing-{training_digest(project_dir)}"
    model = models_dir / f"{name}.tar.gz"
    if model.exists():
        return model
    subprocess.run(
        [
            rasa_executable, "train",
            "--config", "config.yml",
            "--domain", str(assemble_domain(project_dir)),
            "--data", "data",
            "--out", str(models_dir),
            "--fixed-model-name", name,
        ],
        cwd=project_dir,
        env=dict(env) if env is not None else None,
        stdout=sys.stderr,
        check=True,
    )
    return model
