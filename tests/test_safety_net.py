"""The safety net's table, tested from the table itself: every rule fires on its examples and not
on its near misses, through the pipeline as Rasa runs it (Rasa's SpacyNLP, which lower-cases,
then the FallbackClassifier as config.yml sets it, then the net). Each test names the rule id
that fired, so a change that breaks another rule shows at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
import yaml
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.context_entities import ContextEntityExtractor
from bot.nlu.safety_net import SAFETY_NET_KEY, Reason, SafetyNet
from bot.nlu.safety_rules import DANGER, FALLBACK, TABLE_FILE, Case, Route, TableError, load_table, parse_table
from bot.settings import PROJECT_DIR
from bot.spacy_pipeline import PIPELINE_DIR, build_pipeline

TABLE = load_table()
DOMAIN_INTENTS = set(yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())["intents"])


def _fallback_config() -> dict:
    pipeline = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())["pipeline"]
    [settings] = [c for c in pipeline if c["name"] == "FallbackClassifier"]
    return {**FallbackClassifier.get_default_config(), **{k: v for k, v in settings.items() if k != "name"}}


@pytest.fixture(scope="module")
def nlu():
    """The pipeline's last steps as Rasa runs them, after a classifier that said `classifier`."""
    spacy_nlp = SpacyNLP(SpacyNLP.load_model(str(build_pipeline(PIPELINE_DIR))), SpacyNLP.get_default_config())
    fallback = FallbackClassifier(_fallback_config())
    net = SafetyNet()

    def parse(case: Case) -> Message:
        message = Message.build(text=case.text)
        spacy_nlp.process([message], spacy_nlp.provide())
        ranking = sorted(
            ({"name": n, "confidence": c} for n, c in case.classifier.items()), key=lambda r: -r["confidence"]
        )
        message.set("intent", ranking[0] if ranking else {"name": None, "confidence": 0.0})
        message.set("intent_ranking", ranking)
        ContextEntityExtractor().process([message])
        fallback.process([message])
        net.process([message])
        return message

    return parse


def fired(message: Message) -> str:
    return (message.get(SAFETY_NET_KEY) or {}).get("rule") or "none"


def _cases(kind: str) -> list:
    return [
        pytest.param(rule, case, id=f"{rule.id}: {case.text[:60]}")
        for rule in TABLE.rules
        for case in getattr(rule, kind)
    ]


@pytest.mark.parametrize(("rule", "case"), _cases("examples"))
def test_each_rule_fires_on_its_examples(nlu, rule, case):
    message = nlu(case)

    assert fired(message) == rule.id
    if rule.route is Route.LOWER:
        assert message.get("intent")["name"] not in {*rule.drops, FALLBACK}, "a lowered guess goes to the next intent"
    else:
        assert message.get("intent") == {"name": rule.route.intent, "confidence": 1.0}


@pytest.mark.parametrize(("rule", "case"), _cases("near_misses"))
def test_no_rule_fires_on_its_near_misses(nlu, rule, case):
    message = nlu(case)
    instead = next((r for r in TABLE.rules if r.id == fired(message)), None)

    if case.fires:
        assert fired(message) == case.fires
    else:
        assert fired(message) != rule.id
        assert instead is None or instead.route is not rule.route, f"{instead.id} fired instead"


def test_every_rule_has_examples_and_every_danger_rule_near_misses():
    for rule in TABLE.rules:
        assert rule.examples, rule.id
        if rule.route is Route.DANGER and not rule.uses_classifier:
            assert rule.near_misses, rule.id


def test_the_table_names_only_intents_of_the_domain():
    named = {i for rule in TABLE.rules for i in rule.unless_intent}
    named |= {i for rule in TABLE.rules for case in (*rule.examples, *rule.near_misses) for i in case.classifier}
    assert named <= DOMAIN_INTENTS
    assert {route.intent for route in Route if route.intent} <= DOMAIN_INTENTS


def test_near_misses_name_rules_that_exist():
    ids = {rule.id for rule in TABLE.rules} | {"none"}
    assert {case.fires for rule in TABLE.rules for case in rule.near_misses if case.fires} <= ids


def test_a_confident_danger_guess_is_never_lowered(nlu):
    """The review's examples: a word that sounds hypothetical or like advice does not overrule
    a classifier that is sure of danger."""
    for text in [
        "worst night ever, a man from snapchat is outside our house",
        "she's on her way to meet him, is it ok to call the police?",
        "how much longer do i wait, she went to meet him two hours ago and her phone is off",
    ]:
        message = nlu(Case(text, {DANGER: 0.93, "ask_how_to_talk": 0.03}))

        assert message.get("intent")["name"] == DANGER, text


def test_an_unsure_danger_guess_is_lowered_only_on_a_calm_question(nlu):
    calm = nlu(Case("what if she meets someone from a game", {DANGER: 0.5, "ask_how_to_talk": 0.3}))
    urgent = nlu(Case("she has met someone from a game", {DANGER: 0.5, "ask_how_to_talk": 0.3}))

    assert calm.get("intent")["name"] == "ask_how_to_talk"
    assert calm.get(SAFETY_NET_KEY)["reason"] == Reason.LOWERED
    assert urgent.get("intent")["name"] == DANGER
    assert urgent.get(SAFETY_NET_KEY)["reason"] == Reason.CLASSIFIER


