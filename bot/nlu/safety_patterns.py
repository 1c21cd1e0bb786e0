"""The language the safety net listens for, as spaCy Matcher patterns over lower case and lemmas.

Each family is a label and a list of token patterns. `bot.nlu.safety_net` combines them:
- STRONG danger families route to the police whenever they appear, unless the message is
  plainly hypothetical or about the past;
- `happening` families (meeting, on camera...) route only with a `now` marker (now, tonight,
  on his way...) a few words away, so "he met her last year", "what if she meets someone" and
  "she met him online and now they want money" do not;
- imagery needs both abuse-imagery words and having seen or reporting them;
- extortion words route to the sextortion guidance.
"""

from __future__ import annotations

from typing import Any

Pattern = list[dict[str, Any]]

_CHILD = ["child", "children", "kid", "kids", "minor", "minors", "a child", "underage", "teen", "teens"]
_PERSON = ["man", "men", "adult", "adults", "stranger", "strangers", "guy", "bloke", "woman", "person", "someone"]
_SELF = ["herself", "himself", "themselves", "myself", "themself"]
_POSSESSIVE = ["his", "her", "their", "the", "my", "our"]
_PLACE = ["house", "home", "flat", "door", "school", "gate", "gates", "address", "street", "road"]
_PLACE_KINDS = ["front", "back", "school", "house", "flat"]  # "our front door", "the school gates"
_BE_NOW = ["is", "'s", "was", "are", "'re", "now", "still", "already", "just", "been"]
_IMAGE_WORDS = ["image", "images", "imagery", "picture", "pictures", "pics", "photo", "photos", "video", "videos",
                "material", "content", "stuff", "clips", "clip"]  # fmt: skip


def _words(*words: str) -> dict[str, Any]:
    return {"LOWER": {"IN": list(words)}}


def _phrase(text: str) -> Pattern:
    return [{"LOWER": word} for word in text.split()]


NOW_MARKERS = [
    "now", "right now", "tonight", "today", "at the moment", "currently", "this evening", "this afternoon",
    "this morning", "as we speak", "as i type", "about to", "in an hour", "in a few minutes", "just left",
    "just gone", "just went", "on his way", "on her way", "on their way", "on the way", "live", "at this moment",
    "happening now", "as i type", "as we speak", "mins ago", "minutes ago", "an hour ago", "since last night",
]  # fmt: skip

HYPOTHETICAL_MARKERS = [
    "what if", "if she ever", "if he ever", "if they ever", "if my child ever", "if my son ever",
    "if my daughter ever", "is ever", "ever meets", "ever met", "ever be", "in case", "do if", "should i do if",
    "last year", "last month", "last week", "last summer", "years ago", "year ago", "months ago", "month ago",
    "weeks ago", "it's over", "its over", "it is over", "in the past", "next year", "next month", "next week",
    "next summer", "used to", "when she's older", "when he's older", "how would i know", "hypothetically",
    "ever", "once she's", "once he's", "once they're", "when she was", "when he was", "when they were",
    "next time", "all fine", "went well", "what would i do", "what do i do if", "is it ok", "is it safe",
]  # fmt: skip

