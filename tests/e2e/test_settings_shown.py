"""Every response that shows a deployment setting, sent by the real server with the settings
unset and set: the settings are filled in, or the when_unset text stands in, and no
placeholder reaches the user. The deployment's region is chosen when the message is sent."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain

from bot.content import DOMAIN_DIR, WHEN_UNSET_SUFFIX, load_content, runtime_settings_named
from bot.local_servers import local_environ, local_servers
from bot.nlg import runtime_values
from bot.settings import PROJECT_DIR
from tests.e2e.test_servers import say, texts

pytestmark = pytest.mark.e2e

UNSET = {"TT_SCHOOL_NAME": "", "TT_DSL_CONTACT": "", "TT_RETENTION_DAYS": "", "TT_REGION": ""}
SET = {"TT_SCHOOL_NAME": "Oak Primary", "TT_DSL_CONTACT": "Ms Patel, room 4", "TT_RETENTION_DAYS": "45"}
SET_IN_IRELAND = {**SET, "TT_REGION": "ie"}


def responses_showing_settings() -> list[str]:
    responses = Domain.load(str(DOMAIN_DIR)).responses
    return sorted(
        name
        for name, variations in responses.items()
        # a when_unset text is sent in place of its item's response, and is checked there
        if not name.endswith(WHEN_UNSET_SUFFIX) and any(runtime_settings_named(v["text"]) for v in variations)
    )


def intent_reaching(response: str) -> str:
    """An intent whose rule, starting from the user's message, sends `response`."""
    for path in sorted((PROJECT_DIR / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            steps = rule["steps"]
            if "condition" not in rule and "intent" in steps[0] and {"action": response} in steps:
                return str(steps[0]["intent"])
    raise AssertionError(f"no rule sends {response} in reply to a user's message")


def filled(text: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], text)


@pytest.fixture(scope="module", params=[UNSET, SET_IN_IRELAND], ids=["settings unset", "settings set"])
def deployment(request, tmp_path_factory):
    """The running servers and the settings they were started with."""
    environ = local_environ(f"sqlite:///{Path(tmp_path_factory.mktemp('settings')) / 'tt.db'}", **request.param)
    with local_servers(environ) as running:
        yield running, request.param


def test_some_responses_show_settings():
    assert {"utter_school_contact", "utter_privacy"} <= set(responses_showing_settings())


@pytest.mark.parametrize("response", responses_showing_settings())
def test_every_response_showing_a_setting_is_filled_in_or_stands_in(deployment, response):
    servers, _ = deployment
    values = runtime_values(servers.settings)
    content = load_content()
    key = response.removeprefix("utter_")
    if runtime_settings_named(content.items[key].text) <= set(values):
        expected = filled(content.render(key, servers.settings.region), values)
    else:
        expected = filled(content.render(key + WHEN_UNSET_SUFFIX, servers.settings.region), values)

    reply = texts(say(servers.rest_url, str(uuid.uuid4()), "/" + intent_reaching(response)))

    assert expected in reply


def test_the_school_is_named_when_set_and_the_office_asked_when_not(deployment):
    servers, settings = deployment

    reply = " ".join(texts(say(servers.rest_url, str(uuid.uuid4()), "/ask_school_contact")))

    if settings is UNSET:
        assert "The school office can tell you who it is." in reply
    else:
        assert "Oak Primary" in reply and "Ms Patel, room 4" in reply


def test_the_retention_period_is_the_deployments(deployment):
    servers, settings = deployment

    reply = " ".join(texts(say(servers.rest_url, str(uuid.uuid4()), "/ask_privacy")))

    assert f"for up to {30 if settings is UNSET else 45} days" in reply


def test_the_deployments_region_until_the_user_says_where_they_are(deployment):
    servers, settings = deployment
    sender = str(uuid.uuid4())

    before = texts(say(servers.rest_url, sender, "/report_danger"))
    say(servers.rest_url, sender, "we live in Australia")
    after = texts(say(servers.rest_url, sender, "/report_danger"))

    assert before[0].startswith("Call 999 now" if settings is UNSET else "Call 112 or 999 now")
    assert after[0].startswith("Call 000 now")