def test_a_danger_guess_the_fallback_took_is_given_back_when_the_words_speak_of_danger(nlu):
    given_back = nlu(
        Case("hes gone and the man who messages him is picking him up", {DANGER: 0.2, "report_worry": 0.19})
    )
    left_unclear = nlu(Case("hes gone and i dont know where", {DANGER: 0.2, "report_worry": 0.19}))

    assert given_back.get("intent") == {"name": DANGER, "confidence": 1.0}
    assert FALLBACK not in [r["name"] for r in given_back.get("intent_ranking")]
    assert left_unclear.get("intent")["name"] == FALLBACK, "the unclear reply shows 999 second instead"


def test_every_unclear_message_shows_the_emergency_number_second():
    rules = yaml.safe_load((PROJECT_DIR / "data" / "rules" / "basics.yml").read_text())["rules"]
    [first] = [r for r in rules if r["steps"][0] == {"intent": "nlu_fallback"}]
    assert [s.get("action") for s in first["steps"][1:3]] == ["utter_fallback", "utter_emergency_reminder"]


def test_a_route_found_in_words_keeps_the_classifiers_guesses_halved(nlu):
    message = nlu(Case("my daughter is meeting a man from snapchat tonight", {"ask_how_to_talk": 0.4}))

    assert message.get("intent") == {"name": DANGER, "confidence": 1.0}
    assert message.get("intent_ranking") == [
        {"name": DANGER, "confidence": 1.0},
        {"name": "ask_how_to_talk", "confidence": 0.2},
    ]
    assert message.get(SAFETY_NET_KEY) == {"rule": "meeting_now", "reason": "words", "classifier": "ask_how_to_talk"}


def test_capitals_are_read_through_rasas_own_lower_casing(nlu):
    """No lower-casing pass of our own: Rasa's SpacyNLP lower-cases before spaCy sees the text."""
    shouted = nlu(Case("A MAN FROM SNAPCHAT IS ON HIS WAY TO OUR HOUSE", {"ask_about_apps": 0.6}))
    assert SpacyNLP.get_default_config()["case_sensitive"] is False
    assert fired(shouted) == "coming_to_the_child"


def test_phrases_are_tokenised_by_spacy_as_people_type_them(nlu):
    """ "it's" is two tokens to spaCy; a phrase split on spaces would never match it."""
    message = nlu(
        Case("a man messaged her but it's over now, how do i talk to her", {DANGER: 0.5, "ask_how_to_talk": 0.4})
    )

    assert fired(message) == "unsure_danger_guess_on_a_calm_question"


def _table(rules: str, signals: str) -> str:
    return f"unsure_below: 0.6\nrunner_up_from: 0.3\nnear_words: 6\nsignals: {signals}\nrules:\n{rules}\n"


@pytest.mark.parametrize(
    ("rules", "signals", "error"),
    [
        ("- {id: a, route: danger, needs: [soon]}", "{now: [now]}", "unknown signals"),
        (
            "- {id: a, route: danger, needs: [now]}\n- {id: a, route: danger, needs: [now]}",
            "{now: [now]}",
            "used twice",
        ),
        ("- {id: a, route: danger, needs: [now]}", "{now: [now, now]}", "listed twice"),
        ("- {id: a, route: danger, needs: [now]}", "{now: [now], later: [later]}", "no rule or note uses"),
        ("- {id: a, route: danger, needs: [now]}", "{now: [[{LOWER: {IN: [$when]}}]]}", "no list named"),
        ("- {id: a, route: sometime, needs: [now]}", "{now: [now]}", "sometime"),
    ],
)
def test_a_broken_table_is_refused_with_the_reason(rules, signals, error):
    with pytest.raises((TableError, ValueError), match=error):
        parse_table(_table(rules, signals))


def test_the_pipeline_is_rebuilt_when_the_table_changes(tmp_path: Path, monkeypatch):
    target = tmp_path / "pipeline"
    build_pipeline(target)
    changed = parse_table(
        TABLE_FILE.read_text().replace("    - right now\n", "    - right now\n    - this very minute\n")
    )
    monkeypatch.setattr("bot.spacy_pipeline.load_table", lambda: changed)

    build_pipeline(target)

    doc = spacy.load(target)("he is outside this very minute")
    assert ("now", "this very minute") in [(s.label_, s.text) for s in doc.spans["safety"]]


def _concerns(message: Message) -> list[str]:
    return [e["value"] for e in message.get("entities", []) if e["entity"] == "concern"]


@pytest.mark.parametrize(
    "text",
    [
        "she's talking about suicide since the pictures got out",
        "he says his family would be better off without him",
        "i found cuts on her arms",
    ],
)
def test_self_harm_mentioned_is_noted_for_the_rest_of_the_conversation(nlu, text):
    assert _concerns(nlu(Case(text, {"report_worry": 0.7}))) == ["self_harm"]


def test_self_harm_content_seen_on_a_feed_is_not_noted(nlu):
    text = "my daughter keeps getting shown self harm videos on her feed"
    assert _concerns(nlu(Case(text, {"report_harmful_content": 0.7, "mention_self_harm": 0.3}))) == []


@pytest.mark.parametrize(
    "text",
    ["what if she ever talks about suicide, what do i say", "she self-harmed two years ago, is she at more risk"],
)
def test_a_what_if_or_a_past_mention_is_noted_so_the_crisis_lines_follow(nlu, text):
    assert _concerns(nlu(Case(text, {"ask_what_to_say": 0.7}))) == ["self_harm"]


def test_the_classifiers_runner_up_guess_of_self_harm_is_noted(nlu):
    text = "the pic went round my whole year and honestly i just want to vanish"
    assert _concerns(nlu(Case(text, {"report_shared_image": 0.5, "mention_self_harm": 0.35}))) == ["self_harm"]
    assert _concerns(nlu(Case(text, {"report_shared_image": 0.8, "mention_self_harm": 0.1}))) == []
