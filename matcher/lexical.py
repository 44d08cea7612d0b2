"""Lexical matching: a tokenizer that keeps tool names whole, query expansion, and BM25 as an estimator."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from matcher.errors import ConfigError
from matcher.settings import CONFIG_DIR, read_yaml

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
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        token = token.rstrip(".")
        if token in _STOP or len(token) < 2 and token not in {"c", "r"}:
            continue
        tokens.append(token)
        if "-" in token or "." in token:
            tokens.extend(p for p in re.split(r"[.\-]", token) if len(p) > 1 and p not in _STOP)
    return tokens


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
    terms = tokenize(lowered)
    for phrase, extra in synonyms.items():
        for _ in _phrase_pattern(phrase).finditer(lowered):
            for term in extra:
                terms.extend(tokenize(term))
    return list(dict.fromkeys(terms)) if unique else terms


@lru_cache(maxsize=4)
def load_languages(path: Path = CONFIG_DIR / "synonyms.yaml") -> dict[str, tuple[str, ...]]:
    """Programming language -> words in a profile that imply a learner writes it (optional `languages` key)."""
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
    """The programming language a repository's code is in, or None when it says nothing (docs, config)."""
    name = (language or "").strip().lower()
    if name in _NEUTRAL_LANGUAGES:
        return None
    return _LANGUAGE_ALIASES.get(name, name)


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


class BM25(BaseEstimator):
    """Okapi BM25 over a fixed corpus: `fit(docs)`, then `score(query_terms)` for every document."""

    def __init__(self, k1: float = 1.5, b: float = 0.75):
        self.k1 = k1
        self.b = b

    def fit(self, documents: Sequence[str], y=None) -> BM25:
        vectorizer = CountVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None)
        try:
            counts = vectorizer.fit_transform(documents).tocsr().astype(np.float64)
            self.vocabulary_ = vectorizer.vocabulary_
        except ValueError:  # no documents, or not one term in them: nothing can match
            counts = sparse.csr_matrix((len(documents), 0))
            self.vocabulary_ = {}
        n_docs = counts.shape[0]
        doc_len = np.asarray(counts.sum(axis=1)).ravel()
        avg_len = doc_len.mean() if n_docs else 0.0
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf_ = np.log((n_docs - df + 0.5) / (df + 0.5) + 1.0)
        norm = self.k1 * (1 - self.b + self.b * doc_len / (avg_len or 1.0))
        weights = counts.copy()
        row_norm = np.repeat(norm, np.diff(counts.indptr))
        weights.data = counts.data * (self.k1 + 1) / (counts.data + row_norm)
        self.weights_ = sparse.csr_matrix(weights.multiply(self.idf_).tocsr())
        self.doc_terms_ = [set() for _ in range(n_docs)]
        vocab_inv = {index: term for term, index in self.vocabulary_.items()}
        for row in range(n_docs):
            self.doc_terms_[row] = {
                vocab_inv[j] for j in counts.indices[counts.indptr[row] : counts.indptr[row + 1]]
            }
        return self

    def score(self, terms: Iterable[str]) -> np.ndarray:
        """BM25 of every document. A term given n times weighs sqrt(n): the profile keeps coming back to it."""
        vocab = self.vocabulary_
        counts = Counter(vocab[t] for t in terms if t in vocab)
        if not counts:
            return np.zeros(self.weights_.shape[0])
        cols = sorted(counts)
        weights = np.sqrt(np.array([counts[c] for c in cols], dtype=np.float64))
        return np.asarray(self.weights_[:, cols] @ weights).ravel()

    def matched_terms(self, doc_index: int, terms: Iterable[str]) -> list[str]:
        """Query terms that really occur in one document, in query order."""
        present = self.doc_terms_[doc_index]
        return [t for t in dict.fromkeys(terms) if t in present]
