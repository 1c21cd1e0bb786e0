"""`python -m bot COMMAND`: build, train, run and chat with the assistant."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.content import ContentError, build_domain
from bot.schools import FIELDS, SEPARATOR, School, SchoolsError, add_school, load_registry
from bot.settings import NATIONS, PROJECT_DIR, REGIONS, Settings, SettingsError, load_settings


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
    """Delete conversations older than the retention period, a school's own for its conversations
    (bot/schools.py); also checks the database answers."""
    import datetime as dt

    from bot.tracker_store import TalkTrackerStore

    default = dt.timedelta(days=settings.retention_days)
    store = TalkTrackerStore(url=settings.database_url)
    try:
        if settings.schools_file is None:
            return store.purge(default)
        registry = load_registry(settings.schools_file)
        own = {s.id: dt.timedelta(days=s.retention_days) for s in registry if s.retention_days}
        return store.purge_by_prefix(default, own, SEPARATOR)
    finally:
        store.engine.dispose()


def _purged(settings: Settings, count: int) -> str:
    if settings.schools_file is None:
        return f"Removed {count} conversation(s) older than {settings.retention_days} days."
    default = f"{settings.retention_days} days unless the school sets its own"
    return f"Removed {count} conversation(s) older than their school's retention period ({default})."


def _registry_file(settings: Settings, given: Path | None) -> Path:
    if given is not None:
        return given
    if settings.schools_file is None:
        raise SettingsError("TT_SCHOOLS_FILE is not set: name the registry with --file PATH (see schools.example.yml).")
    return settings.schools_file


def _school_line(school: School) -> str:
    where = f"{school.region}/{school.nation}" if school.nation else school.region
    contact = school.dsl_contact or "contact not set"
    return f"{school.id}: {school.name} ({where}); {school.lead_short}: {contact}; {', '.join(school.origins)}"


def _schools(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m bot schools list|add|check`."""
    path = _registry_file(settings, args.file)
    try:
        if args.schools_command == "add":
            entry = {name: value for name in FIELDS if (value := getattr(args, name)) is not None}
            print(f"Added {_school_line(add_school(path, entry))} to {path}.")
            return 0
        registry = load_registry(path)
    except SchoolsError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    if args.schools_command == "list":
        for school in registry:
            print(_school_line(school))
    else:
        print(f"{path}: {len(registry.schools)} school(s), {len(registry.origins)} origin(s); all valid.")
    return 0


def _add_schools_parser(commands: argparse._SubParsersAction) -> None:
    schools = commands.add_parser("schools", help="the school registry (TT_SCHOOLS_FILE): list, add, check")
    schools.add_argument("--file", type=Path, default=None, help="the registry file; default TT_SCHOOLS_FILE")
    school_commands = schools.add_subparsers(dest="schools_command", required=True)
    school_commands.add_parser("list", help="one line per school")
    school_commands.add_parser("check", help="check every school; exit 1 with one line per problem")
    add = school_commands.add_parser("add", help="append a school to the registry (checked before it is written)")
    add.add_argument("--id", required=True, help="a short slug: lower-case letters, digits and hyphens")
    add.add_argument("--name", required=True, help="the school's name, as staff are told it")
    add.add_argument("--nation", choices=NATIONS, help="a UK school's nation")
    add.add_argument("--region", choices=REGIONS, help="a school outside the UK: its country")
    add.add_argument(
        "--lead-title", dest="lead_title", help="default: the nation's, e.g. Designated Safeguarding Lead (DSL)"
    )
    add.add_argument("--lead-short", dest="lead_short", help="the title in a sentence, e.g. DSL; default: the nation's")
    add.add_argument("--dsl-contact", dest="dsl_contact", help="who the lead is and how to reach them")
    add.add_argument("--origin", dest="origins", action="append", required=True, help="a web origin (repeatable)")
    add.add_argument("--widget-title", dest="widget_title", help="the chat panel's title on this school's pages")
    add.add_argument("--widget-colour", dest="widget_colour", help="the widget's colour, #rrggbb")
    add.add_argument("--retention-days", dest="retention_days", type=int, help="default: TT_RETENTION_DAYS")


def _server_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of servers (1 or more)")
    return int(text)


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
    print(_purged(settings, _purge(settings)))
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
    cluster = commands.add_parser("cluster", help="several Rasa servers behind nginx, on PostgreSQL and Redis")
    cluster.add_argument("--servers", type=_server_count, default=2, help="how many Rasa servers (default 2)")
    commands.add_parser("shell", help="chat in the terminal")
    commands.add_parser("model", help="print the path of the model for the current inputs")
    commands.add_parser(
        "purge", help="delete conversations older than TT_RETENTION_DAYS, or their school's (run daily)"
    )
    _add_schools_parser(commands)
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
            schools = (
                f", {len(load_registry(settings.schools_file).schools)} school(s)" if settings.schools_file else ""
            )
            print(f"Settings and content are valid (region {settings.region}{schools}).")
            return 0
        if args.command == "build":
            _build()
            return 0
        if args.command == "train":
            print(_train())
            return 0
        if args.command == "run":
            return _run(settings, train=not args.no_train)
        if args.command == "cluster":
            from bot.cluster import run_cluster

            _stop_on_signals()
            return run_cluster(args.servers, purge=lambda cluster: _purged(cluster, _purge(cluster)))
        if args.command == "purge":
            print(_purged(settings, _purge(settings)))
            return 0
        if args.command == "schools":
            return _schools(settings, args)
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
