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
_DO = ["do", "does", "dont", "don't", "doesnt"]
_SELF = ["herself", "himself", "themselves", "myself", "themself"]
_POSSESSIVE = ["his", "her", "their", "the", "my", "our"]
_PLACE = ["house", "home", "flat", "door", "school", "gate", "gates", "address", "street", "road", "window"]
_PLACE_KINDS = ["front", "back", "school", "house", "flat"]  # "our front door", "the school gates"
_CHILD_NOUNS = ["son", "daughter", "child", "kid", "boy", "girl", "niece", "nephew", "grandson", "granddaughter",
                "brother", "sister", "stepson", "stepdaughter", "pupil", "student"]  # fmt: skip
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
    "just gone", "just went", "on his way", "on her way", "on their way", "on the way", "at this moment",
    "happening now", "as i type", "as we speak", "mins ago", "minutes ago", "an hour ago", "since last night",
    "rn", "asap", "in the next hour", "within the hour", "mins", "minutes", "just now", "getting in", "getting into",
    "on the train", "on the bus", "on a train", "on a bus",
]  # fmt: skip

HYPOTHETICAL_MARKERS = [
    "what if", "if she ever", "if he ever", "if they ever", "if my child ever", "if my son ever",
    "if my daughter ever", "is ever", "ever meets", "ever met", "ever be", "in case", "do if", "should i do if",
    "last year", "last month", "last week", "last summer", "years ago", "year ago", "months ago", "month ago",
    "weeks ago", "it's over", "its over", "it is over", "in the past", "next year", "next month", "next week",
    "next summer", "used to", "when she's older", "when he's older", "how would i know", "hypothetically",
    "ever", "once she's", "once he's", "once they're", "when she was", "when he was", "when they were",
    "next time", "all fine", "went well", "what would i do", "what do i do if", "is it ok", "is it safe",
    "a recording", "recording of", "recorded",
]  # fmt: skip

# Words (lemmas) that keep a classifier's danger guess even on an unsure or advice-like message:
# they do not route by themselves, they only stop the safety net from taking danger away.
DANGER_WORDS = {
    "hurt", "kill", "threaten", "danger", "dangerous", "urgent", "urgently", "emergency", "help", "scared", "scare",
    "terrified", "car", "van", "house", "flat", "park", "street", "station", "door", "outside", "gone", "leave",
    "left", "disappear", "missing", "take", "pick", "collect", "come", "wait", "address", "predator", "hotel",
    "answer", "police", "asap", "immediately", "hurry", "fast", "abuse", "force", "trap", "lock", "rape", "crying",
    "cry", "tablets", "pills", "knife", "blood", "bleeding",
}  # fmt: skip

# The subset of DANGER_WORDS about where a child is or who has them: with these, a runner-up
# danger guess from the classifier wins ("a bloke is picking him up from the park at 9").
SITUATION_WORDS = {
    "car", "van", "house", "flat", "park", "street", "station", "door", "outside", "hotel", "address", "pick",
    "collect", "wait", "missing", "disappear", "hurt", "kill", "threaten", "danger", "urgent", "emergency", "police",
    "trap", "lock", "rape", "force", "predator",
}  # fmt: skip

# "When my daughter was 10": a story about the past, like HYPOTHETICAL_MARKERS.
PAST: list[Pattern] = [
    [_words("when"), _words("my", "our", "her", "his", "their", "she", "he", "they"), {"OP": "?"},
     _words("was", "were")],
]  # fmt: skip

# A meeting inside a game is not a meeting in person: "meeting his mates tonight in the game".
VIRTUAL_MARKERS = [
    "in the game", "in game", "in-game", "on the game", "online only", "only online", "in a game", "teams meeting",
    "zoom meeting", "zoom call", "online meeting", "school meeting", "meeting for school",
]  # fmt: skip

# Everyday advice questions: a classifier's danger guess that no pattern backs gives way to them.
ADVICE_MARKERS = [
    "how do i talk", "how should i talk", "how can i talk", "how do i bring up", "how do i explain", "any tips",
    "tips for", "tips on", "is it safe", "is it ok", "should i let", "before i let", "screen time", "what settings",
    "which settings", "parental controls", "privacy settings", "what apps", "which apps", "what should she know",
    "what should he know", "what should they know", "sharing locations", "location sharing", "share her location",
    "share his location", "can i let", "how can i check", "how do i check", "can i check", "can i see if", "how much",
    "is that ok", "is this ok", "is that safe", "is this safe", "what age", "age limit", "minimum age", "how old",
    "how do i turn", "how can i turn", "how do i switch", "how can i switch", "how do i approve", "what rules",
    "house rules", "cut off",
]  # fmt: skip

