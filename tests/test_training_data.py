"""The NLU training data teaches one answer per message.

`rasa data validate --fail-on-warnings` finds the same conflict, but only after loading the
whole project (two minutes); this runs with the unit tests, so a line pasted under a second
intent fails before it is committed. Texts are compared as the featurizers see them: lower case,
single spaces.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml
from rasa.shared.nlu.training_data.entities_parser import replace_entities

NLU_DIR = Path(__file__).resolve().parents[1] / "data" / "nlu"


def _examples() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(NLU_DIR.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    found.append((" ".join(replace_entities(text).lower().split()), block["intent"], path.name))
    return found


def test_no_example_is_taught_as_two_intents():
    intents_by_text: dict[str, set[str]] = defaultdict(set)
    for text, intent, file_name in _examples():
        intents_by_text[text].add(f"{intent} ({file_name})")
    conflicts = {text: sorted(intents) for text, intents in intents_by_text.items() if len(intents) > 1}
    assert not conflicts, conflicts
