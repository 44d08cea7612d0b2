"""Settings from config/default.yaml, a user YAML file and MATCHER_* environment variables."""

from __future__ import annotations

import os
import sysconfig
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from platformdirs import user_data_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from matcher.errors import ConfigError

# libyaml's safe loader where PyYAML was built with it: the ecosystem catalogue parses ~8x faster
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def find_config_dir() -> Path:
    """config/ of a checkout (or editable install), else the copy a wheel installs under
    <prefix>/share/ml-first-issues/config; MATCHER_CONFIG_DIR overrides both."""
    if os.environ.get("MATCHER_CONFIG_DIR"):
        return Path(os.environ["MATCHER_CONFIG_DIR"])
    checkout = Path(__file__).resolve().parent.parent / "config"
    installed = Path(sysconfig.get_paths()["data"]) / "share" / "ml-first-issues" / "config"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


CONFIG_DIR = find_config_dir()


# A misspelled nested key is an error as at the top level; inf and nan are no weights or timeouts.
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


class GitHubSettings(BaseModel):
    model_config = STRICT

    api_url: str = "https://api.github.com"
    graphql_url: str = "https://api.github.com/graphql"
    timeout_seconds: float = Field(30, gt=0)
    max_retries: int = Field(5, ge=0, le=20)
    issues_per_repo: int = Field(100, ge=1, le=1000)
    repos_per_query: int = Field(10, ge=1, le=50)
    discover_topics: list[str] = []
    discover_min_stars: int = Field(500, ge=0)
    # Days between two asks of a repository's welcoming figures (matcher.github.welcome); 0: never.
    welcome_refresh_days: int = Field(7, ge=0, le=365)
    # Repositories per welcoming query: 6 is the most one 1-point query holds (welcome.py).
    welcome_repos_per_query: int = Field(6, ge=1, le=50)


class RankingSettings(BaseModel):
    model_config = STRICT

    dense: float = Field(0.55, ge=0)
    lexical: float = Field(0.30, ge=0)
    # A word of a profile's phrase found without the rest of the phrase counts this much.
    phrase_part: float = Field(0.4, ge=0, le=1)
    # A term the profile only implies (a synonym, initials) counts this much of one it says.
    implied_terms: float = Field(0.5, ge=0, le=1)
    beginner_label: float = Field(0.08, ge=0)
    freshness: float = Field(0.04, ge=0)
    competition: float = Field(0.12, ge=0)
    hard_label: float = Field(0.15, ge=0)
    # A hard-labelled issue stays below a beginner one whose fit is at most this much lower.
    hard_label_margin: float = Field(0.3, ge=0)
    welcoming: float = Field(0.05, ge=0)  # matcher.signals.welcoming: newcomers' PRs merged
    intent: float = Field(0.0, ge=0)  # ranking.intent_fits: the kind of work the niche names
    task_fit: float = Field(0.075, ge=0)  # matcher.signals.task_fit: the kind of work asked for
    # matcher.signals.ramp_fits: issues at the learner's step of the ramp (0 for a newcomer).
    ramp: float = Field(0.1, ge=0)
    language: float = Field(0.15, ge=0)
    # matcher.signals.neglect: no activity for stale_after_days, or comments unanswered by a
    # maintainer for unanswered_after_days (unknown activity is neutral)
    neglect: float = Field(0.08, ge=0)
    stale_after_days: float = Field(365, gt=0)
    unanswered_after_days: float = Field(30, gt=0)
    centre: bool = True  # dense similarity measured from the pool's mean vector (ranking.py)
    max_per_repo: int = Field(3, ge=1)
    freshness_half_life_days: float = Field(120, gt=0)
    include_taken: bool = False
    # Pools of more issues than this rank each learner's candidates (matcher.ranking.candidates:
    # nearest clusters, then the exact score), not every issue; None: always exact.
    candidates_above: int | None = Field(300_000, ge=1)


class Settings(BaseSettings):
    """Every knob of the matcher; see config/default.yaml for what each one means."""

    model_config = SettingsConfigDict(
        env_prefix="MATCHER_", env_nested_delimiter="__", extra="forbid", allow_inf_nan=False
    )

    database_url: str = ""
    model: str = "all-MiniLM-L6-v2"
    top_k: int = Field(10, ge=1, le=500)
    # The Prometheus endpoint of a long-running `sync --every` (matcher.metrics); None: off.
    metrics_port: int | None = Field(None, ge=0, le=65535)
    import_max_mb: float = Field(200, gt=0)  # `import URL` refuses a larger download
    github: GitHubSettings = GitHubSettings()
    ranking: RankingSettings = RankingSettings()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        data_dir = Path(user_data_dir("ml-first-issues", appauthor=False))
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the default store directory {data_dir} ({exc.strerror or exc}); "
                "choose a store with --db or MATCHER_DATABASE_URL"
            ) from None
        return f"sqlite:///{data_dir / 'matcher.sqlite'}"


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, turning every failure into a one-line ConfigError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}:{where}: {problem}") from None


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{source}: key '{key}': {err['msg']}{shown}{more}"


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load defaults, then the user's YAML file (MATCHER_CONFIG or `path`), then the environment."""
    sources = [CONFIG_DIR / "default.yaml"]
    user_path = path or os.environ.get("MATCHER_CONFIG")
    if user_path:
        sources.append(Path(user_path))
    data: dict = {}
    for source in sources:
        loaded = read_yaml(source) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{source}: expected a mapping of keys to values at the top level")
        data = _merge(data, loaded)
    data = _merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        origin = " + ".join(str(s) for s in sources) + " / MATCHER_* environment"
        raise ConfigError(_describe(exc, origin)) from None
    except SettingsError as exc:  # MATCHER_RANKING='notjson': a nested key's value must be JSON
        raise ConfigError(_describe_env(exc)) from None


def _describe_env(exc: SettingsError) -> str:
    field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else ""
    name = f"MATCHER_{field.upper()}" if field else "a MATCHER_* variable"
    return (
        f'environment: {name} must be a JSON object ({{"KEY": VALUE}}); '
        f"or set one key with {name}__KEY=VALUE"
    )


def github_token(required: bool = True) -> SecretStr | None:
    """The GitHub token from GITHUB_TOKEN or the file named by GITHUB_TOKEN_FILE; never logged."""
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    token_file = os.environ.get("GITHUB_TOKEN_FILE")
    if not token and token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"GITHUB_TOKEN_FILE: cannot read {token_file} ({exc.strerror or exc})"
            ) from None
        except (
            UnicodeDecodeError
        ):  # the message would quote the file's bytes: say only what is wrong
            raise ConfigError(
                f"GITHUB_TOKEN_FILE: {token_file} is not a text file holding one token"
            ) from None
    if not token:
        if required:
            raise ConfigError("no GitHub token: set GITHUB_TOKEN or GITHUB_TOKEN_FILE")
        return None
    if any(c.isspace() for c in token) or len(token) < 8:
        raise ConfigError("GitHub token is malformed: expected one word of at least 8 characters")
    return SecretStr(token)
