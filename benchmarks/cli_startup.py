"""How long `framestance --help` takes, next to peers measured in the same run.

Goal: under 0.5 s. Peers: the interpreter starting and doing nothing (the floor), the Label Studio SDK's
own command-line tools (`label-studio-converter --help`, `label-studio-sdk --help`), and a Python that
imports up front what framestance imports lazily (what `--help` would cost without lazy imports).

    .venv/bin/python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
GOAL = 0.5


def timed(command: list[str], runs: int) -> list[float]:
    subprocess.run(command, capture_output=True, check=True)  # warm the file cache once
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    python = [sys.executable]
    cases = {
        "framestance --help": [str(BIN / "framestance"), "--help"],
        "framestance tasks --help": [str(BIN / "framestance"), "tasks", "--help"],
        "python -c pass (floor)": [*python, "-c", "pass"],
        "label-studio-converter --help": [str(BIN / "label-studio-converter"), "--help"],
        "label-studio-sdk --help": [str(BIN / "label-studio-sdk"), "--help"],
        "eager imports (sdk, sklearn, trafilatura, typer)": [
            *python,
            "-c",
            "import label_studio_sdk, label_studio_sdk.label_interface, sklearn.linear_model, trafilatura, typer",
        ],
    }
    results = {}
    for name, command in cases.items():
        if not shutil.which(command[0]):
            print(f"{name}: not installed, skipped")
            continue
        results[name] = statistics.median(timed(command, args.runs))
    ours = results["framestance --help"]
    print(f"median of {args.runs} runs each, same machine, same run\n")
    print(f"{'command':52} {'seconds':>8} {'framestance/this':>17}")
    for name, seconds in results.items():
        print(f"{name:52} {seconds:8.3f} {ours / seconds:17.2f}")
    verdict = "meets" if ours < GOAL else "MISSES"
    print(f"\nframestance --help: {ours:.3f} s, {verdict} the goal of {GOAL} s")


if __name__ == "__main__":
    main()
