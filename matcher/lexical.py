"""Lexical matching: a tokenizer that keeps tool names whole, query expansion, and BM25's weights
(matcher.ranking.pool fits them on a pool)."""

from __future__ import annotations

import re
import threading
from array import array
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.errors import ConfigError
from matcher.models import EMBEDDED_BODY
from matcher.settings import CONFIG_DIR, read_yaml

if TYPE_CHECKING:
    from matcher.models import Issue

# scikit-learn's English stop words (sklearn.feature_extraction.text.ENGLISH_STOP_WORDS), copied so
# that tokenizing does not import scikit-learn; a test checks the copy against the original.
ENGLISH_STOP_WORDS = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst amoungst amount an and another any anyhow anyone
    anything anyway anywhere are around as at back be became because become becomes becoming
    been before beforehand behind being below beside besides between beyond bill both bottom
    but by call can cannot cant co con could couldnt cry de describe detail do done down due
    during each eg eight either eleven else elsewhere empty enough etc even ever every
    everyone everything everywhere except few fifteen fifty fill find fire first five for
    former formerly forty found four from front full further get give go had has hasnt have
    he hence her here hereafter hereby herein hereupon hers herself him himself his how
    however hundred i ie if in inc indeed interest into is it its itself keep last latter
    latterly least less ltd made many may me meanwhile might mill mine more moreover most
    mostly move much must my myself name namely neither never nevertheless next nine no
    nobody none noone nor not nothing now nowhere of off often on once one only onto or
    other others otherwise our ours ourselves out over own part per perhaps please put
    rather re same see seem seemed seeming seems serious several she should show side since
    sincere six sixty so some somehow someone something sometime sometimes somewhere still
    such system take ten than that the their them themselves then thence there thereafter
    thereby therefore therein thereupon these they thick thin third this those though three
    through throughout thru thus to together too top toward towards twelve twenty two un
    under until up upon us very via was we well were what whatever when whence whenever
    where whereafter whereas whereby wherein whereupon wherever whether which while whither
    who whoever whole whom whose why will with within without would yet you your yours
    yourself yourselves
    """.split()
)

# "scikit-learn", "c++", "node.js", "stable-baselines3" stay whole; their parts are added too.
_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#]*(?:[.\-][a-z0-9+#]+)*")
_STOP = frozenset(ENGLISH_STOP_WORDS) | {
    "using",
    "use",
    "used",
    "like",
    "would",
    "want",
    "work",
    "working",
    "issue",
    "issues",
    "add",
    "http",
    "https",
    "com",
    "github",
    "www",
    "e.g",
    "i.e",
    "etc",
}


def tokenize(text: str) -> list[str]:
    """Lowercase tokens without stop words; compound names also yield their parts."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        tokens.extend(token_terms(token))
    return tokens


# The common words of every page of texts; count_terms_and_cues meets each distinct token of a
# page once anyway. A cache of 262,144 tokens held 66 MB at a million issues (one-off tokens:
# numbers, names), turned over page after page amid the pages' short-lived objects.
TOKEN_CACHE = 16_384


@lru_cache(maxsize=TOKEN_CACHE)
def token_terms(token: str) -> tuple[str, ...]:
    """The terms one raw lowercase token stands for: itself (unless a stop word) and, for a
    compound name, its parts."""
    token = token.rstrip(".")
    if token in _STOP or len(token) < 2 and token not in {"c", "r"}:
        return ()
    if "-" in token or "." in token:
        parts = (p for p in re.split(r"[.\-]", token) if len(p) > 1 and p not in _STOP)
        return (token, *parts)
    return (token,)


COUNT_CHUNK = 8192  # texts whose term ids are gathered at once


class _RawTokens(dict):
    """Raw token -> its id, a new token numbered as it is first met (dict.__missing__ keeps the
    lookup of known ones in C)."""

    def __missing__(self, token: str) -> int:
        number = self[token] = len(self)
        return number


def count_terms(texts: Iterable[str], vocabulary: dict[str, int]):
    """Texts -> (texts x vocabulary) CSR of term counts (float32), tokenized as `tokenize` does;
    new terms join `vocabulary`. Each distinct raw token is turned into terms once; the texts'
    raw tokens become term ids in one numpy gather."""
    return count_terms_and_cues(texts, vocabulary)[0]


