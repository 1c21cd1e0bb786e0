"""Measure the safety net both ways: danger recall and false emergencies, with the net on and off.

Every message we have a verdict for goes through the trained model's full NLU pipeline twice:
once as it runs, once with the safety net passing messages through untouched (the classifier,
the fallback classifier and the language guard alone). A message is *danger* when it is labelled
`report_danger` (training data, held-out NLU, test stories) or when a case expects the emergency
number on it; it is *calm* when it has another label, or a case forbids the emergency number
first on it. Recall is the share of danger messages routed to `report_danger`; false emergency
the share of calm ones routed there. The net must never do worse than the classifier alone.

`python -m bot safety-eval` prints the table; `make eval` runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_DIR

DANGER = "report_danger"
_EXAMPLE = re.compile(r"^\s*-\s+(.*)$")
_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


@dataclass
class Sample:
    text: str
    danger: bool


@dataclass
class Tally:
    danger: int = 0
    calm: int = 0
    recalled: int = 0
    false_emergency: int = 0
    missed: list[str] = field(default_factory=list)
    alarmed: list[str] = field(default_factory=list)

    def add(self, sample: Sample, routed_to_danger: bool) -> None:
        if sample.danger:
            self.danger += 1
            self.recalled += routed_to_danger
            if not routed_to_danger:
                self.missed.append(sample.text)
        else:
            self.calm += 1
            self.false_emergency += routed_to_danger
            if routed_to_danger:
                self.alarmed.append(sample.text)

    @property
    def recall(self) -> float:
        return self.recalled / self.danger if self.danger else 1.0

    @property
    def false_rate(self) -> float:
        return self.false_emergency / self.calm if self.calm else 0.0


def _plain(text: str) -> str:
    """Training text without entity markup: "my [10](age) year old" -> "my 10 year old"."""
    return _ENTITY.sub(lambda m: m.group(1) or m.group(2), text).strip()


def nlu_samples(folder: Path) -> list[Sample]:
    samples = []
    for path in sorted(folder.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                if match := _EXAMPLE.match(line):
                    samples.append(Sample(_plain(match.group(1)), block["intent"] == DANGER))
    return samples


def story_samples(folder: Path) -> list[Sample]:
    samples = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for story in [*data.get("stories", []), *data.get("rules", [])]:
            for step in story.get("steps", []):
                if "user" in step and not str(step["user"]).strip().startswith("/"):
                    samples.append(Sample(str(step["user"]).strip(), step.get("intent") == DANGER))
    return samples


def case_samples(path: Path) -> list[Sample]:
    """The turns a case file says something about: the last turn of a case that expects the
    emergency number is danger; every turn of a case that may not open with it is calm."""
    samples = []
    for category, block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
        for case in block.get("cases", []):
            case = {"turns": [case]} if isinstance(case, str) else case
            expected = case.get("expect", block.get("expect", []))
            expected_any = case.get("expect_any", block.get("expect_any", []))
            avoid_all = block.get("avoid_extra", []) + case.get("avoid", [])
            avoid_last = block.get("avoid_last", []) + case.get("avoid_last", [])
            turns = [str(t) for t in case["turns"]]
            if category == "danger" or "emergency" in expected or ["emergency"] in expected_any:
                samples.append(Sample(turns[-1], True))
            elif "emergency_first" in avoid_all:
                samples += [Sample(turn, False) for turn in turns]
            elif "emergency_first" in avoid_last:
                samples.append(Sample(turns[-1], False))
    return samples


def sample_sets(shared: Path) -> dict[str, list[Sample]]:
    sets = {
        "training data (data/nlu)": nlu_samples(PROJECT_DIR / "data" / "nlu"),
        "held-out NLU (tests/nlu)": nlu_samples(PROJECT_DIR / "tests" / "nlu"),
        "test stories": story_samples(PROJECT_DIR / "tests" / "test_stories"),
    }
    case_files = {
        "shared dev cases": shared / "eval" / "dev_cases.yml",
        "shared dev conversations": shared / "eval" / "dev_conversations.yml",
        **{f"{p.stem.replace('_', ' ')}": p for p in sorted((PROJECT_DIR / "tests" / "eval").glob("*.yml"))},
    }
    for name, path in case_files.items():
        if path.exists():
            sets[name] = case_samples(path)
    return sets


@contextlib.contextmanager
def safety_net_off(agent: Any) -> Iterator[None]:
    """The loaded pipeline as it would run without the safety net: its graph node passes every
    message through. Rasa's graph nodes hold the component's function from when they were made,
    so it is swapped on the node itself (rasa 3.6's DaskGraphRunner and GraphNode)."""
    from bot.nlu.safety_net import SafetyNet

    nodes = [
        node
        for node in agent.processor.graph_runner._instantiated_nodes.values()
        if isinstance(node._component, SafetyNet) and node._fn_name == "process"
    ]
    if not nodes:
        raise RuntimeError("no safety net in the model's graph: nothing to switch off")
    for node in nodes:
        node._fn = lambda component, messages: messages
    try:
        yield
    finally:
        for node in nodes:
            node._fn = SafetyNet.process


async def _routes(agent: Any, texts: list[str]) -> list[bool]:
    return [((await agent.parse_message(text)).get("intent") or {}).get("name") == DANGER for text in texts]


def measure(model: Path, shared: Path) -> dict[str, tuple[Tally, Tally]]:
    """For every sample set: (with the net, without it)."""
    import logging

    import structlog
    from rasa.core.agent import Agent

    # Rasa logs every parse at debug level otherwise.
    logging.getLogger("rasa").setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))
    results = {}
    for name, samples in sample_sets(shared).items():
        texts = [s.text for s in samples]
        on = asyncio.run(_routes(agent, texts))
        with safety_net_off(agent):
            off = asyncio.run(_routes(agent, texts))
        with_net, without = Tally(), Tally()
        for sample, routed_on, routed_off in zip(samples, on, off, strict=True):
            with_net.add(sample, routed_on)
            without.add(sample, routed_off)
        results[name] = (with_net, without)
    return results


def report(results: dict[str, tuple[Tally, Tally]], details: bool = False) -> bool:
    """Print the table; True when the net is at least as good as the classifier on every set."""
    print("\nSafety net on and off (full NLU of the trained model)")
    header = f"{'set':28s} {'danger':>6s} {'calm':>5s}  {'recall on':>9s} {'off':>6s}  {'false-em on':>11s} {'off':>6s}"
    print(header)
    good = True
    for name, (on, off) in results.items():
        ok = on.recall >= off.recall and on.false_rate <= off.false_rate
        good &= ok
        print(
            f"{name:28s} {on.danger:6d} {on.calm:5d}  {on.recall:9.3f} {off.recall:6.3f}"
            f"  {on.false_rate:11.4f} {off.false_rate:6.4f}{'' if ok else '  WORSE THAN THE CLASSIFIER'}"
        )
        if details:
            for text in on.missed:
                print(f"    missed with the net: {text}")
            for text in on.alarmed:
                print(f"    false emergency with the net: {text}")
            for text in off.missed:
                print(f"    missed by the classifier alone: {text}")
            for text in off.alarmed:
                print(f"    false emergency by the classifier alone: {text}")
    print("The net is " + ("never worse than the classifier alone." if good else "WORSE on some set."))
    return good
