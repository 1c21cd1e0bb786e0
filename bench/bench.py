"""Benchmark Talk Together against a stock `rasa init` bot, on the REST channel, in one run.

Run from the project root, after the model is trained (`make bench` does exactly this):

    .venv/bin/python bench/bench.py [--only ours|stock] [--concurrency N] [--turns N] [--long-turns N]

Both systems are prepared first (ours: `python -m bot train`, a no-op when the model is up to date;
stock: `rasa init --no-prompt` in a temporary folder, which trains the default bot), then each is
started on free loopback ports with its own fresh SQLite tracker store and measured in this order:

1. cold start: launch -> first non-empty reply to "hello" (training is not included);
2. one conversation of 100 sequential turns: p50/p95 per message, turn-1 and turn-100 latency, and
   turn-100 vs turn-1 as the median of turns 91-100 over the median of turns 1-10;
3. 50 conversations x 10 turns, all at once: msg/s, p50/p95 per message, errors (non-200, empty
   reply, exception or 60 s timeout);
4. stop (SIGINT, then kill the tree after 20 s), then lost turns: user events missing from the
   `events` table of the system's SQLite file;
all the while the peak RSS of the launched process and all its descendants is sampled every 0.2 s.

Goals (for ours): cold start <= 0.6 x stock; msg/s >= 1.5 x stock; concurrent p95 < 1.5 s; zero
errors and zero lost turns; turn-100/turn-1 <= 1.3; peak RSS < 1500 MB.

The table is printed and written to bench/out/results.json and bench/out/results.md, server logs to
bench/out/logs/. The exit code is 0 whether goals pass or fail, 1 when a system cannot be measured.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench_client import cold_start, concurrent_conversations, long_conversation, new_sender
from bench_report import RESULT_TEXT, build_rows, goal_summary, notes, text_table, write_outputs
from bench_results import SystemResult, lost_turns, summarise_load, summarise_long
from bench_systems import OUT_DIR, PROJECT_DIR, SYSTEMS, BenchError, Launch, RunningSystem, launch_spec, prepare

_T0 = time.perf_counter()


def progress(text: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f} s] {text}", flush=True)


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw} is not a positive number")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/bench.py", description="Benchmark ours vs a stock rasa init bot.")
    parser.add_argument("--only", choices=SYSTEMS, help="measure one system (ratio goals are then not evaluated)")
    parser.add_argument("--concurrency", type=_positive, default=50, help="concurrent conversations (default 50)")
    parser.add_argument("--turns", type=_positive, default=10, help="turns per concurrent conversation (default 10)")
    parser.add_argument(
        "--long-turns", type=_positive, default=100, help="turns of the long conversation (default 100)"
    )
    return parser.parse_args(argv)


def prepare_all(names: list[str], tmp: Path) -> dict[str, float]:
    seconds = {}
    for name in names:
        progress(f"{name}: preparing the model ({'bot train' if name == 'ours' else 'rasa init --no-prompt'}) ...")
        seconds[name] = prepare(name, tmp)
        progress(f"{name}: model ready in {seconds[name]:.1f} s")
    return seconds


def measure(launch: Launch, prepare_s: float, args: argparse.Namespace) -> SystemResult:
    name, url = launch.name, launch.rest_url
    progress(f"{name}: launching `{' '.join(launch.command)}` (REST on port {launch.port}, log {launch.log})")
    system = RunningSystem(launch)
    try:
        cold_start_s = cold_start(url, system.started, system.alive)
        progress(f"{name}: first answer after {cold_start_s:.2f} s; one conversation of {args.long_turns} turns ...")
        long = summarise_long(long_conversation(url, launch.messages, args.long_turns))
        progress(f"{name}: p50 {long.p50_s:.3f} s, p95 {long.p95_s:.3f} s, late/early {long.late_ratio:.2f}")
        progress(f"{name}: {args.concurrency} conversations x {args.turns} turns at once ...")
        senders = [new_sender() for _ in range(args.concurrency)]
        load_turns, wall_s = concurrent_conversations(url, launch.messages, senders, args.turns)
        progress(f"{name}: {len(load_turns) / wall_s:.1f} msg/s over {wall_s:.1f} s; stopping ...")
    except (RuntimeError, OSError) as error:
        raise BenchError(f"{name}: {error}; see {launch.log}") from error
    finally:
        stopped, peak_rss_mb = system.stop()
    lost = lost_turns(launch.database, senders, args.turns)
    load = summarise_load(load_turns, args.concurrency, wall_s, lost)
    progress(f"{name}: stopped in {stopped.seconds:.1f} s; peak RSS {peak_rss_mb:.0f} MB; lost turns {lost}")
    return SystemResult(name, prepare_s, cold_start_s, long, load, peak_rss_mb, stopped.seconds, stopped.forced)


def report(results: dict[str, SystemResult], args: argparse.Namespace) -> None:
    rows = build_rows(results)
    print("\n" + text_table(rows) + "\n")
    for row in rows:
        if row.metric.goal is not None:
            print(f"  {RESULT_TEXT[row.passed]:4}  {row.metric.label}: {row.metric.goal.text}")
    summary = goal_summary(rows)
    print(f"\nGoals: {summary['PASS']} pass, {summary['FAIL']} fail, {summary['n/a']} not evaluated.")
    for line in notes(results):
        print(f"- {line}")
    for path in write_outputs(OUT_DIR, rows, results, vars(args)):
        print(f"Wrote {path.relative_to(PROJECT_DIR)}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [args.only] if args.only else list(SYSTEMS)
    results: dict[str, SystemResult] = {}
    code = 0
    with tempfile.TemporaryDirectory(prefix="talk-together-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            prepared = prepare_all(names, tmp)
            for name in names:
                results[name] = measure(launch_spec(name, tmp), prepared[name], args)
        except BenchError as error:
            print(f"bench: cannot measure: {error}", file=sys.stderr, flush=True)
            code = 1
    if results:
        report(results, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
