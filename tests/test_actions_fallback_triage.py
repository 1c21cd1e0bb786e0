"""'Did you mean' offers the likeliest topics; 'start again' forgets the triage answers."""

from __future__ import annotations

from actions.fallback import ActionSuggestTopics, suggested_intents
from actions.triage import ActionResetTriage


def test_suggestions_follow_the_ranking_and_skip_topics_without_a_title():
    ranking = [
        {"name": "affirm", "confidence": 0.3},
        {"name": "ask_warning_signs", "confidence": 0.25},
        {"name": "report_worry", "confidence": 0.2},
        {"name": "ask_how_to_talk", "confidence": 0.15},
        {"name": "report_sextortion", "confidence": 0.1},
    ]
    offered = {
        "ask_warning_signs": "Signs",
        "report_worry": "Worried",
        "ask_how_to_talk": "Talk",
        "report_sextortion": "X",
    }

    assert suggested_intents(ranking, offered) == ["ask_warning_signs", "report_worry", "ask_how_to_talk"]


async def test_did_you_mean_sends_buttons_with_titles_from_content(dispatcher, tracker_for, domain):
    tracker = tracker_for("groomin sings?", "nlu_fallback")
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "ask_warning_signs", "confidence": 0.28},
        {"name": "greet", "confidence": 0.1},
    ]

    await ActionSuggestTopics().run(dispatcher, tracker, domain)

    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert message["buttons"] == [{"title": "Warning signs of grooming", "payload": "/ask_warning_signs"}]


async def test_nothing_to_suggest_sends_nothing(dispatcher, tracker_for, domain):
    await ActionSuggestTopics().run(dispatcher, tracker_for("zzz", "nlu_fallback"), domain)

    assert dispatcher.messages == []


async def test_start_again_clears_every_triage_answer(dispatcher, tracker_for, domain):
    tracker = tracker_for("start again", "start_again", {"triage_image_shared": True, "age_band": "7_to_10"})

    events = await ActionResetTriage().run(dispatcher, tracker, domain)

    assert {e["name"]: e["value"] for e in events} == {
        "triage_image_shared": None,
        "triage_threatened": None,
        "age_band": None,
        "requested_slot": None,
    }
    assert set(domain["slots"]) >= {"triage_image_shared", "triage_threatened", "age_band"}