# "Is FaceTime safe?", "are these apps ok?": an advice question, whatever it asks about.
ADVICE: list[Pattern] = [
    [_words("is", "are"), {"IS_ALPHA": True, "OP": "?"}, {"IS_ALPHA": True, "OP": "?"},
     _words("safe", "ok", "okay", "appropriate", "alright", "allowed", "normal", "suitable"), {"IS_PUNCT": True}],
    [_words("is", "are"), {"IS_ALPHA": True, "OP": "?"}, {"IS_ALPHA": True, "OP": "?"},
     _words("safe", "ok", "okay", "appropriate", "alright", "allowed", "normal", "suitable"), _words("for", "to", "at",
     "with", "if", "in")],
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
        [{"LEMMA": {"IN": ["knock", "bang", "turn", "show", "pull"]}}, {"LOWER": "up", "OP": "?"},
         _words("at", "outside"), _words(*_POSSESSIVE), {"LOWER": {"IN": _PLACE_KINDS}, "OP": "?"},
         _words(*_PLACE)],
        # "the man who groomed her is at the door": a home's door or window, whoever said it
        [_words("is", "'s", "s"), _words("at", "outside"), _words(*_POSSESSIVE), {"OP": "?"},
         _words("door", "window", "house", "flat", "gate", "gates")],
        [{"LOWER": "outside"}, _words("the", "our", "my", "her", "his"), {"OP": "?"}, _words(*_PLACE)],
        [{"LEMMA": {"IN": ["knock", "bang"]}}, _words("on", "at"), _words(*_POSSESSIVE), {"OP": "?"}, _words(*_PLACE)],
        [{"LEMMA": "follow"}, _words("me", "her", "him", "them", "my"), {"OP": "?"}, {"LOWER": "home"}],
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
        [_words("in", "into"), _words("a", "his", "her", "the", "their"), _words("car", "van", "taxi"),
         {"LOWER": "with"}],
        [_words("in", "into"), _words("his", "their"), _words("car", "van")],
        [_words("in", "into", "at"), _words("a", "the", "some"), _words(*_PERSON), {"LOWER": "'s", "OP": "?"},
         _words("car", "van", "house", "flat", "place", "home")],
        [_words("at", "in"), _words("his", "their"), _words("flat", "place", "hotel")],
        [_words("at", "in"), _words("a", "his", "the"), _words("hotel", "motel"), {"LOWER": "with"}],
        [_words(*_PERSON, "he", "somebody", "predator"), {"OP": "?"}, {"OP": "?"}, _words("has", "got"),
         {"LOWER": "got", "OP": "?"}, _words("my", "our"), _words(*_CHILD_NOUNS)],
        [{"LEMMA": "take"}, _words("her", "him", "them", "me"), {"LOWER": "somewhere"}],
        [{"LEMMA": "take"}, _words("my", "our"), _words(*_CHILD_NOUNS), _words("somewhere", "away")],
        [_words("wo", "will", "wont", "not"), {"LEMMA": "not", "OP": "?"}, {"LOWER": "let"},
         _words("her", "him", "me", "them"), _words("leave", "go")],
        [{"LOWER": "locked"}, _words("her", "him", "me", "them")],
        [_words("holding", "held", "trapped", "kidnapped", "abducted"), _words("her", "him", "me", "them", "my", "in",
         "at")],
        [{"LEMMA": "be"}, _words("held", "trapped", "kidnapped", "abducted")],
        [{"LEMMA": "be"}, _words("outside", "out", "still", "now", "there", "off", "away"), {"LOWER": "with"},
         _words("a", "an", "the", "some", "this", "that"), {"LOWER": {"IN": ["older", "grown", "random"]},
         "OP": "?"}, _words(*_PERSON)],
        [_words("is", "'s", "s", "was", "are", "'re"), {"LOWER": "with"}, _words("him", "them"), _words("now", "rn",
         "right", "still")],
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
        [{"LEMMA": "overdose"}],
        [{"LEMMA": "take"}, {"LOWER": {"IN": ["pills", "tablets"]}}],
        [_words("got", "have", "holding", "'ve"), _words("the", "some", "my", "all", "loads", "a"), {"LOWER": "of",
         "OP": "?"}, _words("tablets", "pills", "knife", "blade", "razor")],
        [_words("cant", "cannot"), _words("do", "go", "take", "cope"), _words("this", "on", "it", "with")],
        [_words("ca", "can"), _words("n't", "not", "nt"), _words("do", "go", "take", "cope"), _words("this", "on", "it",
         "with")],
        [_words(*_DO), {"LEMMA": "not", "OP": "?"}, {"LOWER": "want"}, {"LOWER": "to"}, _words("live", "exist")],
        [_words(*_DO), {"LEMMA": "not", "OP": "?"}, {"LOWER": "want"}, {"LOWER": "to"}, {"LOWER": "be"},
         _words("here", "alive", "around")],
        [_words("threatening", "threatened", "going", "gonna", "will", "'ll", "wants"), {"LOWER": "to", "OP": "?"},
         {"LOWER": "jump"}],
    ],
    "threat_to_hurt": [
        # "the man online will kill her family", not "my mum will kill me"
        [_words("he", "they", "man", "guy", "bloke", "someone", "stranger", "person", "online"), _words("will", "'ll",
         "would"), {"LEMMA": {"IN": ["kill", "rape", "stab", "attack"]}}],
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
        [{"LOWER": "happening"}, _words("now", "right", "as")],
    ],
}  # fmt: skip

