"""Whole-command times of the CLI on the embedded store, as a user sees them (issue 18
item 1: "any CLI command at 100k answers in < 1 s end to end").

Each command runs in a fresh process (``python -c 'pathways console script'``), timed from
start to exit, output discarded; medians of ``--repeat`` runs.  Modes:

- ``alone``: the CLI on its own (opens graph.json, answers, exits);
- ``kept open``: with ``pathways keep-open`` running (started here, stopped after);
- ``kept open, first once prepared``: each command's first call once a new keep-open has
  said it prepared the version (its Warmer done: what a command long after a load finds);
- ``before``: ``--before-src DIR`` (an older checkout's source, e.g. from ``git archive``)
  run alone, for a before/after table on the same machine in the same run.

    .venv/bin/python benchmarks/cli_commands.py /path/to/home [--before-src DIR] [--repeat 3]

The home holds graph.json (``benchmarks/generate.py`` then ``pathways load``); the ids
default to those generate.py makes.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT_NOW = "from pathways.kept_open import main; main()"
SCRIPT_BEFORE = "from pathways.cli import main; main()"


def commands(worker: str, activity: str) -> list[list[str]]:
    return [["stats"], ["show", activity], ["paths", "--from", worker],
            ["paths", "--from", worker, "--need", "loneliness"], ["list", "organisations"]]


def timed_run(script: str, args: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd="/",
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr[-500:]}")
    return seconds


def listening(sock: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(sock))
        except OSError:
            return False
        return True


def _says(log, words: str) -> bool:
    """Whether the file ``log`` (being written by another process) holds ``words`` yet."""
    log.seek(0)
    return words in log.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--before-src", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", default="person-lw-0")
    parser.add_argument("--activity", default="act-0")
    args = parser.parse_args()
    env = {**os.environ, "PATHWAYS_HOME": str(args.home), "PATHWAYS_STORE": "embedded"}
    modes: list[tuple[str, str, dict[str, str]]] = []
    if args.before_src:
        modes.append(("before", SCRIPT_BEFORE, {**env, "PYTHONPATH": str(args.before_src)}))
    modes.append(("alone", SCRIPT_NOW, env))
    results: dict[str, dict[str, float]] = {}
    cmds = commands(args.worker, args.activity)
    for label, script, mode_env in modes:
        results[label] = {" ".join(c): statistics.median(
            timed_run(script, c, mode_env) for _ in range(args.repeat)) for c in cmds}
    began = time.perf_counter()
    keeper = subprocess.Popen([sys.executable, "-c", SCRIPT_NOW, "keep-open"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = args.home / "graph.json.sock"
    try:
        while not listening(sock):
            if keeper.poll() is not None:
                raise SystemExit("keep-open stopped")
            time.sleep(0.1)
        opened = time.perf_counter() - began
        first = {" ".join(c): timed_run(SCRIPT_NOW, c, env) for c in cmds}
        results["kept open, first"] = first
        results["kept open"] = {" ".join(c): statistics.median(
            timed_run(SCRIPT_NOW, c, env) for _ in range(args.repeat)) for c in cmds}
    finally:
        keeper.send_signal(signal.SIGTERM)
        keeper.wait(timeout=60)
    # Again, each command's first call once keep-open has said it prepared this version
    # (its Warmer: what a command after a load long ago finds), from a new keep-open.
    with tempfile.TemporaryFile("w+") as said:
        keeper = subprocess.Popen([sys.executable, "-c", SCRIPT_NOW, "keep-open"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=said)
        began = time.perf_counter()
        try:
            while not _says(said, "Prepared"):
                if keeper.poll() is not None:
                    raise SystemExit("keep-open stopped")
                time.sleep(0.1)
            prepared = time.perf_counter() - began
            results["kept open, first once prepared"] = {
                " ".join(c): timed_run(SCRIPT_NOW, c, env) for c in cmds}
        finally:
            keeper.send_signal(signal.SIGTERM)
            keeper.wait(timeout=60)
    labels = list(results)
    print(f"home {args.home}; medians of {args.repeat} fresh processes; keep-open ready in"
          f" {opened:.1f} s, prepared (its Warmer done) {prepared:.1f} s after starting")
    print("| command | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for c in cmds:
        key = " ".join(c)
        print(f"| `pathways {key}` | " + " | ".join(f"{results[m][key]:.2f} s" for m in labels)
              + " |")


if __name__ == "__main__":
    main()
