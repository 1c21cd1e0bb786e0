"""`make eval`: how well the assistant understands people, and the shared development cases.

1. `rasa test nlu` 5-fold cross-validation on data/nlu (macro F1 per intent);
2. the held-out NLU file tests/nlu, never trained on, against the current model;
3. `../shared/eval/run_cases.py` against a freshly started assistant: pass rate per category,
   danger recall and false-emergency rate.
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


OWN_CASES = {
    "shadow cases": PROJECT_DIR / "tests" / "eval" / "shadow_cases.yml",
    "probe cases": PROJECT_DIR / "tests" / "eval" / "probe_cases.yml",
}


def run_cases(shared: Path) -> bool:
    """Start the assistant on free ports and score the shared development cases against it,
    then our own shadow and probe cases: other messages of the same kinds, written without
    seeing the training data, to show whether the assistant generalises."""
    script = shared / "eval" / "run_cases.py"
    if not script.exists():
        print(f"No scorer at {script}: pass the shared folder with --shared.", file=sys.stderr)
        return False
    results = {}
    with local_servers() as servers:
        for name, cases in {"development cases": None, **OWN_CASES}.items():
            out = RESULTS_DIR / name.split()[0]
            command = [sys.executable, str(script), "--url", servers.rest_url, "--out", str(out)]
            command += ["--cases", str(cases)] if cases else []
            print(f"\n{name} ({cases or script.parent / 'dev_cases.yml'}):", flush=True)
            results[name] = subprocess.run(command, check=False).returncode == 0
            print(f"Replies and failures: {out}")
    return results["development cases"]  # our own cases inform; the goals are on the shared cases


def evaluate(shared: Path, cases_only: bool = False) -> int:
    results = [] if cases_only else [cross_validation(), held_out()]
    results.append(run_cases(shared))
    return 0 if all(results) else 1
