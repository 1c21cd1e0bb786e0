"""The safety net's table (bot/nlu/safety_net.yml): its signals as spaCy patterns, its rules in order.

The signals become the patterns of a `SpanRuler` in the project's spaCy pipeline
(bot/spacy_pipeline.py), so every message arrives with `doc.spans["safety"]`. `Table.decide`
takes those spans and what the classifier said, and returns the first rule that holds. The
file's header explains its fields; this module only reads it, checks it and applies it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from spacy.tokens import Doc

TABLE_FILE = Path(__file__).with_name("safety_net.yml")
SPANS_KEY = "safety"
DANGER = "report_danger"
FALLBACK = "nlu_fallback"
# The replies meant only for someone who says so about themselves: seeking, or their own thoughts.
SELF_CONCERN_INTENTS = frozenset({"request_abuse_material", "report_own_thoughts"})
SELF_CONCERN_SPEAKER = "self_concern"
SELF_HARM_INTENT = "mention_self_harm"
_LIST_REFERENCE = re.compile(r"^\$([a-z_]+)$")
_CLAUSE_STARTS = {"and", "but", "so", "then", ",", ".", ";", "!", "?"}


class Route(StrEnum):
    DANGER = "danger"
    IMAGERY = "imagery"
    EXTORTION = "extortion"
    SEEKING = "seeking"
    LOWER = "lower"  # an unsure danger guess goes to the best other intent

    @property
    def intent(self) -> str | None:
        return _ROUTE_INTENTS.get(self)


_ROUTE_INTENTS = {
    Route.DANGER: DANGER,
    Route.IMAGERY: "report_imagery",
    Route.EXTORTION: "report_sextortion",
    Route.SEEKING: "request_abuse_material",
}


class ClassifierSignal(StrEnum):
    """What a rule may ask of the classifier's guess, beside the words of the message."""

    DANGER = "classifier_danger"
    UNSURE = "classifier_unsure"
    RUNNER_UP = "danger_runner_up"
    SELF_CONCERN = "classifier_self_concern"  # the guess is the reply for seekers or own thoughts
    SELF_HARM = "classifier_self_harm"  # the guess, at least `unsure_below` sure, is that self-harm is mentioned
    FELL_BACK = "classifier_fell_back"  # the fallback classifier found the guess too unsure
    OTHER_SPEAKER = "speaks_as_another"  # the message says who is talking: a parent, staff, a young person...


class TableError(ValueError):
    """bot/nlu/safety_net.yml breaks the rules in its header."""


