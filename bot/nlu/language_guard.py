"""Recognise messages that are not in English, so they get an honest English reply.

The classifier has only English to go on and would force a foreign message into some English
intent, even danger. This component scores how English a message's words are: their frequency
in English web text (spacy-lookups-data's table, shipped with the package), with the words of
our English training data (app names, text-speak) counted as common. Too rare on average, and
it sets the intent `use_other_language`. A danger route that the safety net found in the words themselves is
never overridden (`Reason.WORDS`). The word list is made at training time and kept in the model.
"""

from __future__ import annotations

import gzip
import json
import re
from importlib import resources
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.safety_net import SAFETY_NET_KEY, Reason

OTHER_LANGUAGE = "use_other_language"
# How common each word is in English (log probability); rarer words than KEPT are not kept
# and count as UNKNOWN, like words with accents, which English hardly uses.
_KEPT = -15.0
_UNKNOWN = -20.0
# Words of our own English training data (app names, text-speak) count as at least this common.
_OWN_WORD = -9.0
# A message of at least MIN_WORDS words whose words are on average rarer than this is not English.
_THRESHOLD = -11.0
_MIN_WORDS = 4
_WORDS_FILE = "english_words.json"


def words_of(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]+", text.lower()) if len(w) >= 2]


def english_frequencies() -> dict[str, float]:
    table = resources.files("spacy_lookups_data") / "data" / "en_lexeme_prob.json.gz"
    with table.open("rb") as raw, gzip.open(raw) as unpacked:
        return {word: p for word, p in json.load(unpacked).items() if p >= _KEPT and word.isascii()}


def is_other_language(text: str, english: dict[str, float]) -> bool:
    letters = [c for c in text if c.isalpha()]
    if letters and sum(1 for c in letters if c.isascii()) / len(letters) < 0.5:
        return True  # mostly another script: Arabic, Cyrillic, Chinese...
    words = words_of(text)
    if len(words) < _MIN_WORDS:
        return False  # too short to tell; the classifier has examples of short ones
    return sum(english.get(w, _UNKNOWN) for w in words) / len(words) < _THRESHOLD


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LanguageGuard(GraphComponent):
    """Sets `use_other_language` for messages that are not in English (see the module docstring)."""

    def __init__(
        self, model_storage: ModelStorage, resource: Resource, english: dict[str, float] | None = None
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.english = english or {}

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
        english = english_frequencies()
        for example in training_data.intent_examples:
            if example.get(INTENT) != OTHER_LANGUAGE:
                for word in words_of(example.get(TEXT) or ""):
                    english[word] = max(english.get(word, _OWN_WORD), _OWN_WORD)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _WORDS_FILE).write_text(json.dumps(english, sort_keys=True), encoding="utf-8")
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
            english = json.loads((directory / _WORDS_FILE).read_text(encoding="utf-8"))
        return cls(model_storage, resource, english)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            found_in_words = (message.get(SAFETY_NET_KEY) or {}).get("reason") == Reason.WORDS
            if text and not found_in_words and is_other_language(text, self.english):
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != OTHER_LANGUAGE]
                top = {"name": OTHER_LANGUAGE, "confidence": 1.0}
                message.set(INTENT, top, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        return messages
