"""The comparison table (ours vs stock, with the goals) as text, Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_results import SystemResult

RESULT_TEXT = {True: "PASS", False: "FAIL", None: "n/a"}
_HEADER = ("Metric", "Ours", "Stock", "Ours/Stock", "Goal (ours)", "Result")


@dataclass(frozen=True)
class Goal:
    text: str
    on_ratio: bool  # the test applies to ours/stock, otherwise to ours alone
    test: Callable[[float], bool]

    def verdict(self, ours: float | None, ratio: float | None) -> bool | None:
        value = ratio if self.on_ratio else ours
        return None if value is None else self.test(value)


@dataclass(frozen=True)
class Metric:
    label: str
    value: Callable[[SystemResult], float]
    digits: int
    goal: Goal | None = None


@dataclass(frozen=True)
class Row:
    metric: Metric
    ours: float | None
    stock: float | None

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.stock is None or self.stock == 0:
            return None
        return self.ours / self.stock

    @property
    def passed(self) -> bool | None:
        return None if self.metric.goal is None else self.metric.goal.verdict(self.ours, self.ratio)

    def cells(self) -> list[str]:
        goal = self.metric.goal
        return [
            self.metric.label,
            _number(self.ours, self.metric.digits),
            _number(self.stock, self.metric.digits),
            _number(self.ratio, 2),
            goal.text if goal else "",
            RESULT_TEXT[self.passed] if goal else "",
        ]

    def as_dict(self) -> dict[str, Any]:
        goal = self.metric.goal
        return {
            "metric": self.metric.label,
            "ours": self.ours,
            "stock": self.stock,
            "ratio_ours_stock": self.ratio,
            "goal": goal.text if goal else None,
            "result": RESULT_TEXT[self.passed] if goal else None,
        }


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _metrics(sample: SystemResult) -> list[Metric]:
    load, long = sample.load, sample.long
    many = f"{load.conversations} x {load.turns} concurrent"
    n, w = long.turns, long.window
    late, early = f"median of turns {n - w + 1}-{n}", f"median of turns 1-{w}"
    return [
        Metric("Cold start: launch -> first answer (s)", lambda r: r.cold_start_s, 2,
               Goal("ours/stock <= 0.6", True, lambda v: v <= 0.6)),
        Metric(f"{many}: throughput (msg/s)", lambda r: r.load.msgs_per_s, 1,
               Goal("ours/stock >= 1.5", True, lambda v: v >= 1.5)),
        Metric(f"{many}: p50 latency (s)", lambda r: r.load.p50_s, 3),
        Metric(f"{many}: p95 latency (s)", lambda r: r.load.p95_s, 3, Goal("< 1.5 s", False, lambda v: v < 1.5)),
        Metric(f"{many}: errors", lambda r: r.load.errors, 0, Goal("= 0", False, lambda v: v == 0)),
        Metric(f"{many}: lost turns", lambda r: r.load.lost_turns, 0, Goal("= 0", False, lambda v: v == 0)),
        Metric(f"{n}-turn conversation: p50 latency (s)", lambda r: r.long.p50_s, 3),
        Metric(f"{n}-turn conversation: p95 latency (s)", lambda r: r.long.p95_s, 3),
        Metric(f"{n}-turn conversation: errors", lambda r: r.long.errors, 0),
        Metric("Turn-1 latency, single turn (s)", lambda r: r.long.first_s, 3),
        Metric(f"Turn-{n} latency, single turn (s)", lambda r: r.long.last_s, 3),
        Metric(f"Turn-{n}/turn-1, single turns", lambda r: r.long.single_ratio, 2),
        Metric(f"Turn-1 latency, {early} (s)", lambda r: r.long.early_median_s, 3),
        Metric(f"Turn-{n} latency, {late} (s)", lambda r: r.long.late_median_s, 3),
        Metric(f"Turn-{n}/turn-1, medians {n - w + 1}-{n} / 1-{w}", lambda r: r.long.late_ratio, 2,
               Goal("<= 1.3", False, lambda v: v <= 1.3)),
        Metric("Peak RSS of the process tree (MB)", lambda r: r.peak_rss_mb, 0,
               Goal("< 1500 MB", False, lambda v: v < 1500)),
    ]  # fmt: skip


def build_rows(results: dict[str, SystemResult]) -> list[Row]:
    ours, stock = results.get("ours"), results.get("stock")
    sample = ours or stock
    if sample is None:
        return []
    return [
        Row(metric, metric.value(ours) if ours else None, metric.value(stock) if stock else None)
        for metric in _metrics(sample)
    ]


def goal_summary(rows: Sequence[Row]) -> dict[str, int]:
    verdicts = [RESULT_TEXT[row.passed] for row in rows if row.metric.goal is not None]
    return {text: verdicts.count(text) for text in RESULT_TEXT.values()}


def notes(results: dict[str, SystemResult]) -> list[str]:
    """What the table does not show: preparation and stop times, how the turn-N latency is taken, errors."""
    lines = []
    sample = next(iter(results.values()), None)
    if sample is not None:
        n, w = sample.long.turns, sample.long.window
        lines.append(
            f"Turn-{n} vs turn-1 latency is the median of turns {n - w + 1}-{n} over the median of turns 1-{w} "
            "(robust to single slow turns); the single-turn values are shown too."
        )
    lines.append("Ratios are ours/stock. Latencies are per message, over all requests (errors included).")
    for name, result in results.items():
        lines.append(
            f"{name}: model preparation {result.prepare_s:.1f} s (not in cold start); "
            f"stopped in {result.stop_s:.1f} s{' (had to kill processes)' if result.stop_forced else ''}."
        )
        for phase, kinds in (("concurrent", result.load.error_kinds), ("long conversation", result.long.error_kinds)):
            if kinds:
                lines.append(f"{name}: {phase} errors: {', '.join(f'{k} x{v}' for k, v in kinds.items())}.")
    return lines


def text_table(rows: Sequence[Row]) -> str:
    table = [list(_HEADER), *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in table) for column in range(len(_HEADER))]

    def line(cells: Sequence[str]) -> str:
        label, *values = cells
        padded = [value.rjust(width) for value, width in zip(values, widths[1:], strict=True)]
        return "  ".join([label.ljust(widths[0]), *padded])

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(table[0]), rule, *(line(cells) for cells in table[1:])])


def markdown(rows: Sequence[Row], note_lines: Sequence[str]) -> str:
    summary = goal_summary(rows)
    lines = [
        "# Talk Together vs stock `rasa init` bot",
        "",
        f"Generated {_now()}. Goals: {summary['PASS']} pass, {summary['FAIL']} fail, {summary['n/a']} not evaluated.",
        "",
        "| " + " | ".join(_HEADER) + " |",
        "|" + "|".join(["---", *(["---:"] * (len(_HEADER) - 1))]) + "|",
        *("| " + " | ".join(row.cells()) + " |" for row in rows),
        "",
        *(f"- {note}" for note in note_lines),
    ]
    return "\n".join(lines) + "\n"


def write_outputs(
    out_dir: Path, rows: Sequence[Row], results: dict[str, SystemResult], options: dict[str, Any]
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    note_lines = notes(results)
    document = {
        "generated_at": _now(),
        "options": options,
        "goals": goal_summary(rows),
        "rows": [row.as_dict() for row in rows],
        "notes": note_lines,
        "systems": {name: asdict(result) for name, result in results.items()},
    }
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    md_path.write_text(markdown(rows, note_lines))
    return [json_path, md_path]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
