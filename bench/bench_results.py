"""What one system measured, summarised from the raw turns."""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench_client import Turn, error_kinds, percentile

EDGE_WINDOW = 10  # turns at each end of the long conversation whose median is compared


@dataclass(frozen=True)
class LongResult:
    """One conversation of many sequential turns."""

    turns: int
    window: int  # the median of the last `window` turns is compared with the median of the first `window`
    p50_s: float
    p95_s: float
    first_s: float
    last_s: float
    early_median_s: float
    late_median_s: float
    late_ratio: float  # late_median_s / early_median_s
    single_ratio: float  # last_s / first_s
    errors: int
    error_kinds: dict[str, int]


@dataclass(frozen=True)
class LoadResult:
    """Many conversations at once."""

    conversations: int
    turns: int
    wall_s: float
    msgs_per_s: float
    p50_s: float
    p95_s: float
    errors: int
    error_kinds: dict[str, int]
    lost_turns: int


@dataclass(frozen=True)
class SystemResult:
    name: str
    prepare_s: float  # training (not part of any measurement)
    cold_start_s: float
    long: LongResult
    load: LoadResult
    peak_rss_mb: float
    stop_s: float
    stop_forced: bool


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("inf")


def summarise_long(turns: Sequence[Turn]) -> LongResult:
    latencies = [turn.latency_s for turn in turns]
    window = max(1, min(EDGE_WINDOW, len(latencies) // 2))
    early = statistics.median(latencies[:window])
    late = statistics.median(latencies[-window:])
    kinds = error_kinds(turns)
    return LongResult(
        turns=len(latencies),
        window=window,
        p50_s=percentile(latencies, 0.5),
        p95_s=percentile(latencies, 0.95),
        first_s=latencies[0],
        last_s=latencies[-1],
        early_median_s=early,
        late_median_s=late,
        late_ratio=_ratio(late, early),
        single_ratio=_ratio(latencies[-1], latencies[0]),
        errors=sum(kinds.values()),
        error_kinds=kinds,
    )


def summarise_load(turns: Sequence[Turn], conversations: int, wall_s: float, lost_turns: int) -> LoadResult:
    latencies = [turn.latency_s for turn in turns]
    kinds = error_kinds(turns)
    return LoadResult(
        conversations=conversations,
        turns=len(turns) // conversations,
        wall_s=wall_s,
        msgs_per_s=len(turns) / wall_s,
        p50_s=percentile(latencies, 0.5),
        p95_s=percentile(latencies, 0.95),
        errors=sum(kinds.values()),
        error_kinds=kinds,
        lost_turns=lost_turns,
    )


def lost_turns(database: Path, senders: Sequence[str], turns: int) -> int:
    """Sum over `senders` of the user turns missing from the `events` table of a stopped system."""
    if not database.exists():
        return turns * len(senders)
    placeholders = ",".join("?" for _ in senders)
    query = (
        f"SELECT sender_id, COUNT(*) FROM events WHERE type_name = 'user' AND sender_id IN ({placeholders}) "
        "GROUP BY sender_id"
    )
    with closing(sqlite3.connect(database)) as connection:
        counts: dict[str, int] = dict(connection.execute(query, list(senders)).fetchall())
    return sum(max(0, turns - counts.get(sender, 0)) for sender in senders)
