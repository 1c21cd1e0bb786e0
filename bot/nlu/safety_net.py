"""The safety net after the classifiers: danger, abuse imagery, extortion and seeking, by rule.

The rules and the signals they read are one table, bot/nlu/safety_net.yml (read by
bot/nlu/safety_rules.py); the spaCy pipeline marks the signals. This component runs after the
FallbackClassifier and applies the first rule that holds:

- a rule over the message's own words raises it to its route with full confidence, whatever the
  classifier or the fallback said (the classifier's guesses stay in the ranking, halved);
- the classifier's own danger guess stands; one the fallback classifier found too unsure stands
  when the message speaks of someone with, meeting or collecting a child, of a threat or of
  self-harm; otherwise it stays unclear, and the unclear reply shows the emergency number as
  its second message;
- only when the classifier itself is unsure of danger, and the message is a hypothetical, past
  or advice question, is the guess lowered: to the best other intent, never the fallback, and
  the reply then shows the emergency line as its second message (bot/nlg.py);
- the reply for people seeking abuse material or worried about their own thoughts goes only
  to someone who says so about themselves: a guess of it is lowered too when the message says
  the speaker is a parent, staff, a young person or another worried adult.

A self-harm signal, or the classifier's guess that self-harm is mentioned (even as a runner-up),
is noted as the entity `concern` whatever the route, so every later reply gives the crisis lines
too. What happened is kept in the parse data under
`safety_net`: the rule id, the `Reason` and the classifier's own best guess, so the tracker
shows why a message took its route.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.rule_component import RuleComponent
from bot.nlu.safety_rules import FALLBACK, SPANS_KEY, Guess, Route, Rule, Table, load_table

SAFETY_NET_KEY = "safety_net"
CONCERN_ENTITY = "concern"  # self-harm mentioned: the `concern` slot, for the crisis lines
AUDIENCE_ENTITY = "audience"  # who the message says is talking (bot/nlu/context_entities.py)


class Reason(StrEnum):
    """Why the safety net changed a message's intent (the `reason` in its parse data)."""

    WORDS = "words"  # a rule over the message's own words
    CLASSIFIER = "classifier"  # the classifier's own danger guess, confirmed
    LOWERED = "lowered"  # an unsure danger guess on a calm question, sent to the next intent


def reason_of(rule: Rule) -> Reason:
    if rule.route is Route.LOWER:
        return Reason.LOWERED
    return Reason.CLASSIFIER if rule.uses_classifier else Reason.WORDS


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(RuleComponent):
    """Routes messages by the safety table (see the module docstring)."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or load_table()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                continue
            if SPANS_KEY not in doc.spans:  # a net without its signals would miss danger silently
                raise RuntimeError("The spaCy pipeline has no safety signals: run `python -m bot build`.")
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK]
            speakers = [e.get("value") for e in message.get(ENTITIES, []) if e.get("entity") == AUDIENCE_ENTITY]
            fell_back = (message.get(INTENT) or {}).get("name") == FALLBACK
            guess = Guess.from_ranking(ranking, speakers[0] if speakers else None, fell_back)
            rule = self.table.decide(doc, guess)
            if rule is not None:
                _apply(message, rule, ranking, guess)
            for concern in sorted(self.table.concerns(doc, guess)):
                entity = {"entity": CONCERN_ENTITY, "value": concern, "extractor": type(self).__name__}
                message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages


def _apply(message: Message, rule: Rule, ranking: list[dict[str, Any]], guess: Guess) -> None:
    if rule.route is Route.LOWER:
        others = [r for r in ranking if r.get("name") not in rule.drops]
        if not others:  # a classifier always ranks several intents; nothing to lower to otherwise
            return
        message.set(INTENT, others[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, others, add_to_output=True)
    else:
        intent = rule.route.intent
        # The classifier's other guesses stay, halved, so nothing downstream sees a near tie.
        others = [
            {**r, "confidence": float(r.get("confidence") or 0.0) / 2} for r in ranking if r.get("name") != intent
        ]
        message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 1.0}, *others], add_to_output=True)
    verdict = {"rule": rule.id, "reason": reason_of(rule).value, "classifier": guess.intent}
    message.set(SAFETY_NET_KEY, verdict, add_to_output=True)
