"""Download a published snapshot over HTTPS: size-capped, checked against `<url>.sha256`.

The file lands in a temporary directory; nothing reaches the store before the whole file is
here and its checksum (when one is published beside it) matches.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from matcher.errors import SnapshotError

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# (bytes so far, total bytes or None when the server does not say)
ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Download:
    url: str
    path: Path  # inside a temporary directory that goes when the `downloaded` block ends
    size: int
    sha256: str
    checksum_url: str | None  # where the verified checksum came from; None: none published


def is_url(text: str) -> bool:
    """True for anything with a scheme (https://..., http://...), which `import` downloads."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def check_https(url: str) -> httpx.URL:
    """The URL parsed; anything but https:// is refused in one line."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise SnapshotError(f"{url}: not a URL ({exc})") from None
    if parsed.scheme != "https" or not parsed.host:
        raise SnapshotError(
            f"{url}: only https:// URLs are imported (over {parsed.scheme or 'that'}, anyone on "
            "the way could change the issues); download the file yourself and import the file"
        )
    return parsed


@contextmanager
def downloaded(
    url: str,
    *,
    max_mb: float,
    progress: ProgressCallback | None = None,
    timeout: float = 30,
) -> Iterator[Download]:
    """Download `url` (at most `max_mb` megabytes) into a temporary file, verified against
    `<url>.sha256` when one is published."""
    parsed = check_https(url)
    with (
        tempfile.TemporaryDirectory(prefix="matcher-import-") as tmp,
        _client(timeout) as client,
    ):
        checksum_url = str(parsed.copy_with(path=parsed.path + ".sha256"))
        expected = _published_checksum(client, checksum_url)
        target = Path(tmp) / "snapshot.jsonl"
        size, digest = _fetch(client, url, target, max_mb, progress)
        if expected is not None and digest != expected:
            raise SnapshotError(
                f"{url}: sha256 {digest} does not match {checksum_url} ({expected}): "
                "the file changed on the way or was replaced; nothing was imported"
            )
        yield Download(url, target, size, digest, checksum_url if expected else None)


def _client(timeout: float) -> httpx.Client:
    # trust_env: HTTPS_PROXY and SSL_CERT_FILE (another CA bundle) apply, as for pip
    try:
        return httpx.Client(
            follow_redirects=True,
            timeout=timeout,
            headers={"User-Agent": "ml-first-issues (snapshot import)"},
            event_hooks={"request": [_https_only]},
        )
    except (OSError, ssl.SSLError) as exc:  # SSL_CERT_FILE names no file, or no certificate
        where = os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR") or "?"
        reason = getattr(exc, "strerror", None) or exc
        raise SnapshotError(
            f"cannot load the CA certificates named by SSL_CERT_FILE or SSL_CERT_DIR "
            f"({where}): {reason}"
        ) from None


def _https_only(request: httpx.Request) -> None:
    """A redirect to plain http (a release asset's download host, say) is refused as well."""
    if request.url.scheme != "https":
        raise SnapshotError(f"{request.url}: a redirect to plain http is refused; nothing imported")


def _published_checksum(client: httpx.Client, checksum_url: str) -> str | None:
    """The sha256 published beside the file (`sha256sum` output), or None when there is none."""
    try:
        response = client.get(checksum_url)
    except httpx.HTTPError as exc:
        raise SnapshotError(f"{checksum_url}: cannot download ({_reason(exc)})") from None
    if response.status_code in (403, 404, 410):  # GitHub answers 404; some storage answers 403
        log.info("no checksum published at %s: the download is not verified", checksum_url)
        return None
    if response.status_code != 200:
        raise SnapshotError(f"{checksum_url}: HTTP {response.status_code}; nothing imported")
    words = response.text.split()
    if not words or not _SHA256.fullmatch(words[0]):
        raise SnapshotError(
            f"{checksum_url}: not a sha256 checksum (expected 64 hex digits, as `sha256sum` "
            "writes); nothing imported"
        )
    return words[0].lower()


def _fetch(
    client: httpx.Client,
    url: str,
    target: Path,
    max_mb: float,
    progress: ProgressCallback | None,
) -> tuple[int, str]:
    """Stream `url` into `target`; (bytes, sha256). Stops at `max_mb`, before or during."""
    max_bytes = int(max_mb * 2**20)
    digest = hashlib.sha256()
    size = 0
    try:
        with client.stream("GET", url) as response, target.open("wb") as out:
            if response.status_code != 200:
                raise SnapshotError(f"{url}: HTTP {response.status_code}; nothing imported")
            total = _length(response)
            if total is not None and total > max_bytes:
                raise SnapshotError(_too_big(url, total, max_mb))
            for chunk in response.iter_bytes(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise SnapshotError(_too_big(url, size, max_mb, more=True))
                digest.update(chunk)
                out.write(chunk)
                if progress is not None:
                    progress(size, total)
    except httpx.HTTPError as exc:
        raise SnapshotError(f"{url}: cannot download ({_reason(exc)})") from None
    except OSError as exc:
        raise SnapshotError(f"{url}: cannot save the download ({exc.strerror or exc})") from None
    return size, digest.hexdigest()


def _length(response: httpx.Response) -> int | None:
    text = response.headers.get("Content-Length", "")
    # a compressed body's length is not the file's: the cap counts the bytes as they arrive
    if not text.isdigit() or response.headers.get("Content-Encoding", "identity") != "identity":
        return None
    return int(text)


def human_size(size: int) -> str:
    """1234 -> '1.2 KB', 6926840 -> '6.6 MB'."""
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.1f} KB"


def _too_big(url: str, size: int, max_mb: float, more: bool = False) -> str:
    return (
        f"{url}: {'more than ' if more else ''}{human_size(size)}, over the "
        f"{max_mb:g} MB cap (import_max_mb, MATCHER_IMPORT_MAX_MB); nothing imported"
    )


def _reason(exc: httpx.HTTPError) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        text += "; SSL_CERT_FILE names another CA bundle to trust"
    return text[:300]
