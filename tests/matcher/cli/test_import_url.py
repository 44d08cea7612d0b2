"""`import URL` (issue 21): https only, a size cap, progress on stderr, and the checksum published
beside the file verified before anything is stored. Against a real HTTPS server on 127.0.0.1
whose certificate authority the client trusts through SSL_CERT_FILE."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.fakes.https_host import HttpsHost
from tests.matcher.cli.helpers import run_main


def issue_line(n: int) -> str:
    return json.dumps(
        {
            "url": f"https://github.com/a/b/issues/{n}",
            "repo": "a/b",
            "number": n,
            "title": f"Add a librosa example {n}",
            "body": "",
            "labels": ["good first issue"],
        }
    )


SNAPSHOT = ("\n".join(issue_line(n) for n in (1, 2, 3)) + "\n").encode()
DIGEST = hashlib.sha256(SNAPSHOT).hexdigest()


@pytest.fixture
def host(tmp_path, monkeypatch):
    with HttpsHost(tmp_path) as server:
        monkeypatch.setenv("SSL_CERT_FILE", server.ca_file)
        yield server


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store.sqlite"


def run_import(capsys, monkeypatch, store, url, *extra):
    return run_main(capsys, monkeypatch, "--db", str(store), "import", url, "--no-embed", *extra)


def error_line(outcome) -> str:
    lines = outcome.stderr.strip().splitlines()
    assert outcome.returncode == 1 and "Traceback" not in outcome.stderr, outcome.stderr
    assert lines[-1].startswith("error: "), outcome.stderr
    return lines[-1]


def test_a_published_snapshot_is_verified_then_stored(host, store, capsys, monkeypatch):
    url = host.publish("/releases/download/snapshot/issues.jsonl", SNAPSHOT)
    host.publish(
        "/releases/download/snapshot/issues.jsonl.sha256", f"{DIGEST}  issues.jsonl\n".encode()
    )
    done = run_import(capsys, monkeypatch, store, url, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["added"] == 3 and summary["sha256"] == DIGEST
    assert summary["checksum_verified"] is True
    assert f"downloading {url}" in done.stderr  # progress on stderr, stdout stays JSON
    assert f"matches {url}.sha256" in done.stderr
    # the checksum is asked first: a mismatch is known before a byte of the file is kept
    assert host.requests[0].endswith(".sha256")


def test_a_checksum_mismatch_stores_nothing(host, store, capsys, monkeypatch):
    url = host.publish("/issues.jsonl", SNAPSHOT)
    host.publish("/issues.jsonl.sha256", b"0" * 64 + b"  issues.jsonl\n")
    line = error_line(run_import(capsys, monkeypatch, store, url))
    assert "does not match" in line and DIGEST in line and "nothing was imported" in line
    assert not store.exists()


def test_without_a_published_checksum_the_import_says_it_is_unverified(
    host, store, capsys, monkeypatch
):
    url = host.publish("/issues.jsonl", SNAPSHOT)
    done = run_import(capsys, monkeypatch, store, url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["checksum_verified"] is False
    assert "no checksum published beside it" in done.stderr


def test_a_checksum_file_that_is_not_one_is_refused(host, store, capsys, monkeypatch):
    url = host.publish("/issues.jsonl", SNAPSHOT)
    host.publish("/issues.jsonl.sha256", b"<html>sign in</html>")
    assert "not a sha256 checksum" in error_line(run_import(capsys, monkeypatch, store, url))
    assert not store.exists()


@pytest.mark.parametrize("where", ["http://127.0.0.1:9/issues.jsonl", "http://localhost/x"])
def test_plain_http_is_refused_in_one_line_before_any_request(where, store, capsys, monkeypatch):
    line = error_line(run_import(capsys, monkeypatch, store, where))
    assert line == (
        f"error: {where}: only https:// URLs are imported (over http, anyone on the way could "
        "change the issues); download the file yourself and import the file"
    )
    assert not store.exists()


def test_a_redirect_to_plain_http_is_refused(host, store, capsys, monkeypatch):
    url = host.publish(
        "/issues.jsonl", b"", status=302, headers={"Location": "http://127.0.0.1:9/issues.jsonl"}
    )
    line = error_line(run_import(capsys, monkeypatch, store, url))
    assert "redirect to plain http is refused" in line and not store.exists()


def test_a_redirect_to_another_https_place_is_followed(host, store, capsys, monkeypatch):
    """GitHub answers a release asset with a redirect to its download host."""
    url = host.publish("/issues.jsonl", b"", status=302, headers={"Location": "/objects/1"})
    host.publish("/objects/1", SNAPSHOT)
    host.publish("/issues.jsonl.sha256", f"{DIGEST}  issues.jsonl\n".encode())
    done = run_import(capsys, monkeypatch, store, url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["checksum_verified"] is True


@pytest.mark.parametrize("length_known", [True, False], ids=["content-length", "streamed"])
def test_a_download_over_the_size_cap_stops_and_stores_nothing(
    host, store, capsys, monkeypatch, length_known
):
    big = SNAPSHOT * 200  # about 40 KB
    headers = {} if length_known else {"Content-Length": ""}
    url = host.publish("/issues.jsonl", big, headers=headers)
    monkeypatch.setenv("MATCHER_IMPORT_MAX_MB", "0.01")  # 10 KB
    line = error_line(run_import(capsys, monkeypatch, store, url))
    assert "over the 0.01 MB cap (import_max_mb, MATCHER_IMPORT_MAX_MB)" in line
    assert ("more than" in line) is not length_known
    assert not store.exists()


def test_an_http_error_is_one_line(host, store, capsys, monkeypatch):
    line = error_line(run_import(capsys, monkeypatch, store, host.url + "/missing.jsonl"))
    assert line == f"error: {host.url}/missing.jsonl: HTTP 404; nothing imported"


def test_an_untrusted_certificate_is_one_line_that_names_ssl_cert_file(
    host, store, capsys, monkeypatch
):
    url = host.publish("/issues.jsonl", SNAPSHOT)
    monkeypatch.delenv("SSL_CERT_FILE")
    line = error_line(run_import(capsys, monkeypatch, store, url))
    assert "CERTIFICATE_VERIFY_FAILED" in line and "SSL_CERT_FILE" in line
    assert not store.exists()


def test_bad_lines_of_a_download_are_named_by_its_url(host, store, capsys, monkeypatch):
    url = host.publish("/issues.jsonl", SNAPSHOT + b"{broken\n")
    done = run_import(capsys, monkeypatch, store, url)
    assert done.returncode == 0, done.stderr
    assert f"warning: {url}: line 4: invalid JSON" in done.stderr


def test_a_ca_file_that_is_not_there_is_one_line(host, store, capsys, monkeypatch):
    url = host.publish("/issues.jsonl", SNAPSHOT)
    monkeypatch.setenv("SSL_CERT_FILE", "no-such-ca.pem")
    line = error_line(run_import(capsys, monkeypatch, store, url))
    assert line == (
        "error: cannot load the CA certificates named by SSL_CERT_FILE or SSL_CERT_DIR "
        "(no-such-ca.pem): No such file or directory"
    )


def test_progress_off_a_terminal_is_a_line_at_each_quarter(host, store, capsys, monkeypatch):
    lines = "".join(issue_line(n) + "\n" for n in range(1, 1500)).encode()  # about 280 KB
    url = host.publish("/issues.jsonl", lines)
    done = run_import(capsys, monkeypatch, store, url)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("downloading")]
    size = f"{len(lines) / 1024:.1f} KB"
    assert said == [f"downloading {url}"] + [f"downloading: {p}% of {size}" for p in (25, 50, 75)]
    assert "\x1b" not in done.stderr


def test_on_a_terminal_the_progress_is_a_live_bar(host, tmp_path):
    """stderr on a pseudo-terminal: Rich draws (and then removes) a bar; the import works."""
    import os
    import pty
    import subprocess
    import sys
    import threading
    from pathlib import Path

    url = host.publish(
        "/issues.jsonl", "".join(issue_line(n) + "\n" for n in range(1, 800)).encode()
    )
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[3]), TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "matcher", "--db", str(tmp_path / "s.sqlite"), "import", url,
         "--no-embed", "--json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env,
    )  # fmt: skip
    os.close(slave)
    shown = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = child.communicate(timeout=120)
    reader.join(timeout=5)
    os.close(master)
    assert child.returncode == 0, shown.decode(errors="replace")
    assert json.loads(out)["added"] == 799  # stdout, not a terminal, holds the JSON alone
    assert b"\x1b[" in shown  # colours and cursor moves: the terminal's live bar
