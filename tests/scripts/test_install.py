"""scripts/install.sh, run against a stand-in for .venv/bin/python that records each call: no
torch by default, which index torch comes from when EXTRAS names it, and that every step says
what it does (issue 12, cases 8 and 9; issue 21)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# Records its arguments; "answers" for the index probe as INDEX_ANSWERS says.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$CALLS"
case "$*" in
  *urlopen*) [ "$INDEX_ANSWERS" = yes ] ;;
  *"import torch"*) echo "torch 2.13.0+cpu, CUDA build: False" ;;
esac
"""


def run_install(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "install.sh", tmp_path / "scripts" / "install.sh")
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    calls = tmp_path / "calls.txt"
    clean = {k: v for k, v in os.environ.items() if k not in ("TORCH_INDEX_URL", "EXTRAS")}
    done = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "install.sh")],
        env={**clean, "CALLS": str(calls), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, calls.read_text().splitlines() if calls.exists() else []


def torch_call(calls: list[str]) -> str:
    return next(c for c in calls if "torch==2.13.0" in c)


def steps_of(done: subprocess.CompletedProcess) -> list[str]:
    return [line[4:] for line in done.stdout.splitlines() if line.startswith("==> ")]


def test_the_default_install_is_the_project_alone_without_torch(tmp_path):
    done, calls = run_install(tmp_path, INDEX_ANSWERS="yes")
    assert done.returncode == 0, done.stderr
    assert not any("torch" in c or "urlopen" in c for c in calls), calls
    assert calls[-1].endswith("install --disable-pip-version-check --progress-bar on -e .")
    steps = steps_of(done)
    assert [s[:3] for s in steps[:2]] == ["1/2", "2/2"] and "ONNX Runtime" in steps[1]
    assert steps[-1].startswith("done")


def test_extras_are_passed_to_pip_without_torch_unless_named(tmp_path):
    done, calls = run_install(tmp_path, INDEX_ANSWERS="yes", EXTRAS="test,postgres")
    assert done.returncode == 0, done.stderr
    assert calls[-1].endswith("-e .[test,postgres]") and not any("torch" in c for c in calls)


@pytest.mark.skipif(
    (platform.system(), platform.machine()) != ("Linux", "x86_64"), reason="Linux x86_64 only"
)
def test_linux_x86_64_takes_torch_from_the_cpu_index_as_an_extra_index(tmp_path):
    done, calls = run_install(tmp_path, INDEX_ANSWERS="yes", EXTRAS="test,torch")
    assert done.returncode == 0, done.stderr
    call = torch_call(calls)
    assert f"--extra-index-url {CPU_INDEX}" in call and "--index-url" not in call.replace(
        "--extra-index-url", ""
    )
    assert "--quiet" not in " ".join(calls) and "--progress-bar on" in call
    steps = steps_of(done)
    assert [s[:3] for s in steps[:3]] == ["1/3", "2/3", "3/3"] and "done" in steps[-1]
    assert "CUDA build: False" in done.stdout
    assert calls[-1].endswith("-e .[test,torch]")


def test_an_index_that_does_not_answer_falls_back_to_the_configured_ones(tmp_path):
    done, calls = run_install(
        tmp_path, INDEX_ANSWERS="no", TORCH_INDEX_URL="http://127.0.0.1:9/x", EXTRAS="torch"
    )
    assert done.returncode == 0, done.stderr
    assert "does not answer" in done.stdout
    assert "index-url" not in torch_call(calls)


def test_torch_index_none_uses_only_the_configured_indexes(tmp_path):
    done, calls = run_install(tmp_path, INDEX_ANSWERS="yes", TORCH_INDEX_URL="none", EXTRAS="torch")
    assert done.returncode == 0, done.stderr
    assert "index-url" not in torch_call(calls) and not any("urlopen" in c for c in calls)
    assert any(c.endswith("-e .[torch]") for c in calls)
