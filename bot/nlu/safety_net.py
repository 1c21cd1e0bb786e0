"""A rule-based safety net behind the intent classifier: danger is never missed.

It reads the spaCy doc of each message with `Matcher`s built from `bot.nlu.safety_patterns`
and, when it recognises immediate danger, abuse imagery seen online or sexual extortion, sets
the intent to that route with full confidence, whatever the classifier thought (the
classifier's guess stays in the ranking). When the classifier itself predicts danger, the
confidence is raised too, so the fallback classifier never turns a danger message into
"sorry, I didn't understand"; only a message that is plainly hypothetical or about the past
("what if she ever meets someone", "two years ago") or an everyday advice question ("is FaceTime
safe?") loses a danger guess that no pattern backs, and so does a guess with no danger words at
all. The other way round, a runner-up danger guess wins when the message has danger words.
"""

from __future__ import annotations

from dataclasses import dataclass

import spacy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from bot.nlu import RuleComponent
from bot.nlu import safety_patterns as patterns
from bot.spacy_pipeline import PIPELINE_DIR

DANGER, IMAGERY, EXTORTION = "report_danger", "report_imagery", "report_sextortion"
SEEKING = "request_abuse_material"
NOT_DANGER = ""  # a verdict that takes the danger route away from a classifier's guess
CLOSE_DANGER_CONFIDENCE = 0.3  # a runner-up danger guess this likely, with danger words, is taken
NOW_DISTANCE = 6  # at most this many words between a happening word and its "now"
_POSSESSIVE_ENDINGS = ("'s", "\u2019s")
_CLAUSE_STARTS = {"and", "but", "so", "then", ",", ".", ";", "!", "?"}
# Intents whose guidance already fits a message that also has imagery or extortion words:
# a child telling their own story, an adult worried about someone's viewing, someone seeking
# material (refused, with the report route); and for extortion, a parent asking how to talk about it.
_KEEPS_IMAGERY = {"request_abuse_material", "report_adult_behaviour", "report_own_thoughts", "disclose_as_child",
                  DANGER, EXTORTION}  # fmt: skip
_KEEPS_SEEKING = {DANGER, "disclose_as_child", "report_adult_behaviour"}
_KEEPS_EXTORTION = {"disclose_as_child", DANGER, "request_abuse_material", "ask_how_to_talk"}


@dataclass(frozen=True)
class Verdict:
    intent: str
    reason: str


