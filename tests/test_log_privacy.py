"""What people type stays out of the logs above DEBUG: structlog events, tracebacks, Rasa's warnings."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator

import pytest
import structlog
from rasa.shared.utils.io import raise_warning

from bot.log_privacy import NOT_LOGGED, hide_texts, install, traceback_without_messages

SECRET = "zebra-7f3a my son is being blackmailed"


def failure_quoting_the_user() -> None:
    try:
        raise KeyError(SECRET)
    except KeyError as error:
        raise RuntimeError(f"could not answer {SECRET!r}") from error


def raised() -> BaseException:
    with pytest.raises(RuntimeError) as info:
        failure_quoting_the_user()
    return info.value


@pytest.fixture
def logging_state() -> Iterator[None]:
    """install() changes the process's logging: put it back after the test."""
    make_record, config = logging.getLogRecordFactory(), structlog.get_config()
    with warnings.catch_warnings():
        yield
    logging.setLogRecordFactory(make_record)
    structlog.configure(**config)


def test_a_traceback_keeps_where_and_which_error_but_no_message():
    text = traceback_without_messages(raised())

    assert SECRET not in text and "zebra" not in text
    assert "KeyError: [not logged]" in text and "RuntimeError: [not logged]" in text
    assert text.index("KeyError") < text.index("which led to") < text.index("RuntimeError"), "the cause comes first"
    assert "in failure_quoting_the_user" in text


def test_structlog_events_lose_their_texts_and_keep_the_rest():
    event = hide_texts(None, "error", {"event": "rest.message.received.failure", "text": SECRET, "sender": "s1"})

    assert event == {"event": "rest.message.received.failure", "text": NOT_LOGGED, "sender": "s1"}


def test_a_structlog_exception_is_logged_without_its_message_or_variables():
    try:
        failure_quoting_the_user()
    except RuntimeError:
        event = hide_texts(None, "exception", {"event": "rest.message.received.failure", "text": SECRET})

    assert event["exc_info"] is False, "no later processor renders the full traceback"
    assert "RuntimeError: [not logged]" in event["traceback"]
    assert SECRET not in json.dumps(event)


def test_above_debug_no_log_record_quotes_an_exception_message(logging_state):
    install("INFO")
    output = io.StringIO()
    logger = logging.getLogger("test_log_privacy")
    logger.addHandler(logging.StreamHandler(output))
    try:
        try:
            failure_quoting_the_user()
        except RuntimeError:
            logger.exception("Encountered an exception while running action 'action_suggest_topics'.")
    finally:
        logger.handlers.clear()

    logged = output.getvalue()
    assert "Encountered an exception while running action" in logged
    assert "RuntimeError: [not logged]" in logged
    assert "zebra" not in logged


def test_above_debug_rasas_warnings_that_quote_a_message_are_not_shown(logging_state):
    install("WARNING")
    with warnings.catch_warnings(record=True) as shown:
        raise_warning(f"Failed to parse arguments in line '/ {SECRET}'. Expected the intent to be one of ...")
        raise_warning("Invalid entity specification: {'x': 'zebra'}. Assuming no entities.")
        raise_warning("Any other warning is shown")

    assert [str(w.message) for w in shown] == ["Any other warning is shown"]


def test_at_debug_everything_is_kept(logging_state):
    processors, make_record = structlog.get_config()["processors"], logging.getLogRecordFactory()

    install("DEBUG")

    assert structlog.get_config()["processors"] == processors
    assert logging.getLogRecordFactory() is make_record