STRONG_DANGER: dict[str, list[Pattern]] = {
    "coming_to_the_child": [
        [_words("on"), _words(*_POSSESSIVE), {"LOWER": "way"}, {"LOWER": "to"}, _words(*_POSSESSIVE),
         _words(*_PLACE)],
        [{"LEMMA": {"IN": ["wait", "stand", "lurk", "hang"]}}, _words("outside", "at", "by", "near")],
        # someone at the door, not "I work at the school"
        [_words(*_PERSON, "he", "she", "they", "him", "predator", "groomer"), _words(*_BE_NOW, "there", "s", "here",
         "right"), {"OP": "?"}, _words("at", "outside"), _words(*_POSSESSIVE), {"LOWER": {"IN": _PLACE_KINDS},
         "OP": "?"}, _words(*_PLACE)],
        [_words(*_PERSON, "he", "she", "they", "predator", "groomer"), _words("at", "outside"), _words(*_POSSESSIVE),
         {"LOWER": {"IN": _PLACE_KINDS}, "OP": "?"}, _words(*_PLACE)],
        [{"LEMMA": {"IN": ["knock", "bang", "turn", "show", "come", "pull"]}}, {"LOWER": "up", "OP": "?"},
         _words("at", "outside", "to"), _words(*_POSSESSIVE), {"LOWER": {"IN": _PLACE_KINDS}, "OP": "?"},
         _words(*_PLACE)],
        [{"LOWER": "outside"}, _words("the", "our", "my"), {"LOWER": {"IN": _PLACE_KINDS}, "OP": "?"},
         _words(*_PLACE)],
    ],
    "missing": [
        [{"LEMMA": {"IN": ["go", "be", "have"]}}, {"LOWER": "missing"}],
        [{"LOWER": {"IN": ["run", "ran", "running", "gone"]}}, {"LOWER": "away"}, {"LOWER": "with"}],
        [{"LOWER": {"IN": ["run", "ran", "running"]}}, {"LOWER": "off"}, {"LOWER": "with"}],
        [_words("has", "hasnt", "not", "never", "did", "didnt"), {"LEMMA": {"IN": ["not", "never"]}},
         {"LOWER": "come"}, {"LOWER": {"IN": ["home", "back"]}}],
        [_words("ca", "can", "cant", "cannot"), _words("n't", "not", "find"), {"LOWER": "find", "OP": "?"},
         _words("her", "him", "them", "my")],
        [{"LOWER": "not"}, {"LOWER": {"IN": ["back", "home"]}}, {"LOWER": {"IN": ["since", "yet", "all"]}}],
        [{"LEMMA": "arrange"}, {"LOWER": "to"}, {"LEMMA": {"IN": ["collect", "pick", "meet", "fetch", "get"]}}],
    ],
    "with_a_stranger": [
        [_words("in"), _words("a", "his", "her", "the", "their"), _words("car", "van", "taxi"), {"LOWER": "with"}],
        [{"LEMMA": "be"}, {"LOWER": "with"}, _words("a", "an", "the", "some", "this", "that"),
         {"LOWER": {"IN": ["older", "grown", "random"]}, "OP": "?"}, _words(*_PERSON)],
        [{"LOWER": "with"}, _words("someone", "somebody", "a", "an"), _words("he", "she", "they", "man", "adult", "guy",
         "stranger"), {"LEMMA": "meet", "OP": "?"}, {"LOWER": "online"}],
    ],
    "self_harm": [
        [{"LEMMA": {"IN": ["kill", "hurt", "harm", "cut"]}}, _words(*_SELF)],
        [{"LOWER": {"IN": ["suicide", "suicidal", "self-harm", "selfharm", "self-harming"]}}],
        [{"LOWER": "self"}, {"LOWER": "-", "OP": "?"}, {"LEMMA": "harm"}],
        [{"LEMMA": "end"}, _words("his", "her", "their", "my"), {"LOWER": "life"}],
        [{"LEMMA": "want"}, {"LOWER": "to"}, {"LOWER": "die"}],
        [{"LEMMA": "end"}, {"LOWER": "it"}, {"LOWER": "all", "OP": "?"}],
        [{"LEMMA": "take"}, _words("his", "her", "their", "my"), {"LOWER": "own"}, {"LOWER": "life"}],
    ],
    "threat_to_hurt": [
        [{"LEMMA": "threaten"}, {"LOWER": "to"}, {"LEMMA": {"IN": ["kill", "hurt", "harm", "attack", "rape", "stab",
         "beat", "find"]}}],
        [{"LEMMA": "be", "OP": "?"}, {"LOWER": "going"}, {"LOWER": "to"}, {"LEMMA": {"IN": ["kill", "hurt", "rape",
         "attack", "stab"]}}, _words("him", "her", "them", "my", "me")],
    ],
    "in_danger": [
        [{"LEMMA": "be"}, {"LOWER": "in"}, {"LOWER": "immediate", "OP": "?"}, {"LOWER": "danger"}],
        [{"LOWER": {"IN": ["emergency", "urgent"]}}, {"IS_PUNCT": True, "OP": "?"}, _words("a", "my", "child",
         "help", "someone", "please")],
        [{"LOWER": "not"}, {"LOWER": "safe"}],
    ],
}  # fmt: skip

