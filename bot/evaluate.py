"""`make eval`: how well the assistant understands people, and the shared development cases.

1. `rasa test nlu` 5-fold cross-validation on data/nlu (macro F1 per intent);
2. the held-out NLU file tests/nlu, never trained on, against the current model;
3. `../shared/eval/run_cases.py` against a freshly started assistant, on the shared cases and
   conversations and on ours (tests/eval): pass rate per category, danger recall and
   false-emergency rate;
4. the safety net on and off over every danger and calm message we have (bot/safety_eval.py):
   it must never do worse than the classifier alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.launcher import child_env
from bot.local_servers import local_servers
from bot.settings import PROJECT_DIR, VAR_DIR
from bot.training import model_path

RESULTS_DIR = VAR_DIR / "results"
_GOAL_F1 = 0.90


def _rasa_nlu_test(out: Path, *arguments: str) -> dict:
    command = [sys.executable, "-m", "rasa", "test", "nlu", "--config", "config.yml", "--out", str(out), *arguments]
    subprocess.run(command, cwd=PROJECT_DIR, env=child_env(), check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "intent_report.json").read_text())


def _summarise(name: str, report: dict) -> bool:
    macro = report["macro avg"]["f1-score"]
    weak = {k: v["f1-score"] for k, v in report.items() if isinstance(v, dict) and "support" in v and k != k.upper()}
    weak = {k: f for k, f in weak.items() if f < _GOAL_F1 and not k.endswith(" avg")}
    print(f"{name}: intent macro F1 {macro:.3f} (goal {_GOAL_F1:.2f})")
    for intent, f1 in sorted(weak.items(), key=lambda kv: kv[1]):
        print(f"  below goal: {intent} {f1:.3f}")
    return bool(macro >= _GOAL_F1)


def cross_validation() -> bool:
    report = _rasa_nlu_test(RESULTS_DIR / "cross_validation", "--nlu", "data/nlu", "--cross-validation", "--folds", "5")
    return _summarise("5-fold cross-validation", report)


def held_out() -> bool:
    report = _rasa_nlu_test(RESULTS_DIR / "held_out", "--nlu", "tests/nlu", "--model", str(model_path()))
    return _summarise("held-out tests/nlu", report)


def case_files(shared: Path) -> dict[str, Path]:
    """The shared development cases and conversations, then every case file of our own in
    tests/eval: shadow and probe cases, probe conversations by round."""
    files = {
        "development cases": shared / "eval" / "dev_cases.yml",
        "development conversations": shared / "eval" / "dev_conversations.yml",
    }
    files |= {path.stem.replace("_", " "): path for path in sorted((PROJECT_DIR / "tests" / "eval").glob("*.yml"))}
    return files


def run_cases(shared: Path, only: tuple[str, ...] = ()) -> bool:
    """Start the assistant on free ports and score the case files against it (`only`: those
    whose name contains one of these words). The goals are on the shared files; ours show
    whether the assistant generalises to messages written without seeing the training data."""
    script = shared / "eval" / "run_cases.py"
    if not script.exists():
        print(f"No scorer at {script}: pass the shared folder with --shared.", file=sys.stderr)
        return False
    results = {}
    files = {name: path for name, path in case_files(shared).items() if not only or any(w in name for w in only)}
    with local_servers() as servers:
        for name, cases in files.items():
            out = RESULTS_DIR / name.replace(" ", "_")
            command = [sys.executable, str(script), "--url", servers.rest_url, "--out", str(out), "--cases", str(cases)]
            print(f"\n{name} ({cases}):", flush=True)
            results[name] = subprocess.run(command, check=False).returncode == 0
            print(f"Replies and failures: {out}")
    return all(ok for name, ok in results.items() if name.startswith("development"))


def safety_net_both_ways(shared: Path) -> bool:
    from bot.safety_eval import measure, report

    return report(measure(model_path(), shared))


def evaluate(shared: Path, cases_only: bool = False, only: tuple[str, ...] = ()) -> int:
    results = [] if cases_only or only else [cross_validation(), held_out()]
    results.append(run_cases(shared, only))
    if not only:
        results.append(safety_net_both_ways(shared))
    return 0 if all(results) else 1
