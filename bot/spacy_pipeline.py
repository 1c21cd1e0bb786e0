"""Build the project's own spaCy pipeline; no English model can be downloaded here.

A blank English tokenizer, the lookup lemmatizer from spacy-lookups-data, and a `SpanRuler`
with the safety net's signals (bot/nlu/safety_net.yml), saved to a folder that `SpacyNLP`
loads by path (see config.yml). The lemmas let the count-vector featurizer and the safety net
treat "meets", "meeting" and "met" alike; the ruler marks every signal in `doc.spans["safety"]`.
"""

from __future__ import annotations

from pathlib import Path

import spacy

from bot.nlu.safety_rules import SPANS_KEY, load_table
from bot.settings import VAR_DIR

PIPELINE_DIR = VAR_DIR / "spacy" / "en_talk_together"
_VERSION = "2"  # bump when the recipe below changes, so old builds are replaced
STAMP_FILE = "talk_together_version"


def pipeline_stamp() -> str:
    """The recipe's version and the safety table it was built with."""
    return f"{_VERSION}-{load_table().digest}"


def build_pipeline(target: Path = PIPELINE_DIR) -> Path:
    """Build the pipeline into `target` unless an up-to-date build is already there."""
    stamp = target / STAMP_FILE
    if stamp.exists() and stamp.read_text() == pipeline_stamp():
        return target
    target.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    # After the lemmatizer: the patterns match lemmas too.
    ruler = nlp.add_pipe("span_ruler", config={"spans_key": SPANS_KEY, "validate": True})
    nlp.initialize()
    ruler.add_patterns(load_table().span_patterns(nlp.tokenizer))  # type: ignore[attr-defined]
    nlp.meta["name"] = "talk_together"
    nlp.to_disk(target)
    stamp.write_text(pipeline_stamp())
    return target
