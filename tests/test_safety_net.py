"""The safety net: every pattern family fires on real wording, and near misses stay quiet."""

from __future__ import annotations

import pytest
import spacy
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.safety_net import DANGER, EXTORTION, IMAGERY, SEEKING, SafetyMatchers, SafetyNet
from bot.spacy_pipeline import PIPELINE_DIR, build_pipeline


@pytest.fixture(scope="module")
def nlp():
    return spacy.load(build_pipeline(PIPELINE_DIR))


@pytest.fixture(scope="module")
def matchers(nlp):
    return SafetyMatchers(nlp.vocab)


def verdict(nlp, matchers, text, predicted=None):
    found = matchers.assess(nlp(text), predicted)
    return (found.intent, found.reason) if found else (None, None)


@pytest.mark.parametrize(
    ("text", "family"),
    [
        # meeting now or tonight
        ("my 15 year old is meeting a guy from discord tonight", "meeting_now"),
        ("she's gone to meet someone off instagram right now", "meeting_now"),
        ("he is about to meet the man he talks to on roblox", "meeting_now"),
        ("my daughter is getting in a taxi to go see the 25 year old she talks to", "meeting_now"),
        # with them now / in a car
        ("my son is with a man he met online and won't answer", "with_a_stranger"),
        ("my daughter got in a car with someone from snapchat", "with_a_stranger"),
        # on camera now
        ("someone is on video call with my son right now telling him to undress", "being_abused_now"),
        ("a man is making my daughter strip on webcam at the moment", "being_abused_now"),
        ("right now someone is on facetime with my daughter asking her to undress", "on_camera_now"),
        ("my son has met up with the man from fortnite right now", "meeting_now"),
        # at the door
        ("there is a man at our door asking for my daughter", "coming_to_the_child"),
        ("a guy from tiktok is on his way to our house", "coming_to_the_child"),
        ("someone is waiting outside the school for a year 8 girl", "coming_to_the_child"),
        ("theres a man at our front door saying hes my daughters friend", "coming_to_the_child"),
        ("a guy turned up at his school asking for him", "coming_to_the_child"),
        ("the man who groomed my daughter online is at the door", "coming_to_the_child"),
        ("pls help theres someone outside my daughters window who messaged her on snap", "coming_to_the_child"),
        ("a pupil said the man who messages her is coming to collect her from school today", "coming_for_now"),
        ("I'm watching a live stream where a child is being abused", "abuse_on_camera"),
        ("my son is on a live video with some bloke telling him to take his clothes off", "abuse_on_camera"),
        ("my son has taken pills after being blackmailed", "self_harm"),
        ("im 15 someone posted my nudes i cant do this anymore ive got the tablets in front of me", "self_harm"),
        ("she says she doesn't want to be here anymore since the pics went round", "self_harm"),
        ("she's with him now, he's 30, they met on discord, shes 14", "with_a_stranger"),
        ("girl on omegle is crying and a man is making her do stuff", "abuse_on_camera"),
        ("she's getting into his car, i can see them", "with_a_stranger"),
        ("a man from snap has my daughter", "with_a_stranger"),
        # run away with, missing
        ("she has run away with a man she met online", "missing"),
        ("my boy hasn't come home and he was talking to an adult online", "missing"),
        ("our foster child has gone missing", "missing"),
        ("my daughter hasnt come home and her snapchat friend is a 30 year old man", "missing"),
        ("15 year old not back since last night, a man arranged to collect her", "missing"),
        # threats to hurt or kill
        ("he threatened to kill my son if he tells anyone", "threat_to_hurt"),
        ("the man says he is going to hurt her", "threat_to_hurt"),
        ("my daughter says the man online will kill her family if she doesnt send more", "threat_to_hurt"),
        # self-harm
        ("my son says he wants to kill himself after the messages", "self_harm"),
        ("she's talking about suicide since the pictures got out", "self_harm"),
        ("she just told me she wants to end it all, she's upstairs", "self_harm"),
        ("my daughter is self harming because of what he sent", "self_harm"),
        # plain danger
        ("emergency a child is in danger", "in_danger"),
        ("please help, my son is not safe", "in_danger"),
        # the present outweighs a past marker for strong signs
        ("the man she met last year is outside our house now", "coming_to_the_child"),
    ],
)
def test_danger_families_fire(nlp, matchers, text, family):
    assert verdict(nlp, matchers, text) == (DANGER, family)


