import pytest

from matcher.catalog import load_labels, load_repos, normalize_label
from matcher.errors import ConfigError
from matcher.settings import github_token, load_settings


def test_defaults_load(settings):
    assert settings.model == "all-MiniLM-L6-v2"
    assert settings.ranking.max_per_repo >= 1


def test_user_yaml_overrides_defaults(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("top_k: 3\nranking:\n  max_per_repo: 1\n")
    settings = load_settings(path)
    assert settings.top_k == 3 and settings.ranking.max_per_repo == 1
    assert settings.ranking.dense > 0  # untouched keys keep their defaults


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("top_k: 3\nranking: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert str(path) in message and "line" in message and "\n" not in message


def test_wrong_type_names_the_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("ranking:\n  max_per_repo: lots\n")
    with pytest.raises(ConfigError, match=r"key 'ranking\.max_per_repo'.*'lots'"):
        load_settings(path)


def test_unknown_key_is_an_error(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("rankng:\n  dense: 1\n")
    with pytest.raises(ConfigError, match="key 'rankng'"):
        load_settings(path)


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(path)


def test_environment_overrides_and_is_validated(monkeypatch):
    monkeypatch.setenv("MATCHER_RANKING__DENSE", "0.9")
    assert load_settings().ranking.dense == 0.9
    monkeypatch.setenv("MATCHER_RANKING__DENSE", "-1")
    with pytest.raises(ConfigError, match="ranking.dense"):
        load_settings()


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.yaml")


def test_token_from_env_or_file_and_never_in_messages(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN_FILE", raising=False)
    assert github_token(required=False) is None
    with pytest.raises(ConfigError, match="GITHUB_TOKEN"):
        github_token()
    secret = tmp_path / "token"
    secret.write_text("ghp_abcdefghijklmnop\n")
    monkeypatch.setenv("GITHUB_TOKEN_FILE", str(secret))
    token = github_token()
    assert token.get_secret_value() == "ghp_abcdefghijklmnop"
    assert "ghp_" not in repr(token) and "ghp_" not in str(token)
    monkeypatch.setenv("GITHUB_TOKEN", "two words")
    with pytest.raises(ConfigError) as err:
        github_token()
    assert "two words" not in str(err.value)


def test_token_file_that_is_not_text_is_one_line_without_its_bytes(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    secret = tmp_path / "token"
    secret.write_bytes(b"\xff\xfeghp_secretsecret\n")
    monkeypatch.setenv("GITHUB_TOKEN_FILE", str(secret))
    with pytest.raises(ConfigError, match="not a text file") as err:
        github_token()
    assert "secret" not in str(err.value).replace(str(tmp_path), "")
    monkeypatch.setenv("GITHUB_TOKEN_FILE", str(tmp_path))
    with pytest.raises(ConfigError, match="Is a directory"):
        github_token()


def test_shipped_catalogue_is_big_enough():
    labels = load_labels()
    assert len(labels.strengths) >= 40
    assert len(load_repos()) >= 60
    assert (
        labels.beginner_strength(["Good-First-Issue"])
        > labels.beginner_strength(["help wanted"])
        > 0
    )
    assert labels.beginner_strength(["bug"]) == 0


def test_label_normalisation():
    assert normalize_label("Good_First-Issue :baby:") == "good first issue"
    assert normalize_label("difficulty: easy") == normalize_label("Difficulty/Easy")


def test_bad_labels_file_names_entry(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("beginner_labels:\n  - {name: easy, strength: 3}\n")
    with pytest.raises(ConfigError, match=r"beginner_labels\[0\]\.strength"):
        load_labels(path)


def test_bad_repos_file_names_entry(tmp_path):
    path = tmp_path / "repos.yaml"
    path.write_text("repos:\n  - repo: huggingface/transformers\n  - repo: not-a-repo\n")
    with pytest.raises(ConfigError, match=r"repos\[1\]\.repo"):
        load_repos(path)


def test_default_store_directory_that_cannot_be_made_is_one_line(tmp_path, monkeypatch):
    import matcher.settings

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(matcher.settings, "user_data_dir", lambda *a, **k: str(blocker / "data"))
    settings = load_settings()
    settings.database_url = ""
    with pytest.raises(ConfigError, match="cannot create the default store directory .*--db"):
        settings.resolved_database_url  # noqa: B018


def test_beginner_label_spellings_are_kept_as_written_for_github():
    labels = load_labels()
    assert "good first issue" in labels.names and "good-first-issue" in labels.names
    assert len(labels.names) == len(set(labels.names)) >= 40