HAPPENING: dict[str, list[Pattern]] = {
    "meeting": [
        # "met" alone tells how they know each other ("a man she met online"), not a meeting now
        [{"LEMMA": "meet", "LOWER": {"NOT_IN": ["met"]}}],
        [{"LOWER": "met"}, {"LOWER": "up"}],
        [{"LOWER": {"IN": ["meetup", "meet-up"]}}],
        [{"LEMMA": {"IN": ["go", "sneak"]}}, {"LOWER": "out", "OP": "?"}, {"LOWER": "to", "OP": "?"},
         _words("see", "visit"), _words("him", "her", "them", "a", "this", "that", "some", "the")],
    ],
    "coming_for": [
        [{"LEMMA": {"IN": ["come", "go"]}}, {"LOWER": "to", "OP": "?"}, {"LEMMA": {"IN": ["collect", "pick", "fetch",
         "take", "get", "hurt", "find"]}}, _words("her", "him", "them", "me", "my", "us", "up")],
        [{"LOWER": "coming"}, _words("for", "round", "over", "here")],
        [_words("getting", "being", "get", "be"), _words("picked", "collected", "fetched")],
        [{"LEMMA": "wait"}, {"LOWER": "for"}, _words("her", "him", "them", "me", "my")],
    ],
    "on_camera": [
        [{"LEMMA": {"IN": ["camera", "cam", "webcam", "facetime", "livestream", "skype", "stream", "omegle",
         "chatroulette"]}}],
        [{"LOWER": {"IN": ["livestreaming", "streaming", "broadcasting", "livestreamed"]}}],
        [_words("video", "live"), _words("call", "chat", "stream", "streaming", "video")],
    ],
    "being_abused": [
        [{"LEMMA": "be"}, {"LOWER": {"IN": ["abused", "raped", "molested", "assaulted", "filmed", "forced"]}}],
        # not "naked" or "nude" alone: "she sent a nude and now he's sharing it" is not danger now
        [{"LOWER": {"IN": ["undress", "undressing", "strip", "stripping"]}}],
        [_words("get", "getting", "be", "being", "is"), {"LOWER": {"IN": ["naked", "nude"]}}],
        [{"LEMMA": "take"}, {"LOWER": "off"}, _words("her", "his", "their"), {"LOWER": "clothes"}],
        [{"LEMMA": {"IN": ["make", "get", "force", "tell"]}}, _words("her", "him", "them", "me", "my"), {"OP": "?"},
         {"LOWER": "to", "OP": "?"}, {"LOWER": "do"}, _words("stuff", "things", "sexual")],
        [{"LEMMA": "be"}, _words("made", "told", "forced"), {"LOWER": "to"}, _words("do", "strip", "undress", "show",
         "touch", "perform")],
        [{"LOWER": "sexual"}, _words("things", "stuff", "acts")],
        [{"LEMMA": "take"}, _words("her", "his", "their"), {"LOWER": "clothes"}, {"LOWER": "off"}],
    ],
}  # fmt: skip

# Happening families that are danger only with someone from online or a stranger in the message,
# or, on camera, with a stranger or an adult.
NEEDS_CONTACT = {"meeting", "coming_for"}
NEEDS_PERSON = {"on_camera"}

# Who a child is meeting: without one of these, "meeting her school friends tonight" is not danger.
# Who is with a child on camera: without one, "she's on FaceTime with her nan right now" is not danger.
PERSON_CONTACT: list[Pattern] = [
    [_words(*_PERSON, "somebody", "older", "grown", "predator", "groomer", "pervert", "paedo", "pedo")],
    # an adult's age: "the 25 year old", "a 30yo"
    [{"LOWER": {"REGEX": r"^(1[89]|[2-9]\d)$"}}, _words("year", "yr", "years", "yrs"), _words("old", "olds")],
    [{"LOWER": {"REGEX": r"^(1[89]|[2-9]\d)(yo|yr|yrs)$"}}],
]  # fmt: skip

