"""Recognise messages that are not in English, so they get an honest English reply.

The classifier has only English to go on and would force a foreign message into some English
intent, even danger. This component counts how many of a message's words are English: common
in English web text (spacy-lookups-data's frequency table, shipped with the package) or used in
our English training data (app names, text-speak). Too few, and it sets the intent
`use_other_language`. A danger route that the safety net found in the words themselves is
never overridden. The word list is made at training time and kept in the model.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

OTHER_LANGUAGE = "use_other_language"
# A word at least this frequent (log probability) in English web text counts as English.
_COMMON = -13.0
# Below this share of English words a message of several words is not English.
_MIN_ENGLISH_SHARE = 0.5
_MIN_WORDS = 3
_WORDS_FILE = "english_words.txt"
# Verdicts of the safety net that came from its patterns, not from the classifier.
_CLASSIFIER_VERDICTS = (None, "classifier", "hypothetical_or_past")


def words_of(text: str) -> list[str]:
    words = ["".join(c for c in token if c.isalpha()) for token in text.lower().split()]
    return [w for w in words if w]


def common_english_words() -> set[str]:
    table = resources.files("spacy_lookups_data") / "data" / "en_lexeme_prob.json.gz"
    with table.open("rb") as raw, gzip.open(raw) as unpacked:
        return {word for word, probability in json.load(unpacked).items() if probability >= _COMMON}


def is_other_language(text: str, english: set[str]) -> bool:
    letters = [c for c in text if c.isalpha()]
    if letters and sum(1 for c in letters if c.isascii()) / len(letters) < 0.5:
        return True  # mostly another script: Arabic, Cyrillic, Chinese...
    words = words_of(text)
    return len(words) >= _MIN_WORDS and sum(w in english for w in words) / len(words) < _MIN_ENGLISH_SHARE


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LanguageGuard(GraphComponent):
    """Sets `use_other_language` for messages that are not in English (see the module docstring)."""

    def __init__(self, model_storage: ModelStorage, resource: Resource, english: set[str] | None = None) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.english = english or set()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageGuard:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        english = common_english_words()
        for example in training_data.intent_examples:
            if example.get(INTENT) != OTHER_LANGUAGE:
                english.update(words_of(example.get(TEXT) or ""))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _WORDS_FILE).write_text("\n".join(sorted(english)), encoding="utf-8")
        self.english = english
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageGuard:
        with model_storage.read_from(resource) as directory:
            english = set((directory / _WORDS_FILE).read_text(encoding="utf-8").split("\n"))
        return cls(model_storage, resource, english)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text and message.get("safety_net") in _CLASSIFIER_VERDICTS and is_other_language(text, self.english):
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != OTHER_LANGUAGE]
                top = {"name": OTHER_LANGUAGE, "confidence": 1.0}
                message.set(INTENT, top, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        return messages