HAPPENING: dict[str, list[Pattern]] = {
    "meeting": [
        # "met" alone tells how they know each other ("a man she met online"), not a meeting now
        [{"LEMMA": "meet", "LOWER": {"NOT_IN": ["met"]}}],
        [{"LOWER": "met"}, {"LOWER": "up"}],
        [{"LOWER": {"IN": ["meetup", "meet-up"]}}],
        [{"LEMMA": {"IN": ["go", "sneak"]}}, {"LOWER": "out", "OP": "?"}, {"LOWER": "to"}, _words("see", "visit"),
         _words("him", "her", "them", "a", "this", "that", "some")],
    ],
    "on_camera": [
        [{"LEMMA": {"IN": ["camera", "cam", "webcam", "facetime", "livestream", "skype", "stream"]}}],
        [_words("video", "live"), _words("call", "chat", "stream", "streaming")],
    ],
    "being_abused": [
        [{"LEMMA": "be"}, {"LOWER": {"IN": ["abused", "raped", "molested", "assaulted", "filmed", "forced"]}}],
        # not "naked" or "nude" alone: "she sent a nude and now he's sharing it" is not danger now
        [{"LOWER": {"IN": ["undress", "undressing", "strip", "stripping"]}}],
        [_words("get", "getting", "be", "being", "is"), {"LOWER": {"IN": ["naked", "nude"]}}],
        [{"LEMMA": "take"}, {"LOWER": "off"}, _words("her", "his", "their"), {"LOWER": "clothes"}],
    ],
}  # fmt: skip

IMAGERY_TERMS: list[Pattern] = [
    [{"LOWER": {"IN": ["csam", "cse", "cp", "csem"]}}],
    [{"LOWER": "child"}, {"LOWER": {"IN": ["sexual", "sex"]}, "OP": "?"}, {"LOWER": "abuse"}, _words(*_IMAGE_WORDS)],
    [{"LOWER": {"IN": ["abuse", "indecent", "sexual", "sexualised", "sexualized", "explicit", "nude", "naked"]}},
     _words(*_IMAGE_WORDS), {"LOWER": "of"}, {"LOWER": {"IN": ["a", "young"]}, "OP": "?"}, _words(*_CHILD)],
    [_words(*_IMAGE_WORDS), {"LOWER": "of"}, _words(*_CHILD), {"LOWER": "being"}, {"LOWER": {"IN": ["abused",
     "raped", "molested", "exploited"]}}],
    [{"LOWER": "child"}, {"LOWER": {"IN": ["porn", "pornography"]}}],
]  # fmt: skip

IMAGERY_SEEN: list[Pattern] = [
    [{"LEMMA": {"IN": ["see", "find", "saw", "found", "stumble", "click", "report", "watch", "spot", "discover",
     "encounter", "receive", "view"]}}],
    [{"LEMMA": "come"}, {"LOWER": "across"}],
    [{"LOWER": {"IN": ["website", "site", "forum", "link", "url", "page", "channel", "server", "online", "group",
     "chat", "feed", "account", "platform", "taken", "takedown"]}}],
]  # fmt: skip

# "Wants £300", "asking for bitcoin": extortion only where the message is about images too.
MONEY_DEMAND: list[Pattern] = [
    [{"LEMMA": {"IN": ["want", "ask", "demand", "need"]}}, {"LOWER": "for", "OP": "?"}, {"LOWER": {"IN": [
     "money", "cash", "payment", "bitcoin", "crypto", "£", "$", "€", "gift", "vouchers", "paying", "pay"]}}],
    [{"LEMMA": {"IN": ["want", "ask", "demand"]}}, {"LOWER": "for", "OP": "?"}, {"LIKE_NUM": True},
     {"LEMMA": {"IN": ["pound", "quid", "dollar", "euro"]}}],
    [{"LOWER": {"REGEX": r"^[£$€]\d"}}],
]  # fmt: skip

IMAGES: list[Pattern] = [
    [_words(*_IMAGE_WORDS, "nudes", "nude", "naked", "selfie", "selfies", "screenshots", "recording", "recorded",
            "pic", "vid", "vids")],
]  # fmt: skip

EXTORTION: list[Pattern] = [
    [{"LOWER": {"REGEX": r"^(sex|s3x)?tort|^blackmail|^extort"}}],
    [{"LEMMA": "threaten"}, {"LOWER": "to"}, {"LEMMA": {"IN": ["share", "post", "send", "leak", "release", "expose",
     "publish", "spread", "show", "upload"]}}],
    [_words("or", "unless"), _words("he", "she", "they", "he'll", "she'll", "they'll", "it'll"),
     {"LOWER": {"IN": ["will", "'ll", "would"]}, "OP": "?"}, {"LEMMA": {"IN": ["share", "post", "send", "leak",
     "release", "expose", "publish", "spread", "show", "upload"]}}],
    [{"LEMMA": "demand"}, {"LOWER": {"IN": ["money", "cash", "payment", "£", "$", "gift", "bitcoin", "more"]}}],
    [{"LEMMA": {"IN": ["leak", "expose"]}}, _words("his", "her", "their", "my", "the"), _words("nudes", "pics",
     "pictures", "photos", "videos", "images")],
]  # fmt: skip