def count_terms_and_cues(texts: Iterable[str], vocabulary: dict[str, int]):
    """count_terms, and per text the languages whose work cues its tokens may hold (a bit per
    language of _WORK_CUES, in order): `work_language(..., cues=)` runs only those cues."""
    from scipy import sparse

    raw = _RawTokens()
    found = array("q")  # every text's raw token ids, one after another (8 bytes each)
    ends = [0]
    for text in texts:
        found.extend(map(raw.__getitem__, _TOKEN.findall(text.lower())))
        ends.append(len(found))
    # raw token id -> its term ids, as one flat table: terms[start[r] : start[r] + size[r]]
    expanded = [
        tuple(vocabulary.setdefault(t, len(vocabulary)) for t in token_terms(token))
        for token in raw
    ]
    size = np.fromiter(map(len, expanded), dtype=np.int64, count=len(expanded))
    start = np.zeros(len(expanded) + 1, dtype=np.int64)
    np.cumsum(size, out=start[1:])
    terms = np.fromiter(chain.from_iterable(expanded), dtype=np.int32, count=int(start[-1]))
    ids = np.frombuffer(found, dtype=np.int64) if len(found) else np.zeros(0, dtype=np.int64)
    bounds = np.asarray(ends, dtype=np.int64)
    parts = []
    for low in range(0, max(len(ends) - 1, 1), COUNT_CHUNK):  # bounded temporaries
        high = min(low + COUNT_CHUNK, len(ends) - 1)
        chunk = ids[bounds[low] : bounds[high]]
        per_token = size[chunk]
        before = np.zeros(len(chunk) + 1, dtype=np.int64)
        np.cumsum(per_token, out=before[1:])
        # the position of each output term in the flat table: its token's start, plus its rank
        offsets = np.arange(before[-1], dtype=np.int64) - np.repeat(before[:-1], per_token)
        indices = terms[np.repeat(start[:-1][chunk], per_token) + offsets]
        part = sparse.csr_matrix(
            (
                np.ones(len(indices), dtype=np.float32),
                indices,
                before[bounds[low : high + 1] - bounds[low]],
            ),
            shape=(high - low, len(vocabulary)),
        )
        part.sum_duplicates()  # sorts each row's columns and adds repeats up: counts
        parts.append(part)
    counts = parts[0] if len(parts) == 1 else sparse.vstack(parts, format="csr")
    masks = np.fromiter(map(_token_cues, raw), dtype=np.int64, count=len(raw))
    cues = np.zeros(len(ends) - 1, dtype=np.int64)
    nonempty = np.flatnonzero(bounds[1:] > bounds[:-1])
    if len(ids):
        cues[nonempty] = np.bitwise_or.reduceat(masks[ids], bounds[:-1][nonempty])
    return counts, cues


@lru_cache(maxsize=4)
def load_synonyms(path: Path = CONFIG_DIR / "synonyms.yaml") -> dict[str, tuple[str, ...]]:
    data = read_yaml(path)
    table = data.get("synonyms") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: key 'synonyms' must map phrases to lists of terms")
    return {str(k).lower(): tuple(str(t).lower() for t in (v or [])) for k, v in table.items()}


