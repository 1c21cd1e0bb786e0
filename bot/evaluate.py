"""`make eval`: the shared development cases against a freshly started assistant."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.local_servers import local_servers
from bot.settings import VAR_DIR

RESULTS_DIR = VAR_DIR / "results" / "eval"


def run_cases(shared: Path) -> int:
    """Start the assistant on free ports, score `shared/eval` cases against it, return the scorer's code."""
    script = shared / "eval" / "run_cases.py"
    if not script.exists():
        print(f"No scorer at {script}: pass the shared folder with --shared.", file=sys.stderr)
        return 2
    with local_servers() as servers:
        command = [sys.executable, str(script), "--url", servers.rest_url, "--out", str(RESULTS_DIR)]
        code = subprocess.run(command, check=False).returncode
    print(f"Replies and failures: {RESULTS_DIR}")
    return code