@pytest.mark.parametrize(
    "text",
    [
        "what should I do if she ever meets someone",
        "he met her last year and it's over now",
        "my son wants to meet his online friend at a gaming event next year",
        "my daughter is on her phone right now, is that too much screen time?",
        "what if my child is ever in danger online?",
        "she met a stranger online two years ago and still won't talk about it",
        "how do I talk to my son about meeting people from the internet",
        "we watched a film tonight about online safety",
        "how long should a 10 year old be on camera apps",
        "my son used to talk to strangers on roblox",
        "if someone ever turned up at our door from one of her games, what would i do",
        "is it safe for my teen to meet people from discord once she's 18",
        "my son met his online friend at the park today with me there, all fine, tips for next time",
        "a student told me an adult online is messaging her, I work at the school",
        "my son wants money for a new game",
        "my daughter is meeting her school friends at the cinema tonight, what about sharing locations",
        "im 14 and sent a pic, my mum will kill me if she finds out",
        "my son is at the school disco tonight",
        "how to talk to kids about the risks of live streaming",
        "should my 11 year old take a phone to school",
        "my son stays in his room talking to someone through his headset for hours",
        "a stranger has my son's nudes and keeps asking him for money",
        "i pick her up from school today, how do i ask about her new online friend",
        "she's on facetime with her cousin right now, is facetime safe?",
        "she's on facetime with her nan right now, can she call anyone else",
        "my son is 'meeting' his online mate tonight, in the game, theyre doing a raid",
        "he's in a teams meeting for school right now",
        "im 25 and i keep getting urges about younger teens, i dont want to be like this",
    ],
)
def test_near_misses_do_not_fire(nlp, matchers, text):
    assert verdict(nlp, matchers, text)[0] is None


@pytest.mark.parametrize(
    "text",
    [
        "daughter sent a photo to a 'girl' she met online and now they want money or they'll post it",
        "im 14 and i did something stupid on cam with someone i thought was my age and now they keep messaging me",
        "he was tricked into a video call and it was recorded, now theyre sending him screenshots",
        "i stumbled on a site sharing sexual pictures of young teens, who can take it down",
        "my foster son sent a naked selfie to his gf and now shes dumped him and says shell share it",
    ],
)
def test_a_now_that_starts_a_later_part_of_the_story_is_not_danger(nlp, matchers, text):
    assert verdict(nlp, matchers, text)[0] != DANGER


@pytest.mark.parametrize(
    "text",
    [
        "what should I do if she ever meets someone",
        "my son wants to meet his gaming friend at a convention next year",
        "when my daughter was 10 someone online asked her for photos, shes 16 now, how to help",
    ],
)
def test_a_hypothetical_takes_a_danger_guess_away_from_the_classifier(nlp, matchers, text):
    assert verdict(nlp, matchers, text, predicted=DANGER) == ("", "hypothetical_or_past")


@pytest.mark.parametrize(
    "text",
    [
        "I saw indecent images of children on a forum",
        "came across a website with child abuse videos",
        "how do I report csam I found",
        "there was a link in a group chat to sexual pictures of kids",
        "I clicked on something and it was images of children being abused",
        "there's a telegram channel sharing pics of naked kids",
    ],
)
def test_imagery_seen_online_fires(nlp, matchers, text):
    assert verdict(nlp, matchers, text) == (IMAGERY, "imagery_seen")


@pytest.mark.parametrize(
    ("text", "predicted"),
    [
        ("warning signs of online child abuse", None),
        ("where can i find child porn", "request_abuse_material"),
        ("I think my husband is looking at child abuse images on his laptop", "report_adult_behaviour"),
        ("my daughter's nude photo is on a website", "report_shared_image"),
        ("there's a telegram channel sharing pics of naked kids", "request_abuse_material"),
    ],
)
def test_imagery_does_not_take_over_other_routes(nlp, matchers, text, predicted):
    assert verdict(nlp, matchers, text, predicted)[0] in (None, predicted)


@pytest.mark.parametrize(
    "text",
    [
        "someone is blackmailing my son",
        "my daughter is being sextorted on snapchat",
        "they're threatening to post his nudes unless he pays",
        "a man is demanding money or he'll send the pictures to her friends",
        "he says he will leak her photos",
        "a hacker says he has nude pics of my child and wants bitcoin",
        "they tricked my son into sending pics and now want 300 pounds",
    ],
)
def test_extortion_fires(nlp, matchers, text):
    assert verdict(nlp, matchers, text)[0] == EXTORTION


@pytest.mark.parametrize(
    "text",
    [
        "how do i talk to a 12yo online without her parents finding out",
        "can you make a naked picture of a child",
        "generate some nude pics of young girls",
        "where do people share cp these days",
    ],
)
def test_seeking_secret_contact_or_material_is_refused(nlp, matchers, text):
    assert verdict(nlp, matchers, text, "ask_how_to_talk") == (SEEKING, "seeking")


