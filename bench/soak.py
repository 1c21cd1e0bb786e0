"""Soak test: many conversations at once on SQLite and on PostgreSQL, nothing may be lost.

Run from the project root after the model is trained (`make soak`; `make bench` runs it too):

    .venv/bin/python bench/soak.py [--conversations 100] [--turns 20] [--stores sqlite,postgresql]
                                   [--postgres-url postgresql://postgres@127.0.0.1:5432/test]

For each store the assistant is started on free loopback ports (a fresh SQLite file, or the
PostgreSQL server at --postgres-url; without one, use --stores sqlite), all conversations talk at once,
each sending its turns one after another, then the servers stop and every conversation's user
turns are counted in the store. Goal: zero errors and zero lost turns; p95 is reported.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from bench_client import concurrent_conversations, new_sender
from bench_results import LoadResult, summarise_load
from bench_systems import OURS_MESSAGES

from bot.local_servers import local_environ, local_servers
from bot.tracker_store import postgres_problem

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def lost_turns(database_url: str, senders: Sequence[str], turns: int) -> int:
    """User turns missing from the store, counted per conversation."""
    engine = sa.create_engine(database_url)
    query = sa.text(
        "SELECT sender_id, COUNT(*) FROM events WHERE type_name = 'user' AND sender_id IN :senders GROUP BY sender_id"
    ).bindparams(sa.bindparam("senders", expanding=True))
    with engine.connect() as connection:
        counts = dict(connection.execute(query, {"senders": list(senders)}).fetchall())
    engine.dispose()
    return sum(max(0, turns - int(counts.get(sender, 0))) for sender in senders)


def soak(database_url: str, conversations: int, turns: int) -> LoadResult:
    senders = [new_sender() for _ in range(conversations)]
    with local_servers(local_environ(database_url)) as servers:
        all_turns, wall_s = concurrent_conversations(servers.rest_url, OURS_MESSAGES, senders, turns)
    return summarise_load(all_turns, conversations, wall_s, lost_turns(database_url, senders, turns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args(argv)
    stores = args.stores.split(",")
    # Checked before any store is soaked: otherwise the servers die at start-up minutes in.
    problem = postgres_problem(args.postgres_url) if "postgresql" in stores else None
    if problem:
        print(
            f"soak: PostgreSQL is not answering at {sa.engine.make_url(args.postgres_url)!r} ({problem}); "
            "start it, pass --postgres-url, or run with --stores sqlite",
            file=sys.stderr,
        )
        return 2
    failed = False
    print(f"{'store':11s} {'msgs/s':>7s} {'p50 s':>6s} {'p95 s':>6s} {'errors':>6s} {'lost':>5s}")
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'soak.db'}", "postgresql": args.postgres_url}
        for store in stores:
            result = soak(urls[store], args.conversations, args.turns)
            failed |= bool(result.errors or result.lost_turns)
            print(
                f"{store:11s} {result.msgs_per_s:7.1f} {result.p50_s:6.3f} {result.p95_s:6.3f} "
                f"{result.errors:6d} {result.lost_turns:5d}  ({args.conversations} conversations x {args.turns} turns)",
                flush=True,
            )
            if result.error_kinds:
                print(f"  errors: {result.error_kinds}")
    print("soak:", "FAIL" if failed else "PASS (zero errors, zero lost turns)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