def _phrase_pattern(phrase: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9+#]){re.escape(phrase)}(?![a-z0-9+#])")


def expand_query(
    text: str, synonyms: dict[str, tuple[str, ...]], *, unique: bool = True
) -> list[str]:
    """Tokens of the text plus the terms its phrases stand for.

    With `unique=False` a term comes once per time the profile implies it (a word it says, or each
    mention of a phrase that stands for it); BM25.score weighs such repeats as central terms.
    """
    lowered = " ".join(text.lower().split())
    terms = tokenize(lowered) + acronyms(lowered)
    for phrase, extra in synonyms.items():
        for _ in _phrase_pattern(phrase).finditer(lowered):
            for term in extra:
                terms.extend(tokenize(term))
    # A language name ("python") is in nearly every issue of an ML pool: as a word it picks generic
    # issues, so the language term (ranking.language_fit) weighs it instead.
    languages = load_languages()
    terms = [t for t in terms if t not in languages]
    return list(dict.fromkeys(terms)) if unique else terms


_LIST_BREAK = re.compile(r"[,;.:()/|\n]|\band\b")


def profile_phrases(text: str) -> tuple[str, ...]:
    """The phrases of a profile as the learner wrote them: "Python, computer vision and OpenCV"
    -> ("Python", "computer vision", "OpenCV")."""
    return tuple(dict.fromkeys(p.strip() for p in _LIST_BREAK.split(text) if p.strip()))


@lru_cache(maxsize=4096)
def phrase_groups(phrases: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    """The words that only fit together: each phrase of two or more words ("computer vision",
    "natural language processing") and the parts of a compound name ("scikit", "learn" of
    "scikit-learn"). A word of a group found without the rest of it ("processing" in an image
    processing issue, "learn" in "learn Python") is a weaker match (ranking.phrase_part).
    Language names are left out: the word match never searches them."""
    languages = load_languages()
    groups: list[frozenset[str]] = []
    for phrase in phrases:
        tokens = [t for t in tokenize(phrase) if t not in languages]
        for compound in (t for t in tokens if "-" in t or "." in t):
            parts = frozenset(token_terms(compound)[1:])
            if len(parts) >= 2:
                groups.append(parts)
        words = frozenset(t for t in tokens if "-" not in t and "." not in t) | _unsearched(phrase)
        if len(words) >= 2:
            groups.append(words)
    return tuple(dict.fromkeys(groups))


def _unsearched(phrase: str) -> frozenset[str]:
    """Words of a phrase the tokenizer drops though they are not English filler ("github" of
    "GitHub Actions"): no issue is seen holding them, so the rest of the phrase is never whole."""
    return frozenset(t for t in _TOKEN.findall(phrase.lower()) if t in _STOP - ENGLISH_STOP_WORDS)


@lru_cache(maxsize=4096)
def own_words(phrases: tuple[str, ...]) -> frozenset[str]:
    """The terms a profile says itself; the others its query holds it only implies (synonyms,
    initials), and they weigh ranking.implied_terms as much."""
    return frozenset(chain.from_iterable(tokenize(phrase) for phrase in phrases))


def name_matches(matched: Sequence[str], phrases: Sequence[str]) -> list[str]:
    """Matched terms named as the learner wrote them: a phrase whose words all matched once
    ("computer vision"), a word of a phrase that matched alone with its phrase ("vision" of
    "computer vision"); a term the profile only implies (a synonym, initials) as it is."""
    found = set(matched)
    named: list[str] = []
    for term in matched:
        phrase = next((p for p in phrases if term in tokenize(p.lower())), None)
        words = tokenize(phrase.lower()) if phrase else []
        if phrase is None:
            name = term
        elif len(words) == 1 or all(w in found for w in words if "-" not in w):
            name = phrase
        else:
            name = f'"{term}" of "{phrase}"'
        if name not in named:
            named.append(name)
    return named


# Where a profile's phrases end, and short words an acronym skips ("machine learning for audio").
_PHRASE_BREAK = re.compile(r"[,;.:()/|]|\band\b|\bfor\b|\bof\b|\bwith\b|\bin\b|\bon\b")
_ACRONYM_SKIPS = frozenset({"a", "an", "the", "to", "&"})


def acronyms(text: str) -> list[str]:
    """The initials of each phrase of two to five words: "reinforcement learning" -> "rl",
    "retrieval-augmented generation" -> "rag". Issues often say the short form only; this is how
    English abbreviates, not a table fitted to any learner."""
    found = []
    for phrase in _PHRASE_BREAK.split(text.lower()):
        if len(phrase.split()) < 2:  # one name, even a hyphenated one ("scikit-learn"), stays
            continue
        words = [w for w in re.split(r"[\s\-]+", phrase) if w and w not in _ACRONYM_SKIPS]
        initials = "".join(w[0] for w in words)
        if 2 <= len(words) <= 5 and initials.isalpha() and initials not in _STOP:
            found.append(initials)
    return found


@lru_cache(maxsize=4)
def load_languages(path: Path = CONFIG_DIR / "synonyms.yaml") -> dict[str, tuple[str, ...]]:
    """Programming language -> profile words implying a learner writes it (`languages` key)."""
    data = read_yaml(path)
    table = data.get("languages", {}) if isinstance(data, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: key 'languages' must map a language to the words that imply it")
    return {str(k).lower(): tuple(str(t).lower() for t in (v or [])) for k, v in table.items()}


# Repository languages that say nothing about the code a contributor writes, and aliases of others.
_NEUTRAL_LANGUAGES = frozenset(
    {
        "",
        "html",
        "css",
        "scss",
        "tex",
        "makefile",
        "shell",
        "dockerfile",
        "markdown",
        "mdx",
        "yaml",
        "roff",
        "batchfile",
        "powershell",
        "cmake",
        "jsonnet",
        "hcl",
        "smarty",
        "jinja",
        "rich text format",
    }
)
_LANGUAGE_ALIASES = {
    "jupyter notebook": "python",
    "cython": "python",
    "vue": "javascript",
    "svelte": "javascript",
    "cuda": "c++",
    "c": "c++",
    "objective-c": "c++",
    "objective-c++": "c++",
}


def issue_language(language: str | None) -> str | None:
    """The language a repository's code is in, or None when it says nothing (docs, config)."""
    name = (language or "").strip().lower()
    if name in _NEUTRAL_LANGUAGES:
        return None
    return _LANGUAGE_ALIASES.get(name, name)


# What shows an issue's own work is in a language: its files, its build tools, its front end.
_WORK_CUES: dict[str, re.Pattern] = {
    language: re.compile(pattern, re.IGNORECASE)
    for language, pattern in {
        "javascript": r"\.(?:tsx?|jsx?|vue|svelte|css|scss)\b|\b(?:front[- ]?end|react|vue|"
        r"svelte|angular|npm|yarn|webpack|vite|typescript|javascript|css|next\.js|node\.js)\b",
        "c++": r"\.(?:cu|cuh|cpp|cc|cxx|hpp)\b|\b(?:c\+\+|cuda kernels?|cmake|libtorch)(?!\w)",
        "rust": r"\.rs\b|\b(?:rust|cargo|crates?|pyo3|maturin)\b",
        "go": r"\.go\b|\bgolang\b",
        "java": r"\.java\b|\b(?:java|maven|gradle|jvm)\b",
        "r": r"\.R\b|\b(?:cran|tidyverse|rcpp)\b",
        "julia": r"\.jl\b|\bjulia\b",
    }.items()
}


# Literal text every match of a cue contains (after _fold): a text without any of them cannot
# match, so the regular expression (the slow part of building an index) runs only where one is.
# Kept in step with _WORK_CUES by a test that writes text from each cue's own pattern.
_CUE_TRIGGERS: dict[str, tuple[str, ...]] = {
    "javascript": (".ts", ".js", "vue", "svelte", "css", "front", "react", "angular", "npm")
    + ("yarn", "webpack", "vite", "typescript", "javascript"),
    "c++": (".cu", ".cpp", ".cc", ".cxx", ".hpp", "c++", "cuda kernel", "cmake", "libtorch"),
    "rust": (".rs", "rust", "cargo", "crate", "pyo3", "maturin"),
    "go": (".go", "golang"),
    "java": ("java", "maven", "gradle", "jvm"),
    "r": (".r", "cran", "tidyverse", "rcpp"),
    "julia": (".jl", "julia"),
}
# The non-ASCII letters re.IGNORECASE matches to ASCII ones that lower() leaves apart
_IGNORECASE_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


def _fold(text: str) -> str:
    """Lower case, with every letter that re.IGNORECASE takes for an ASCII one made that one."""
    return text.lower() if _folds_as_lower(text) else text.translate(_IGNORECASE_FOLD).lower()


def _folds_as_lower(text: str) -> bool:
    """Whether lower() alone brings every letter re.IGNORECASE takes for an ASCII one to it."""
    return text.isascii() or not any(c in text for c in "\u0130\u0131\u017f")


# What a raw token (`_TOKEN`, lower case) holds when a cue matched the text it came from: a
# trigger above inside it (a phrase's first word), or for a cue on a file extension (".ts") the
# extension at its start (the dot was not part of the token); "r" and "go" are followed by no
# word character there, nor after their dot.
_LEADING = {
    "javascript": ("ts", "js", "vue", "svelte", "css", "scss"),
    "c++": ("cu", "cpp", "cc", "cxx", "hpp"),
    "rust": ("rs",),
    "julia": ("jl",),
}
_LEADING_WORD = {"go": "go", "r": "r"}


def _token_pattern(name: str) -> str:
    words = [t.split()[0] for t in _CUE_TRIGGERS[name]]
    if name in _LEADING_WORD:
        word = _LEADING_WORD[name]
        words = [w for w in words if not w.startswith(".")]
        parts = [*map(re.escape, words), rf"(?:^|\.){word}(?:[+#.\-]|\Z)"]
    else:
        leading = _LEADING.get(name, ())
        parts = [*map(re.escape, words), *([rf"^(?:{'|'.join(leading)})"] if leading else [])]
    return "|".join(parts)


WORK_LANGUAGES = tuple(_WORK_CUES)  # the order of work_cue_counts and of the cue bits
_NO_CUES = (0,) * len(WORK_LANGUAGES)
_ANY_TRIGGER = re.compile("|".join(re.escape(t) for t in chain(*_CUE_TRIGGERS.values())))
_TOKEN_CUES = {name: re.compile(_token_pattern(name)) for name in _WORK_CUES}
_ANY_TOKEN_CUE = re.compile("|".join(f"(?:{p.pattern})" for p in _TOKEN_CUES.values()))


@lru_cache(maxsize=TOKEN_CACHE)
def _token_cues(token: str) -> int:
    """The languages (a bit each, in _WORK_CUES' order) whose cues may have matched `token`."""
    if not _ANY_TOKEN_CUE.search(token):
        return 0
    return sum(1 << bit for bit, cue in enumerate(_TOKEN_CUES.values()) if cue.search(token))


def work_language(
    language: str | None, text: str, labels: Sequence[str] = (), cues: int | None = None
) -> str | None:
    """The language an issue's work is in: another language than its repository's when its
    labels name one or its text names one's files or tools at least twice (the most named wins,
    a label outweighing the text); else the repository's language (`issue_language`).

    `cues` (count_terms_and_cues, when `text` was tokenized whole and _folds_as_lower): the
    languages whose cues may match `text`; the others are not looked for.
    """
    return language_of_work(language, labels, work_cue_counts(text, cues))


def work_cue_counts(text: str, cues: int | None = None) -> tuple[int, ...]:
    """How often each language's work cue (_WORK_CUES, in order) matches `text`; `cues` as
    work_language's: a cue is looked for only where a trigger (or its bit) says it may match."""
    folded = _fold(text) if cues is None else ""
    if cues is None and not _ANY_TRIGGER.search(folded):  # most texts: no cue can match
        return _NO_CUES
    found = []
    for bit, (name, cue) in enumerate(_WORK_CUES.items()):
        if cues is None:
            maybe = any(t in folded for t in _CUE_TRIGGERS[name])
        else:
            maybe = bool(cues >> bit & 1)
        found.append(len(cue.findall(text)) if maybe else 0)
    return tuple(found)


def language_of_work(
    language: str | None, labels: Sequence[str], counts: Sequence[int]
) -> str | None:
    """work_language from the text's work_cue_counts."""
    own = issue_language(language)
    named = _named_in_labels(" ".join(labels))
    hits = {}
    for name, count in zip(_WORK_CUES, counts, strict=True):
        if name == own or {name, own} == {"javascript", "typescript"}:
            continue
        in_labels = name in named
        if in_labels or count >= 2:
            hits[name] = count + (10 if in_labels else 0)
    if not hits:
        return own
    return max(hits, key=lambda name: hits[name])


@lru_cache(maxsize=65536)  # a pool has few distinct label sets
def _named_in_labels(label_text: str) -> frozenset[str]:
    """The languages whose cues the labels name."""
    return frozenset(name for name, cue in _WORK_CUES.items() if cue.search(label_text))


def issue_work_language(issue: Issue, cues: int | None = None) -> str | None:
    """`work_language` of an issue: its title and body, its labels, its repository's language.
    `cues`: count_terms_and_cues' of its embedding text (used only where that holds the text
    whole and lower() folds it as re.IGNORECASE does)."""
    return language_of_work(issue.language, issue.labels, issue_work_cue_counts(issue, cues))


def issue_work_cue_counts(issue: Issue, cues: int | None = None) -> tuple[int, ...]:
    """work_cue_counts of an issue's title and body; `cues` as issue_work_language's."""
    text = f"{issue.title}\n{issue.body}"
    if cues is not None and not (len(issue.body) <= EMBEDDED_BODY and _folds_as_lower(text)):
        cues = None
    return work_cue_counts(text, cues)


def profile_languages(text: str, table: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """Programming languages a learner writes: named, or implied by a tool ("PyTorch" -> python).

    Single letters and "go" count only when written as names (C, R, Go), not as English words.
    """
    lowered = " ".join(text.lower().split())
    found = set()
    for language, words in table.items():
        for word in words:
            if len(word) <= 2 and word.isalpha():
                hit = re.search(
                    rf"(?<![A-Za-z0-9+#]){re.escape(word.capitalize())}(?![A-Za-z0-9+#])", text
                )
            else:
                hit = _phrase_pattern(word).search(lowered)
            if hit:
                found.add(_LANGUAGE_ALIASES.get(language, language))
                break
    return frozenset(found)


def bm25_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """BM25's idf of every term, from how many documents hold it: log((n - df + 0.5) / (df +
    0.5) + 1), its steps in place (a vocabulary of a million terms: no 8 MB temporary each)."""
    idf = n_docs - df + 0.5
    idf /= df + 0.5
    idf += 1.0
    return np.log(idf, out=idf)


WEIGHT_BLOCK = 1 << 20  # entries weighed at a time: bounded float64 temporaries


ROWS_KEPT = 1 << 22  # weights a pool keeps computed for the terms queries asked (4M entries)


class KeptRows:
    """Rows computed for the terms queries asked, kept until together they pass ROWS_KEPT
    entries, then dropped at once: a digest's learners share most of their words, and a
    community's many profiles cannot grow what a pool keeps without bound. Safe to share between
    threads (a digest's two ranking threads share one pool)."""

    def __init__(self) -> None:
        self._rows: dict[Any, Any] = {}
        self.entries = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        return self._rows.get(key)

    def keep(self, key: Any, row: Any, entries: int) -> None:
        with self._lock:
            if self.entries + entries > ROWS_KEPT:
                self._rows.clear()
                self.entries = 0
            if key not in self._rows:  # else another thread computed it meanwhile
                self._rows[key] = row
                self.entries += entries

    def keys(self) -> list:
        """The keys kept now (the terms queries asked for lately)."""
        with self._lock:
            return list(self._rows)

    def values(self) -> list:
        with self._lock:
            return list(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)


class Bm25Weights:
    """The BM25 weight of every (term, document) that term-major count matrices hold, computed for
    the terms queries ask for (`weights[terms]`, a CSR matrix of those rows) and never kept
    whole: a pool keeps its counts, each document's length norm and each term's idf, and the rows
    asked for so far (up to ROWS_KEPT weights: a digest's learners share most of their words). At
    a million issues the whole weights were 167 MB, and a second copy while a merge ran.

    The counts may come in segments: term-major matrices of consecutive documents (a snapshot's
    counts and those of the issues added since, pool.Snapshot.tail_t), each numbering its own
    documents from 0 and holding the terms known when it was made.

    Each weight is tf * (k1 + 1) / (tf + norm) * idf in float64, with the same operations in the
    same order wherever it is computed, then given as `dtype`: a row computed twice, or for a
    subset of the documents (`at`), holds the same bits."""

    def __init__(
        self, counts, norm: np.ndarray, idf: np.ndarray, k1: float, dtype: Any = np.float64
    ) -> None:
        self.segments = [counts] if hasattr(counts, "indptr") else list(counts)
        self.starts = np.cumsum([0] + [c.shape[1] for c in self.segments])  # first documents
        self.norm = norm  # k1 * (1 - b + b * length / mean length), per document
        self.idf = idf  # per term
        self.k1 = k1
        self.dtype = np.dtype(dtype)
        self.kept = KeptRows()  # term -> its row's weights, computed so far

    @staticmethod
    def fitted(
        counts,
        doc_len: np.ndarray,
        avg_len: float,
        idf: np.ndarray,
        k1: float,
        b: float,
        dtype: Any = np.float64,
    ) -> Bm25Weights:
        # k1 * (1 - b + b * doc_len / avg_len), its steps in the same order, in place
        norm = b * doc_len
        norm /= avg_len or 1.0
        norm += 1 - b
        norm *= k1
        return Bm25Weights(counts, norm, idf, k1, dtype)

    @property
    def shape(self) -> tuple[int, int]:
        return max(c.shape[0] for c in self.segments), int(self.starts[-1])

    def postings(self, term: int) -> np.ndarray:
        """The documents holding `term`, ascending."""
        return self._counts(term)[1]

    def __getitem__(self, terms):
        """Rows `terms` (an id, or ids) of the weights, as a CSR matrix."""
        from scipy import sparse

        asked = np.atleast_1d(terms)
        found = [self.postings(int(term)) for term in asked]
        indices = np.concatenate(found) if found else np.zeros(0, dtype=np.int32)
        # in the postings' own type: scipy would copy them all to match an int64 indptr
        indptr = np.zeros(len(asked) + 1, dtype=indices.dtype)
        np.cumsum([len(f) for f in found], out=indptr[1:])
        rows = [self.row(int(term)) for term in asked]
        data = np.concatenate(rows) if rows else np.zeros(0, dtype=self.dtype)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(asked), self.shape[1]))

    def dot(self, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The weighted sum of rows `terms` (ascending), `weights` each: every document's BM25
        for a query. Summed term by term, as the product of `self[terms].T` and `weights`
        would, in the type it would have (no sparse matrix built)."""
        found = np.zeros(self.shape[1], dtype=np.result_type(self.dtype, weights.dtype))
        for term, weight in zip(terms.tolist(), weights, strict=True):
            found[self.postings(term)] += self.row(term) * weight
        return found

    def whole(self):
        """Every row (tests and benchmarks: a loop over the vocabulary)."""
        return self[np.arange(self.shape[0])]

    def at(self, terms: np.ndarray, documents: np.ndarray) -> Bm25Weights:
        """The weights of `documents` only (their counts in rows `terms`, every other row empty):
        each weight is the one this matrix gives it, to the bit."""
        from scipy import sparse

        column = np.full(self.shape[1], -1, dtype=np.int32)
        column[documents] = np.arange(len(documents))
        counts, indices, lengths = [], [], np.zeros(self.shape[0], dtype=np.int64)
        for term in terms.tolist():
            held, where = self._counts(term)
            moved = column[where]
            keep = moved >= 0
            counts.append(held[keep])
            indices.append(moved[keep])
            lengths[term] = len(indices[-1])
        moved_to = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32)
        indptr = np.zeros(self.shape[0] + 1, dtype=moved_to.dtype)  # as in __getitem__
        np.cumsum(lengths, out=indptr[1:])
        counts_t = sparse.csr_matrix(
            (np.concatenate(counts) if counts else np.zeros(0, dtype=np.uint8), moved_to, indptr),
            shape=(self.shape[0], len(documents)),
        )
        return Bm25Weights(counts_t, self.norm[documents], self.idf, self.k1, self.dtype)

    def _counts(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """Row `term`'s counts and their documents, over every segment."""
        counts, where = [], []
        for segment, first in zip(self.segments, self.starts.tolist(), strict=False):
            if term < segment.shape[0]:
                start, end = segment.indptr[term], segment.indptr[term + 1]
                counts.append(segment.data[start:end])
                found = segment.indices[start:end]
                where.append(found + found.dtype.type(first) if first else found)
        if len(counts) == 1:
            return counts[0], where[0]
        if not counts:
            return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int32)
        return np.concatenate(counts), np.concatenate(where)

    def row(self, term: int) -> np.ndarray:
        """Row `term`'s weights, at its postings (kept while ROWS_KEPT allows)."""
        found = self.kept.get(term)
        if found is None:
            counts, where = self._counts(term)
            found = self._weighed(counts, where, self.idf[term])
            self.kept.keep(term, found, len(found))
        return found

    def _weighed(self, counts: np.ndarray, documents: np.ndarray, idf) -> np.ndarray:
        """The weights of `counts` in `documents`, of terms of idf `idf` (one, or one each)."""
        tf = counts.astype(np.float64)
        below = self.norm[documents]
        below += tf
        tf *= self.k1 + 1
        tf /= below
        tf *= idf
        return tf.astype(self.dtype, copy=False)