@dataclass(frozen=True)
class Guess:
    """The classifier's view of a message: its best intent (never the fallback) and danger's share."""

    intent: str | None = None
    confidence: float = 0.0
    danger: float = 0.0
    speaker: str | None = None  # who the message says is talking (the `audience` entity), if anyone
    fell_back: bool = False  # the fallback classifier found the classifier too unsure
    shares: Mapping[str, float] = field(default_factory=dict)  # every intent's confidence

    @classmethod
    def from_ranking(
        cls, ranking: Iterable[Mapping[str, Any]], speaker: str | None = None, fell_back: bool = False
    ) -> Guess:
        ranked = sorted(
            ((str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking if r.get("name") != FALLBACK),
            key=lambda nc: -nc[1],
        )
        if not ranked:
            return cls(speaker=speaker, fell_back=fell_back)
        danger = max((c for n, c in ranked if n == DANGER), default=0.0)
        return cls(
            intent=ranked[0][0],
            confidence=ranked[0][1],
            danger=danger,
            speaker=speaker,
            fell_back=fell_back,
            shares=dict(ranked),
        )


@dataclass(frozen=True)
class Case:
    """A message of a rule's `examples` or `near_misses`, with what the classifier said of it."""

    text: str
    classifier: Mapping[str, float] = field(default_factory=dict)
    fires: str | None = None  # for a near miss: the rule it fires instead ("none": no rule)


@dataclass(frozen=True)
class Rule:
    id: str
    route: Route
    needs: tuple[str, ...]  # in the file's order: `near` and `except_with` look from the first
    needs_any: frozenset[str]
    blocked_by: frozenset[str]
    except_with: frozenset[str]
    never_with: frozenset[str]
    near: tuple[str, str] | None
    unless_intent: frozenset[str]
    drops: frozenset[str]  # for `lower`: the intents taken away
    examples: tuple[Case, ...]
    near_misses: tuple[Case, ...]

    @property
    def uses_classifier(self) -> bool:
        return bool({s.value for s in ClassifierSignal} & {*self.needs, *self.needs_any})


@dataclass(frozen=True)
class Note:
    concern: str
    unless: frozenset[str] = frozenset()  # signals that mean the message is about something else


@dataclass(frozen=True)
class Table:
    signals: Mapping[str, tuple[Any, ...]]  # name -> spaCy patterns, lists expanded
    rules: tuple[Rule, ...]
    unsure_below: float
    runner_up_from: float
    near_words: int
    notes: Mapping[str, Note]  # signal -> the `concern` entity it is noted as, and what stops that
    # intent -> the same, when the classifier gives the intent at least `runner_up_from`
    classifier_notes: Mapping[str, Note]
    digest: str  # of the file: the spaCy pipeline is rebuilt when it changes

    def span_patterns(self, tokenizer: Callable[[str], Doc]) -> list[dict[str, Any]]:
        """The SpanRuler's token patterns, one per pattern of every signal. A phrase is split
        into words by spaCy's own `tokenizer`, so "it's" becomes "it" + "'s" as in a message."""
        return [
            {"label": name, "pattern": [{"LOWER": t.lower_} for t in tokenizer(p)] if isinstance(p, str) else p}
            for name, patterns in self.signals.items()
            for p in patterns
        ]

    def concerns(self, doc: Doc, guess: Guess) -> set[str]:
        """What the message says that later replies should know of: `notes` and `classifier_notes`
        in the file. The classifier's share counts even as a runner-up: "the pic went round my
        year and i wanna unalive myself" is about the picture first, and needs the crisis lines."""
        labels = {span.label_ for span in doc.spans.get(SPANS_KEY, ())}
        noted = [note for signal, note in self.notes.items() if signal in labels]
        noted += [
            note
            for intent, note in self.classifier_notes.items()
            if guess.shares.get(intent, 0.0) >= self.runner_up_from
        ]
        return {note.concern for note in noted if not note.unless & labels}

    def decide(self, doc: Doc, guess: Guess) -> Rule | None:
        """The first rule that holds for `doc` and the classifier's `guess`, or None."""
        spans: dict[str, list[tuple[int, int]]] = {}
        for span in doc.spans.get(SPANS_KEY, ()):
            spans.setdefault(span.label_, []).append((span.start, span.end))
        present = set(spans)
        if guess.intent == DANGER:
            present.add(ClassifierSignal.DANGER)
            if guess.confidence < self.unsure_below:
                present.add(ClassifierSignal.UNSURE)
        elif guess.danger >= self.runner_up_from:
            present.add(ClassifierSignal.RUNNER_UP)
        if guess.intent in SELF_CONCERN_INTENTS:
            present.add(ClassifierSignal.SELF_CONCERN)
        if guess.intent == SELF_HARM_INTENT and guess.confidence >= self.unsure_below:
            present.add(ClassifierSignal.SELF_HARM)  # a guess sure enough to raise to danger
        if guess.fell_back:
            present.add(ClassifierSignal.FELL_BACK)
        if guess.speaker and guess.speaker != SELF_CONCERN_SPEAKER:
            present.add(ClassifierSignal.OTHER_SPEAKER)
        for rule in self.rules:
            if not set(rule.needs) <= present or (rule.needs_any and not rule.needs_any & present):
                continue
            if rule.never_with & present:
                continue
            if rule.blocked_by & present and not self._excepted(doc, rule, spans):
                continue
            if guess.intent in rule.unless_intent:
                continue
            if rule.near and not self._near(doc, spans[rule.near[0]], spans.get(rule.near[1], [])):
                continue
            return rule
        return None

    def _excepted(self, doc: Doc, rule: Rule, spans: Mapping[str, list[tuple[int, int]]]) -> bool:
        """Whether a block is lifted: "the man from last year is outside our house now"."""
        events = [span for signal in rule.needs for span in spans.get(signal, [])]
        return any(self._near(doc, events, spans.get(signal, [])) for signal in rule.except_with)

    def _near(self, doc: Doc, events: list[tuple[int, int]], times: list[tuple[int, int]]) -> bool:
        """Whether a time ("now") is about an event: a few words away, and not the start of a
        later part of the story ("... on cam with him, and now they keep messaging me")."""
        for event in events:
            for time in times:
                if max(time[0] - event[1], event[0] - time[1]) > self.near_words:
                    continue
                starts_a_clause = time[0] > 0 and doc[time[0] - 1].lower_ in _CLAUSE_STARTS
                if not (time[0] >= event[1] and starts_a_clause):
                    return True
        return False


def _expand(value: Any, lists: Mapping[str, list[str]], where: str) -> Any:
    """A pattern with every `$name` in an IN or NOT_IN list replaced by that list's words."""
    if isinstance(value, dict):
        return {key: _expand(inner, lists, where) for key, inner in value.items()}
    if isinstance(value, list):
        out: list[Any] = []
        for inner in value:
            match = _LIST_REFERENCE.match(inner) if isinstance(inner, str) else None
            if match and match.group(1) not in lists:
                raise TableError(f"{where}: no list named {match.group(1)}")
            out.extend(lists[match.group(1)] if match else [_expand(inner, lists, where)])
        return out
    return value


def _case(raw: Any, where: str) -> Case:
    if isinstance(raw, str):
        return Case(raw)
    if not isinstance(raw, dict) or "text" not in raw:
        raise TableError(f"{where}: a case is a text or a mapping with text, classifier, fires")
    classifier = {str(k): float(v) for k, v in (raw.get("classifier") or {}).items()}
    return Case(str(raw["text"]), classifier, raw.get("fires"))


def _names(raw: Any) -> frozenset[str]:
    return frozenset(str(name) for name in raw or ())


def _rule(raw: dict[str, Any], signals: set[str]) -> Rule:
    where = f"rule {raw.get('id')}"
    near = tuple(raw["near"]) if raw.get("near") else None
    rule = Rule(
        id=str(raw["id"]),
        route=Route(raw["route"]),
        needs=tuple(str(name) for name in raw.get("needs") or ()),
        needs_any=_names(raw.get("needs_any")),
        blocked_by=_names(raw.get("blocked_by")),
        except_with=_names(raw.get("except_with")),
        never_with=_names(raw.get("never_with")),
        near=(str(near[0]), str(near[1])) if near else None,
        unless_intent=_names(raw.get("unless_intent")),
        drops=_names(raw.get("drops")) or frozenset({DANGER}),
        examples=tuple(_case(c, where) for c in raw.get("examples") or ()),
        near_misses=tuple(_case(c, where) for c in raw.get("near_misses") or ()),
    )
    known = signals | {s.value for s in ClassifierSignal}
    named = {*rule.needs} | rule.needs_any | rule.blocked_by | rule.except_with | rule.never_with | set(near or ())
    if unknown := sorted(named - known):
        raise TableError(f"{where}: unknown signals {unknown}")
    if near and near[0] not in rule.needs:
        raise TableError(f"{where}: `near` starts from a signal the rule needs")
    if not rule.needs and not rule.needs_any:
        raise TableError(f"{where}: a rule needs at least one signal")
    return rule


def _note(raw: Any) -> Note:
    """`signal: concern`, or `signal: {note: concern, unless: [signals]}`."""
    if isinstance(raw, dict):
        return Note(str(raw["note"]), _names(raw.get("unless")))
    return Note(str(raw))


def parse_table(text: str) -> Table:
    raw = yaml.safe_load(text)
    lists = {str(k): [str(w) for w in v] for k, v in (raw.get("lists") or {}).items()}
    signals: dict[str, tuple[Any, ...]] = {}
    for name, patterns in raw["signals"].items():
        phrases = [p for p in patterns if isinstance(p, str)]
        if duplicates := sorted({p for p in phrases if phrases.count(p) > 1}):
            raise TableError(f"signal {name}: phrases listed twice: {duplicates}")
        signals[str(name)] = tuple(_expand(p, lists, f"signal {name}") for p in patterns)
    rules = tuple(_rule(r, set(signals)) for r in raw["rules"])
    ids = [r.id for r in rules]
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise TableError(f"rule ids used twice: {duplicates}")
    notes = {str(k): _note(v) for k, v in (raw.get("notes") or {}).items()}
    classifier_notes = {str(k): _note(v) for k, v in (raw.get("classifier_notes") or {}).items()}
    unless = {s for n in (*notes.values(), *classifier_notes.values()) for s in n.unless}
    if unknown_notes := sorted({*notes, *unless} - set(signals)):
        raise TableError(f"notes name unknown signals: {unknown_notes}")
    used = {name for r in rules for name in {*r.needs} | r.needs_any | r.blocked_by | r.except_with | r.never_with}
    if unused := sorted(set(signals) - used - set(notes)):  # a signal may only be noted
        raise TableError(f"signals no rule or note uses: {unused}")
    return Table(
        signals=signals,
        rules=rules,
        unsure_below=float(raw["unsure_below"]),
        runner_up_from=float(raw["runner_up_from"]),
        near_words=int(raw["near_words"]),
        notes=notes,
        classifier_notes=classifier_notes,
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


@cache
def load_table(path: Path = TABLE_FILE) -> Table:
    return parse_table(path.read_text(encoding="utf-8"))