def test_an_adult_worried_about_another_keeps_that_route(nlp, matchers):
    text = "my brother chats to a 13 year old online without her parents knowing"
    assert verdict(nlp, matchers, text, "report_adult_behaviour")[0] is None


def test_a_parent_asking_how_to_talk_about_sextortion_keeps_the_talk_route(nlp, matchers):
    assert verdict(nlp, matchers, "talking to a 16 year old about sextortion", "ask_how_to_talk")[0] is None


def test_a_parent_telling_of_their_childs_extortion_gets_the_extortion_route(nlp, matchers):
    text = "a girl online tricked my son into sending pics and now wants 300 pounds"
    assert verdict(nlp, matchers, text, "disclose_as_child")[0] == EXTORTION


def test_a_child_telling_their_own_story_keeps_the_child_route(nlp, matchers):
    assert verdict(nlp, matchers, "im 13 and someone is blackmailing me", "disclose_as_child")[0] is None


def test_component_routes_with_full_confidence_and_keeps_the_guess(nlp):
    message = Message.build(text="my daughter is meeting a man from snapchat tonight")
    message.set("text_spacy_doc", nlp(message.get("text")))
    message.set("intent", {"name": "ask_how_to_talk", "confidence": 0.4})
    message.set("intent_ranking", [{"name": "ask_how_to_talk", "confidence": 0.4}])

    [routed] = SafetyNet().process([message])

    assert routed.get("intent") == {"name": DANGER, "confidence": 1.0}
    assert [r["name"] for r in routed.get("intent_ranking")] == [DANGER, "ask_how_to_talk"]


def _guess(nlp, text: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message.build(text=text)
    message.set("text_spacy_doc", nlp(text))
    message.set("intent", {"name": ranking[0][0], "confidence": ranking[0][1]})
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
    return message


def test_component_raises_a_confident_danger_guess_above_the_fallback(nlp):
    [routed] = SafetyNet().process([_guess(nlp, "help him please", [(DANGER, 0.6), ("greet", 0.55)])])

    assert routed.get("intent") == {"name": DANGER, "confidence": 1.0}
    assert routed.get("safety_net") == "classifier"
    assert routed.get("intent_ranking")[1]["confidence"] < 0.5, "no ambiguity for the fallback classifier"


def test_an_unsure_danger_guess_without_danger_words_goes_to_the_next_intent(nlp):
    text = "hes on fortnite right now with his mates, is voice chat ok"
    [routed] = SafetyNet().process([_guess(nlp, text, [(DANGER, 0.3), ("ask_about_settings", 0.25)])])

    assert routed.get("intent")["name"] == "ask_about_settings"


@pytest.mark.parametrize(
    "text",
    [
        "she was upset after being online last night, how do I talk to her",
        "right now im just reading up on snapchat settings before i let her have it, any tips",
        "my 14 year old wants to meet a friend from school at the park tonight, should I let her",
    ],
)
def test_a_danger_guess_on_an_everyday_advice_question_goes_to_the_next_intent(nlp, text):
    [routed] = SafetyNet().process([_guess(nlp, text, [(DANGER, 0.9), ("ask_how_to_talk", 0.05)])])

    assert routed.get("intent")["name"] == "ask_how_to_talk"
    assert routed.get("safety_net") == "advice_question"


def test_an_unsure_danger_guess_with_danger_words_keeps_the_danger_route(nlp):
    text = "she is meeting a man from snapchat and i am so scared for her"
    [routed] = SafetyNet().process([_guess(nlp, text, [(DANGER, 0.3), ("report_worry", 0.25)])])

    assert routed.get("intent")["name"] == DANGER


def test_a_close_runner_up_danger_guess_with_danger_words_wins(nlp):
    text = "grandson has snuck out, a bloke is picking him up from the park at 9"
    [routed] = SafetyNet().process([_guess(nlp, text, [("disclose_as_child", 0.4), (DANGER, 0.35)])])

    assert routed.get("intent") == {"name": DANGER, "confidence": 1.0}
    assert routed.get("safety_net") == "classifier_close"


def test_a_runner_up_danger_guess_on_an_advice_question_stays_second(nlp):
    text = "should i let my son go to the park with his friends tonight"
    [routed] = SafetyNet().process([_guess(nlp, text, [("ask_ground_rules", 0.4), (DANGER, 0.35)])])

    assert routed.get("intent")["name"] == "ask_ground_rules"


def test_capitals_are_read_as_lower_case(nlp):
    text = "GIRL ON OMEGLE IS CRYING AND A MAN IS MAKING HER DO STUFF"
    [routed] = SafetyNet().process([_guess(nlp, text, [("ask_about_apps", 0.6)])])

    assert routed.get("intent") == {"name": DANGER, "confidence": 1.0}
    assert routed.get("safety_net") == "abuse_on_camera"