class SafetyMatchers:
    """The compiled patterns for one spaCy vocabulary."""

    def __init__(self, vocab: Vocab) -> None:
        self.markers = PhraseMatcher(vocab, attr="LOWER")
        for label, phrases in patterns.PHRASE_MARKERS.items():
            self.markers.add(label, [Doc(vocab, words=phrase.split()) for phrase in phrases])
        self.events = Matcher(vocab)
        for label, token_patterns in patterns.SIGNALS.items():
            self.events.add(label, token_patterns)

    def has_danger_words(self, doc: Doc, words: set[str] = patterns.DANGER_WORDS) -> bool:
        """Any of `words` or any danger family at all, present or not, hypothetical or not."""
        if any(t.lemma_.lower() in words or t.lower_ in words for t in doc):
            return True
        families = {label for label, _, _ in self._events(doc)}
        lowered = Doc(doc.vocab, words=[t.lower_ for t in doc])
        if "CONTACT" not in families or any(  # "meeting her school friends", "meeting him in the game"
            doc.vocab.strings[label] == "VIRTUAL" for label, _, _ in self.markers(lowered)
        ):
            families -= patterns.NEEDS_CONTACT
        if "PERSON_CONTACT" not in families:
            families -= patterns.NEEDS_PERSON
        return bool(families & {*patterns.STRONG_DANGER, *patterns.HAPPENING})

    def _events(self, doc: Doc) -> list[tuple[str, int, int]]:
        """Event matches, less those that end where a possessive goes on ("a stranger has my son's
        nudes" is not "a stranger has my son")."""
        return [
            (doc.vocab.strings[label], start, end)
            for label, start, end in self.events(doc)
            if end >= len(doc) or doc[end].lower_ not in _POSSESSIVE_ENDINGS
        ]

    def assess(self, doc: Doc, predicted: str | None = None) -> Verdict | None:
        """The route `doc` must take, or None to leave the classifier's intent alone."""
        lowered = Doc(doc.vocab, words=[t.lower_ for t in doc])  # the phrase markers ignore case
        marker_spans = [(doc.vocab.strings[label], start, end) for label, start, end in self.markers(lowered)]
        markers = {label for label, _, _ in marker_spans}
        event_spans = self._events(doc)
        found = {label for label, _, _ in event_spans}
        hypothetical, now = "HYPOTHETICAL" in markers or "PAST" in found, "NOW" in markers
        strong = sorted(found & set(patterns.STRONG_DANGER))
        if strong and (now or not hypothetical):  # "the man from last year is outside now" still counts
            return Verdict(DANGER, strong[0])
        # A happening word counts only with its own "now" close by: in "she met him online and
        # now they want money" the meeting is the past and the "now" belongs to the threat.
        nows = [(start, end) for label, start, end in marker_spans if label == "NOW"]
        happening = sorted(
            {
                label
                for label, start, end in event_spans
                if label in patterns.HAPPENING and any(_now_belongs_to(doc, (start, end), now) for now in nows)
            }
        )
        if "CONTACT" not in found:  # "meeting her school friends tonight", "I pick her up today"
            happening = [label for label in happening if label not in patterns.NEEDS_CONTACT]
        if "PERSON_CONTACT" not in found:  # "on FaceTime with her nan right now"
            happening = [label for label in happening if label not in patterns.NEEDS_PERSON]
        if "VIRTUAL" in markers:  # "meeting his online mate tonight, in the game"
            happening = [label for label in happening if label != "meeting"]
        # A calm question about something happening now ("she's on FaceTime with her cousin right
        # now, is FaceTime safe?", "how do I talk to her") is advice, unless it speaks of abuse.
        advice = "ADVICE" in (markers | found) and "being_abused" not in found
        if happening and not hypothetical and not advice:
            return Verdict(DANGER, f"{happening[0]}_now")
        if {"on_camera", "being_abused"} <= found and not hypothetical:  # "a live stream where a child is being abused"
            return Verdict(DANGER, "abuse_on_camera")
        if predicted == DANGER and hypothetical:
            return Verdict(NOT_DANGER, "hypothetical_or_past")
        if predicted == DANGER and advice:
            return Verdict(NOT_DANGER, "advice_question")
        seeking_material = {"IMAGERY_TERMS", "SEEKING_VERBS"} <= found and "REPORTING" not in found
        if (seeking_material or "SEEKING" in found) and predicted not in _KEEPS_SEEKING:
            return Verdict(SEEKING, "seeking")
        if {"IMAGERY_TERMS", "IMAGERY_SEEN"} <= found and predicted not in _KEEPS_IMAGERY:
            return Verdict(IMAGERY, "imagery_seen")
        extortion = "EXTORTION" in found or {"MONEY_DEMAND", "IMAGES"} <= found
        keeps = _KEEPS_EXTORTION - ({"disclose_as_child"} if "ADULT_SPEAKING" in found else set())
        if extortion and predicted not in keeps:  # "my son" is not a child telling their own story
            return Verdict(EXTORTION, "extortion")
        return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(RuleComponent):
    """Overrides the intent when the safety patterns fire (see the module docstring)."""

    def __init__(self) -> None:
        self._matchers: dict[int, SafetyMatchers] = {}
        self._nlp: Language | None = None

    def _for(self, vocab: Vocab) -> SafetyMatchers:
        if id(vocab) not in self._matchers:
            self._matchers[id(vocab)] = SafetyMatchers(vocab)
        return self._matchers[id(vocab)]

    def _lower_case_doc(self, message: Message) -> Doc | None:
        """The message again in lower case: the lookup lemmatizer knows "making", not "MAKING", and
        a frightened parent may type in capitals."""
        doc = message.get(SPACY_DOCS[TEXT])
        if doc is None or doc.text == doc.text.lower():
            return doc
        if self._nlp is None:
            self._nlp = spacy.load(PIPELINE_DIR)
        return self._nlp(doc.text.lower())

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            doc = self._lower_case_doc(message)
            if doc is None:
                continue
            guess = message.get(INTENT) or {}
            predicted = guess.get("name")
            verdict = self._for(doc.vocab).assess(doc, predicted)
            if verdict is None and predicted != DANGER and self._danger_is_close(message, doc):
                # "A bloke is picking him up from the park at 9": when the classifier hesitates
                # between danger and another topic, and the message has danger words, danger wins.
                verdict = Verdict(DANGER, "classifier_close")
            if verdict is None and predicted == DANGER:
                # The classifier alone has learnt that "right now" sounds urgent: its guess stands
                # only with a danger word ("is voice chat OK while he's on Fortnite right now?" has
                # none, and goes to the next best intent).
                has_words = self._for(doc.vocab).has_danger_words(doc)
                verdict = Verdict(DANGER, "classifier") if has_words else Verdict(NOT_DANGER, "no_danger_words")
            if verdict is not None:
                _route(message, verdict)
        return messages

    def _danger_is_close(self, message: Message, doc: Doc) -> bool:
        ranking = message.get(INTENT_RANKING_KEY) or []
        danger = max((float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == DANGER), default=0.0)
        if danger < CLOSE_DANGER_CONFIDENCE or not self._for(doc.vocab).has_danger_words(doc, patterns.SITUATION_WORDS):
            return False
        return self._for(doc.vocab).assess(doc, DANGER) is None  # not hypothetical, not an advice question


def _now_belongs_to(doc: Doc, event: tuple[int, int], now: tuple[int, int]) -> bool:
    """Whether a "now" marker is about the event: a few words away, and not the start of a
    later part of the story ("... on cam with him, and now they keep messaging me")."""
    if max(now[0] - event[1], event[0] - now[1]) > NOW_DISTANCE:
        return False
    starts_a_clause = now[0] > 0 and doc[now[0] - 1].lower_ in _CLAUSE_STARTS
    return not (now[0] >= event[1] and starts_a_clause)


def _route(message: Message, verdict: Verdict) -> None:
    dropped = (DANGER,) if verdict.intent == NOT_DANGER else (verdict.intent,)
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in dropped]
    if verdict.intent == NOT_DANGER:
        # "What if she ever meets someone?": the classifier's best guess that is not danger.
        top = ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 0.0}
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    else:
        # The classifier's guesses stay in the ranking, halved, so that the fallback classifier
        # never sees two near-equal intents and turns the route into "I didn't understand".
        ranking = [{**r, "confidence": float(r.get("confidence") or 0.0) / 2} for r in ranking]
        message.set(INTENT, {"name": verdict.intent, "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [{"name": verdict.intent, "confidence": 1.0}, *ranking], add_to_output=True)
    message.set("safety_net", verdict.reason, add_to_output=True)
