"""The school contact action names the DSL only when the deployment configures one."""

from __future__ import annotations

import pytest

from actions.school import ActionGiveSchoolContact


@pytest.mark.parametrize(
    ("school", "dsl", "expected"),
    [
        ("Oak Primary", "Ms Patel, room 4, 01234", "utter_school_contact_configured"),
        ("Oak Primary", "", "utter_school_contact_unknown"),
        ("", "", "utter_school_contact_unknown"),
    ],
)
async def test_school_contact_uses_settings(monkeypatch, dispatcher, tracker_for, domain, school, dsl, expected):
    monkeypatch.setenv("TT_SCHOOL_NAME", school)
    monkeypatch.setenv("TT_DSL_CONTACT", dsl)
    events = await ActionGiveSchoolContact().run(
        dispatcher, tracker_for("who is the dsl", "ask_school_contact"), domain
    )

    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == expected
    assert expected in domain["responses"]
    if expected.endswith("configured"):
        assert message["school_name"] == school
        assert message["dsl_contact"] == dsl
