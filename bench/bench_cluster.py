"""Benchmark the cluster: 1 and then 2 Rasa servers behind nginx, with 1,000 schools registered.

Run from the project root, after the model is trained (`make bench-cluster` does exactly this):

    .venv/bin/python bench/bench_cluster.py [--servers 1,2] [--concurrency 100] [--turns 10] [--schools 1000]

For each number of servers, a cluster is started as `make cluster` starts it (bot/cluster.py:
nginx, the Rasa servers, the action server, a fresh PostgreSQL database and the local Redis) with
a school registry of `--schools` schools (TT_SCHOOLS_FILE). After one warm-up conversation,
`--concurrency` conversations of `--turns` turns talk at once through nginx, each from the page
of a school of its own (the Origin header decides the school). Measured: msg/s over the wall
time, p50 and p95 per message, errors (non-200, empty reply, exception or 60 s timeout); then
the 2-server over 1-server ratios. Not a test: the numbers depend on the machine's CPUs (the
servers share them here). The table is printed and written to bench/out/cluster.md and
bench/out/cluster.json. Exit 1 only when a cluster cannot be measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_client import REQUEST_TIMEOUT_S, Turn, _reply_error, new_sender, percentile

from bot.cluster import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, local_cluster, temporary_database
from bot.launcher import NotReady
from bot.local_servers import local_environ
from bot.schools import load_registry

OUT_DIR = Path(__file__).resolve().parent / "out"
NATIONS = ("england", "wales", "scotland", "northern_ireland")
# A parent's conversation about talking to a child, with follow-ups: the same route on every run.
MESSAGES = (
    "hello",
    "how do i talk to my daughter about her phone",
    "she's 12",
    "what apps should i check",
    "how do i set up parental controls",
    "what are the warning signs of grooming",
    "what do i say if she tells me something happened",
    "should i ban snapchat",
    "is roblox safe",
    "thank you",
)
_T0 = time.perf_counter()


def progress(text: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f} s] {text}", flush=True)


def school_origin(number: int) -> str:
    return f"https://school-{number:04d}.example.sch.uk"


def write_registry(path: Path, schools: int) -> None:
    entries = [
        {
            "id": f"school-{number:04d}",
            "name": f"School {number:04d}",
            "nation": NATIONS[number % len(NATIONS)],
            "dsl_contact": f"the safeguarding lead of school {number:04d}, office 1",
            "origins": [school_origin(number)],
        }
        for number in range(schools)
    ]
    path.write_text(yaml.safe_dump({"schools": entries}, sort_keys=False))
    registry = load_registry(path)  # refuses a bad entry, as `python -m bot schools check` does
    assert len(registry.by_id) == schools


@dataclass(frozen=True)
class Result:
    servers: int
    conversations: int
    turns: int
    msg_per_s: float
    p50_s: float
    p95_s: float
    errors: int
    wall_s: float


async def send(session: aiohttp.ClientSession, url: str, origin: str, sender: str, text: str) -> Turn:
    start = time.perf_counter()
    try:
        async with session.post(url, json={"sender": sender, "message": text}, headers={"Origin": origin}) as response:
            error = _reply_error(response.status, await response.read())
    except TimeoutError:
        error = f"timeout after {REQUEST_TIMEOUT_S:.0f} s"
    except aiohttp.ClientError as exc:
        error = type(exc).__name__
    return Turn(text, time.perf_counter() - start, error)


async def conversations(url: str, origins: list[str], turns: int) -> tuple[list[Turn], float]:
    connector = aiohttp.TCPConnector(limit=len(origins))
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def converse(origin: str) -> list[Turn]:
            sender = new_sender()
            return [await send(session, url, origin, sender, MESSAGES[i % len(MESSAGES)]) for i in range(turns)]

        start = time.perf_counter()
        results = await asyncio.gather(*(converse(origin) for origin in origins))
        return [turn for conversation in results for turn in conversation], time.perf_counter() - start


def measure(servers: int, registry: Path, args: argparse.Namespace) -> Result:
    with temporary_database(DEFAULT_DATABASE_URL) as database_url:
        environ = local_environ(
            database_url,
            TT_REDIS_URL=DEFAULT_REDIS_URL,
            TT_SCHOOLS_FILE=str(registry),
            TT_RATE_LIMIT_PER_MINUTE="100000",  # the benchmark's one client address is not a flood
        )
        progress(f"{servers} server(s): starting the cluster ...")
        with local_cluster(servers, environ) as cluster:
            progress(f"{servers} server(s): ready; warming up")
            asyncio.run(conversations(cluster.rest_url, [school_origin(0)], len(MESSAGES)))
            # Conversations spread over the registry: every tenth school.
            step = max(1, args.schools // args.concurrency)
            origins = [school_origin((n * step) % args.schools) for n in range(args.concurrency)]
            progress(f"{servers} server(s): {args.concurrency} conversations x {args.turns} turns at once ...")
            turns, wall_s = asyncio.run(conversations(cluster.rest_url, origins, args.turns))
    latencies = [turn.latency_s for turn in turns]
    result = Result(
        servers=servers,
        conversations=args.concurrency,
        turns=args.turns,
        msg_per_s=len(turns) / wall_s,
        p50_s=percentile(latencies, 0.50),
        p95_s=percentile(latencies, 0.95),
        errors=sum(1 for turn in turns if turn.error),
        wall_s=wall_s,
    )
    progress(f"{servers} server(s): {result.msg_per_s:.1f} msg/s, p95 {result.p95_s:.3f} s, errors {result.errors}")
    return result


def table(results: list[Result], schools: int) -> str:
    lines = [
        f"Cluster benchmark: {results[0].conversations} conversations x {results[0].turns} turns at once "
        f"through nginx, {schools} schools registered",
        "",
        "| Rasa servers | msg/s | p50 | p95 | errors |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.servers} | {r.msg_per_s:.1f} | {r.p50_s:.3f} s | {r.p95_s:.3f} s | {r.errors} |" for r in results]
    by_servers = {r.servers: r for r in results}
    if 1 in by_servers and 2 in by_servers:
        one, two = by_servers[1], by_servers[2]
        lines += [
            "",
            f"2 servers / 1 server: throughput {two.msg_per_s / one.msg_per_s:.2f}, p95 {two.p95_s / one.p95_s:.2f}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/bench_cluster.py", description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="1,2", help="numbers of Rasa servers, in order (default 1,2)")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--schools", type=int, default=1000)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="talk-together-bench-cluster-") as tmp:
        registry = Path(tmp) / "schools.yml"
        write_registry(registry, args.schools)
        progress(f"registry of {args.schools} schools written and checked")
        for servers in (int(n) for n in args.servers.split(",")):
            try:
                results.append(measure(servers, registry, args))
            except (NotReady, OSError, RuntimeError) as error:
                print(f"bench-cluster: cannot measure {servers} server(s): {error}", file=sys.stderr)
                return 1
    text = table(results, args.schools)
    print("\n" + text)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "cluster.md").write_text(text + "\n")
    (OUT_DIR / "cluster.json").write_text(json.dumps([asdict(r) for r in results], indent=2))
    print(f"Wrote {OUT_DIR / 'cluster.md'} and cluster.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
