"""Train only when something the model is made from has changed.

The model's file name carries a fingerprint of everything it is made from: the pipeline
config, the domain with its generated responses (so content), the training data, our NLU
components and the locked dependencies. Same inputs, same file: no retraining. The settings
are not among them: the responses hold every region and name the settings, filled in when a
message is sent (bot/nlg.py).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from bot.content import DOMAIN_DIR
from bot.settings import PROJECT_DIR

MODELS_DIR = PROJECT_DIR / "models"
_KEEP_MODELS = 3


def _inputs() -> list[Path]:
    files: list[Path] = [PROJECT_DIR / "config.yml", PROJECT_DIR / "requirements" / "base.lock"]
    files += sorted(DOMAIN_DIR.glob("*.yml"))
    files += sorted((PROJECT_DIR / "data").rglob("*.yml"))
    files += sorted((PROJECT_DIR / "bot" / "nlu").rglob("*.py")) + sorted((PROJECT_DIR / "bot" / "nlu").glob("*.yml"))
    files += [PROJECT_DIR / "bot" / "spacy_pipeline.py"]
    return [f for f in files if f.exists()]


def fingerprint(files: Iterable[Path] | None = None) -> str:
    digest = hashlib.sha256()
    for path in files if files is not None else _inputs():
        digest.update(str(path.relative_to(PROJECT_DIR)).encode())
        digest.update(b"\0")
        digest.update(path.resolve().read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS_DIR / f"talk-together-{fingerprint()}.tar.gz"


def train_if_needed(env: dict) -> Path:
    """Return the model for the current inputs, training it first if it does not exist."""
    target = model_path()
    if target.exists():
        return target
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", "config.yml",
        "--domain", str(DOMAIN_DIR),
        "--data", "data",
        "--out", str(MODELS_DIR),
        "--fixed-model-name", target.name[: -len(".tar.gz")],
    ]  # fmt: skip
    subprocess.run(command, cwd=PROJECT_DIR, env=env, check=True)
    old = sorted(MODELS_DIR.glob("talk-together-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for stale in old[:-_KEEP_MODELS]:
        stale.unlink()
    return target
