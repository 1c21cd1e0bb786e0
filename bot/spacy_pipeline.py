"""Build the project's own spaCy pipeline; no English model can be downloaded here.

A blank English tokenizer plus the lookup lemmatizer from spacy-lookups-data, saved to a
folder that `SpacyNLP` loads by path (see config.yml). The lemmas let the count-vector
featurizer and the safety net treat "meets", "meeting" and "met" alike.
"""

from __future__ import annotations

from pathlib import Path

import spacy

from bot.settings import VAR_DIR

PIPELINE_DIR = VAR_DIR / "spacy" / "en_talk_together"
_VERSION = "1"  # bump when the recipe below changes, so old builds are replaced


def build_pipeline(target: Path = PIPELINE_DIR) -> Path:
    """Build the pipeline into `target` unless an up-to-date build is already there."""
    stamp = target / "talk_together_version"
    if stamp.exists() and stamp.read_text() == _VERSION:
        return target
    target.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta["name"] = "talk_together"
    nlp.to_disk(target)
    stamp.write_text(_VERSION)
    return target
