"""At the default log level (INFO and above), no log line holds what people type.

Rasa can put what people typed into its logs in three ways, all closed here unless the level is DEBUG:

- structlog events carry it under keys such as `text` (a failed REST turn is logged at ERROR
  with its message): those values become NOT_LOGGED;
- tracebacks show exception messages, which can quote the conversation (a failed custom
  action's error carries the action server's answer, with the whole tracker), and structlog's
  tracebacks show local variables too: a traceback is logged with its frames and each
  exception's type, without messages or variables;
- warnings: a message that starts with "/" is read as an intent, and when that fails Rasa warns
  with the whole message: those warnings are not shown.

At DEBUG everything is kept, for a developer on their own machine.
"""

from __future__ import annotations

import logging
import sys
import traceback
import warnings
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

NOT_LOGGED = "[not logged]"
# Where Rasa 3.6 logs texts typed or shown in a conversation: the keys `_anonymizer` in
# rasa/utils/log_utils.py treats as personal.
TEXT_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
    }
)
# The starts of Rasa's warnings that quote a message as the user typed it.
QUOTING_WARNINGS = ("Failed to parse arguments in line", "Invalid entity specification")


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def traceback_without_messages(error: BaseException) -> str:
    """Where `error`, and the exceptions that led to it, were raised, and their types; no messages."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n\nwhich led to:\n\n".join(
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_tb(exception.__traceback__))
        + f"{_type_name(exception)}: {NOT_LOGGED}"
        for exception in reversed(chain)
    )


def _exception(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1]
    return sys.exc_info()[1]


def hide_texts(_logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no texts under TEXT_KEYS, a traceback without messages or variables."""
    for key in TEXT_KEYS & event_dict.keys():
        event_dict[key] = NOT_LOGGED
    exc_info = event_dict.get("exc_info", method_name == "exception")
    if exc_info:
        error = _exception(exc_info)
        if error is not None:
            event_dict["traceback"] = traceback_without_messages(error)
        event_dict["exc_info"] = False  # set, so that no later processor renders the full traceback
    return event_dict


def _without_exception_messages(make_record: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if record.exc_info and record.exc_info[1] is not None:
            # every handler's formatter prints exc_text as it is, where it would format exc_info
            record.exc_text = traceback_without_messages(record.exc_info[1])
            record.exc_info = None
        return record

    return make


def install(log_level: str) -> None:
    """Keep what people type out of this process's logs unless `log_level` is DEBUG. Call it
    after Rasa configured logging and before anything is logged: structlog loggers keep the
    processors they first logged with."""
    if log_level == "DEBUG":
        return
    structlog.configure(processors=[hide_texts, *structlog.get_config()["processors"]])
    # a record factory reaches every logger and handler, also those that libraries add later
    logging.setLogRecordFactory(_without_exception_messages(logging.getLogRecordFactory()))
    for start in QUOTING_WARNINGS:
        warnings.filterwarnings("ignore", message=start)
