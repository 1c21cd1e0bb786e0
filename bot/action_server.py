"""The action server, as `python -m rasa_sdk` runs it (same arguments), with what people type kept
out of its logs at the default level (bot/log_privacy.py): an action's error can quote the
conversation, and rasa_sdk logs every error with its traceback."""

from __future__ import annotations

import rasa_sdk.__main__

from bot import log_privacy
from bot.settings import load_settings


def main() -> None:
    log_privacy.install(load_settings().log_level)
    rasa_sdk.__main__.main()


if __name__ == "__main__":
    main()
