"""CPU time of one `match` from the command line: first run, cold process, and warm in-process.

    python bench/cold_match.py [--runs 5] [--model NAME]

Each figure is user + system CPU seconds of a child process (resource.getrusage), median of --runs:
- first: `python -m matcher match` on an empty store, so the bundled demo snapshot is imported and
  its 220 issue texts are embedded (what a learner's very first command costs);
- cold: the same command again in a new process, the demo store already embedded (process start
  to answer: interpreter, imports, model load, one profile, ranking, the table);
- warm: a second `MatchEngine.match` in a process that already answered once (the bot's case).
Wall seconds are printed beside them; on a shared machine they wander more than CPU time does.
--model sets MATCHER_MODEL for the children (default: the configured model).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATCH = ["match", "--skills", "Python, PyTorch, tokenizers", "--niche", "NLP"]

WARM = """
import sys, time
from matcher.cli.match import side_store
from matcher.engine import MatchEngine
from matcher.models import Profile
from matcher.settings import load_settings

engine = MatchEngine(side_store(sys.argv[1], "demo"), load_settings())
profile = Profile(skills="Python, PyTorch, tokenizers", niche="NLP")
engine.match(profile)
start = time.process_time()
engine.match(Profile(skills="C++, CUDA", niche="fast inference"))
print(time.process_time() - start)
"""


def child_cpu(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, stdout) of one child process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.stdout


def median_line(name: str, cpu: list[float], wall: list[float]) -> str:
    return (
        f"{name:6s} CPU {statistics.median(cpu):6.2f} s (min {min(cpu):.2f}, max {max(cpu):.2f})"
        f"   wall {statistics.median(wall):6.2f} s   runs {len(cpu)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default=None, help="MATCHER_MODEL for the children")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("MATCHER_DATABASE_URL", None)
    if args.model:
        env["MATCHER_MODEL"] = args.model
    command = [sys.executable, "-m", "matcher"]
    first_cpu, first_wall, cold_cpu, cold_wall, warm_cpu = [], [], [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            # the default store (a --db naming a file that does not exist yet is refused as a
            # likely typing mistake), in a data directory of this run's own
            home = {**env, "XDG_DATA_HOME": tmp}
            url = f"sqlite:///{tmp}/ml-first-issues/matcher.sqlite"
            cpu, wall, _ = child_cpu([*command, *MATCH], home)
            first_cpu.append(cpu)
            first_wall.append(wall)
            cpu, wall, _ = child_cpu([*command, *MATCH], home)
            cold_cpu.append(cpu)
            cold_wall.append(wall)
            _, _, out = child_cpu([sys.executable, "-c", WARM, url], env)
            warm_cpu.append(float(out.strip().splitlines()[-1]))
    print(f"model {env.get('MATCHER_MODEL', '(configured)')}, python {sys.version.split()[0]}")
    print(median_line("first", first_cpu, first_wall))
    print(median_line("cold", cold_cpu, cold_wall))
    print(f"warm   CPU {statistics.median(warm_cpu):6.3f} s (in-process, one more learner)")


if __name__ == "__main__":
    main()
