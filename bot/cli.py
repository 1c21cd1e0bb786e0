"""`python -m bot COMMAND`: build, train, run and chat with the assistant."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.content import ContentError, build_domain
from bot.settings import PROJECT_DIR, Settings, SettingsError, load_settings


def _build() -> None:
    from bot.spacy_pipeline import build_pipeline

    build_pipeline()
    build_domain()


def _train() -> Path:
    from bot.launcher import child_env
    from bot.training import train_if_needed

    _build()
    return train_if_needed(child_env())


def _stop_on_signals() -> None:
    """Ctrl-C and a service manager's SIGTERM both stop the servers cleanly, even when a
    shell started us in the background with SIGINT ignored."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)


def _purge(settings: Settings) -> int:
    """Delete conversations older than the retention period; also checks the database answers."""
    import datetime as dt

    from bot.tracker_store import TalkTrackerStore

    store = TalkTrackerStore(url=settings.database_url)
    try:
        return store.purge(dt.timedelta(days=settings.retention_days))
    finally:
        store.engine.dispose()


def _run(settings: Settings, train: bool) -> int:
    from bot.launcher import NotReady, Servers
    from bot.training import model_path

    _stop_on_signals()  # before the build and training too: a shell may start us with SIGINT ignored
    try:
        model = _train() if train else model_path()
    except KeyboardInterrupt:
        return 130
    if not model.exists():
        print(f"No model at {model}: run `python -m bot train` first.", file=sys.stderr)
        return 1
    purged = _purge(settings)
    print(f"Removed {purged} conversation(s) older than {settings.retention_days} days.")
    servers = Servers(settings, model)
    try:
        servers.start()
        servers.wait_until_ready()
        servers.supervise()
        print(
            "\nTalk Together is running.\n"
            f"  Demo school page with the chat widget:  {servers.demo_url}\n"
            f"  REST channel:  POST {servers.rest_url}\n"
            f"  Widget script: {servers.base_url}/widget.js (socket.io at {servers.base_url}/socket.io)\n"
            "  Stop with Ctrl-C.\n",
            flush=True,
        )
        while True:  # until Ctrl-C or SIGTERM; meanwhile a crashed server is started again
            time.sleep(3600)
    except NotReady as error:
        print(f"Cannot start: {error}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        servers.stop()


def _shell(settings: Settings) -> int:
    from bot.launcher import actions_command, child_env, write_runtime_config
    from bot.supervision import Supervisor

    model = _train()
    env = child_env()
    action_server = Supervisor({"actions": actions_command(settings)}, env, cwd=PROJECT_DIR)
    action_server.start()
    endpoints = write_runtime_config(settings)
    command = [sys.executable, "-m", "rasa", "shell", "--model", str(model), "--endpoints", str(endpoints)]
    try:
        return subprocess.run(command, cwd=PROJECT_DIR, env=env).returncode
    except KeyboardInterrupt:
        return 0
    finally:
        action_server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="check the settings and the content")
    commands.add_parser("build", help="build the spaCy pipeline and the domain from content/")
    commands.add_parser("train", help="train a model unless one exists for the current inputs")
    run = commands.add_parser("run", help="start the action server and the Rasa server")
    run.add_argument("--no-train", action="store_true", help="use the existing model, never train")
    commands.add_parser("shell", help="chat in the terminal")
    commands.add_parser("model", help="print the path of the model for the current inputs")
    commands.add_parser("purge", help="delete conversations older than TT_RETENTION_DAYS (run daily)")
    eval_parser = commands.add_parser("eval", help="score the shared development cases against the assistant")
    eval_parser.add_argument("--shared", type=Path, default=PROJECT_DIR.parent / "shared")
    eval_parser.add_argument(
        "--cases-only", action="store_true", help="skip the NLU cross-validation and held-out test"
    )
    eval_parser.add_argument("--only", nargs="+", default=(), help="only the case files whose name has these words")
    content = commands.add_parser("content", help="review what the assistant says")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    content_report = content_commands.add_parser(
        "report", help="write one HTML page with every message, for a safeguarding lead"
    )
    content_report.add_argument("--out", type=Path, default=None, help="default var/results/content-report.html")
    safety = commands.add_parser("safety-eval", help="danger recall and false emergencies, safety net on and off")
    safety.add_argument("--shared", type=Path, default=PROJECT_DIR.parent / "shared")
    safety.add_argument("--details", action="store_true", help="list every message the net misses or alarms on")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
        if args.command == "check":
            from bot.content import load_content

            load_content()
            print(f"Settings and content are valid (region {settings.region}).")
            return 0
        if args.command == "build":
            _build()
            return 0
        if args.command == "train":
            print(_train())
            return 0
        if args.command == "run":
            return _run(settings, train=not args.no_train)
        if args.command == "purge":
            print(f"Removed {_purge(settings)} conversation(s) older than {settings.retention_days} days.")
            return 0
        if args.command == "model":
            from bot.training import model_path

            print(model_path())
            return 0
        if args.command == "content":
            from bot.content_report import REPORT_FILE, write_report

            print(write_report(settings, args.out or REPORT_FILE))
            return 0
        if args.command == "safety-eval":
            from bot.safety_eval import measure, report
            from bot.training import model_path

            return 0 if report(measure(model_path(), args.shared), details=args.details) else 1
        if args.command == "eval":
            from bot.evaluate import evaluate

            return evaluate(args.shared, cases_only=args.cases_only, only=tuple(args.only))
        return _shell(settings)
    except (SettingsError, ContentError) as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