CONTACT: list[Pattern] = [
    *PERSON_CONTACT,
    [_words("online", "internet", "app", "game", "gaming", "snapchat", "snap", "tiktok", "instagram", "insta",
            "discord", "roblox", "fortnite", "minecraft", "xbox", "playstation", "psn", "whatsapp", "facebook",
            "telegram", "kik", "omegle", "grindr", "tinder", "wizz", "yubo", "twitch", "youtube", "twitter", "reddit",
            "him", "he")],
]  # fmt: skip

IMAGERY_TERMS: list[Pattern] = [
    [{"LOWER": {"IN": ["csam", "cse", "cp", "csem"]}}],
    [{"LOWER": "child"}, {"LOWER": {"IN": ["sexual", "sex"]}, "OP": "?"}, {"LOWER": "abuse"}, _words(*_IMAGE_WORDS)],
    [{"LOWER": {"IN": ["abuse", "indecent", "sexual", "sexualised", "sexualized", "explicit", "nude", "naked"]}},
     _words(*_IMAGE_WORDS), {"LOWER": "of"}, {"LOWER": {"IN": ["a", "young"]}, "OP": "?"}, _words(*_CHILD)],
    [_words(*_IMAGE_WORDS), {"LOWER": "of"}, _words(*_CHILD), {"LOWER": "being"}, {"LOWER": {"IN": ["abused",
     "raped", "molested", "exploited"]}}],
    [{"LOWER": "child"}, {"LOWER": {"IN": ["porn", "pornography"]}}],
    [_words(*_IMAGE_WORDS), {"LOWER": "of"}, {"LOWER": {"IN": ["naked", "nude", "abused", "underage"]}},
     _words(*_CHILD, "girls", "boys", "little")],
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

# An adult writing about their child ("my son", "our girl"): not a child telling their own story.
ADULT_SPEAKING: list[Pattern] = [
    [_words("my", "our"), _words("son", "daughter", "child", "kid", "niece", "nephew", "grandson", "granddaughter",
     "stepson", "stepdaughter", "pupil", "student", "boy", "girl", "lad", "kids", "children", "sons", "daughters")],
]  # fmt: skip

# Asking for abuse material ("where do people share cp"), as against reporting it.
SEEKING_VERBS: list[Pattern] = [
    [_words("get", "find", "download", "buy", "access", "obtain", "trade", "swap", "share", "watch", "want", "need")],
    [_words("send", "give", "show", "sell"), _words("me", "us")],
]  # fmt: skip
REPORTING: list[Pattern] = [
    [{"LEMMA": {"IN": ["report", "see", "stumble", "click", "remove", "spot", "discover", "encounter", "receive"]}}],
    [_words("found", "saw", "seen", "takedown", "taken")],
    [{"LEMMA": "come"}, {"LOWER": "across"}],
]  # fmt: skip

# Someone seeking abuse material or secret contact with a child: refused, with Stop It Now.
SEEKING: list[Pattern] = [
    [_words("without"), _words("her", "his", "their", "the", "its"), _words("parents", "parent", "mum", "mom", "dad",
     "family", "mum's", "parents'"), _words("knowing", "finding", "noticing", "seeing", "knowin", "know")],
    [{"LEMMA": {"IN": ["make", "create", "generate", "draw", "produce"]}}, _words("a", "an", "some", "me", "us"),
     {"LOWER": {"IN": ["naked", "nude", "sexual", "sexy", "explicit"]}}, _words(*_IMAGE_WORDS, "nudes", "pic", "pics"),
     {"LOWER": "of"}, {"LOWER": {"IN": ["a", "an", "young", "little"]}, "OP": "?"},
     _words(*_CHILD, *_CHILD_NOUNS, "girls", "boys", "girl", "boy")],
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

# Everything the safety net listens for, by the label its matchers report.
PHRASE_MARKERS: dict[str, list[str]] = {
    "NOW": NOW_MARKERS,
    "HYPOTHETICAL": HYPOTHETICAL_MARKERS,
    "ADVICE": ADVICE_MARKERS,
    "VIRTUAL": VIRTUAL_MARKERS,
}
SIGNALS: dict[str, list[Pattern]] = {
    **STRONG_DANGER,
    **HAPPENING,
    "IMAGERY_TERMS": IMAGERY_TERMS,
    "IMAGERY_SEEN": IMAGERY_SEEN,
    "EXTORTION": EXTORTION,
    "MONEY_DEMAND": MONEY_DEMAND,
    "IMAGES": IMAGES,
    "CONTACT": CONTACT,
    "PERSON_CONTACT": PERSON_CONTACT,
    "SEEKING": SEEKING,
    "SEEKING_VERBS": SEEKING_VERBS,
    "REPORTING": REPORTING,
    "ADVICE": ADVICE,
    "PAST": PAST,
    "ADULT_SPEAKING": ADULT_SPEAKING,
}
