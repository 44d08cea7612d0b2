"""A small, honest GraphQL engine for the fake GitHub: parse, validate, cost and execute.

It knows the part of GitHub's schema that the matcher asks for and nothing else: an unknown
field, argument, type condition or undeclared variable is an error in GitHub's own words, never
silently ignored. Costs follow GitHub's published rule: every connection asked with first/last
needs one request per parent node; the sum divided by 100, rounded, at least 1.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------------------------
# Lexer and parser


class GraphQLSyntaxError(Exception):
    pass


_TOKEN = re.compile(
    r"""
    (?P<ws>[\s,\ufeff]+|\#[^\n]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[{}()\[\]:!$=@|&])
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
    """,
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise GraphQLSyntaxError(f"Parse error on {text[pos]!r} at line {line}")
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(), text.count("\n", 0, pos) + 1))
        pos = m.end()
    out.append(("eof", "", text.count("\n") + 1))
    return out


@dataclass
class Var:
    name: str


@dataclass
class Enum:
    name: str


@dataclass
class FieldNode:
    name: str
    alias: str | None
    args: dict[str, Any]
    selections: list
    line: int

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list


@dataclass
class FragmentSpread:
    name: str
    line: int


@dataclass
class Operation:
    kind: str
    name: str | None
    variables: dict[str, tuple[str, Any]]  # name -> (type text, default)
    selections: list


@dataclass
class Document:
    operations: list[Operation]
    fragments: dict[str, tuple[str, list]]


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        k, v, _ = self.toks[self.i]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        k, v, line = self.toks[self.i]
        if (value is not None and v != value) or (kind is not None and k != kind):
            want = value or kind
            raise GraphQLSyntaxError(f"Parse error on {v!r} ({k}) at line {line}: expected {want}")
        self.i += 1
        return v

    def line(self) -> int:
        return self.toks[self.i][2]

    def document(self) -> Document:
        ops, frags = [], {}
        while not self.peek(kind="eof"):
            if self.peek("{"):
                ops.append(Operation("query", None, {}, self.selection_set()))
            elif self.peek("fragment"):
                self.take()
                name = self.take(kind="name")
                self.take("on")
                frags[name] = (self.take(kind="name"), self.selection_set())
            elif self.peek("query") or self.peek("mutation") or self.peek("subscription"):
                kind = self.take()
                name = self.take(kind="name") if self.peek(kind="name") else None
                variables = self.variable_defs() if self.peek("(") else {}
                ops.append(Operation(kind, name, variables, self.selection_set()))
            else:
                k, v, line = self.toks[self.i]
                raise GraphQLSyntaxError(f"Parse error on {v!r} ({k}) at line {line}")
        return Document(ops, frags)

    def variable_defs(self) -> dict:
        self.take("(")
        out = {}
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            type_text = self.type_ref()
            default = None
            if self.peek("="):
                self.take()
                default = self.value(const=True)
            out[name] = (type_text, default)
        self.take(")")
        return out

    def type_ref(self) -> str:
        if self.peek("["):
            self.take()
            inner = self.type_ref()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name")
        if self.peek("!"):
            self.take()
            text += "!"
        return text

    def selection_set(self) -> list:
        self.take("{")
        out = []
        while not self.peek("}"):
            if self.peek(kind="spread"):
                self.take()
                line = self.line()
                if self.peek("on"):
                    self.take()
                    cond = self.take(kind="name")
                    out.append(InlineFragment(cond, self.selection_set()))
                elif self.peek("{"):
                    out.append(InlineFragment(None, self.selection_set()))
                else:
                    out.append(FragmentSpread(self.take(kind="name"), line))
                continue
            line = self.line()
            name = self.take(kind="name")
            alias = None
            if self.peek(":"):
                self.take()
                alias, name = name, self.take(kind="name")
            args = self.arguments() if self.peek("(") else {}
            if self.peek("@"):
                raise GraphQLSyntaxError(f"Directives are not supported by this fake (line {line})")
            sels = self.selection_set() if self.peek("{") else []
            out.append(FieldNode(name, alias, args, sels, line))
        self.take("}")
        if not out:
            raise GraphQLSyntaxError("Parse error: empty selection set")
        return out

    def arguments(self) -> dict:
        self.take("(")
        out = {}
        while not self.peek(")"):
            name = self.take(kind="name")
            self.take(":")
            out[name] = self.value()
        self.take(")")
        return out

    def value(self, const: bool = False) -> Any:
        k, v, line = self.toks[self.i]
        if v == "$" and not const:
            self.take()
            return Var(self.take(kind="name"))
        if k == "num":
            self.take()
            return float(v) if any(c in v for c in ".eE") else int(v)
        if k == "str":
            self.take()
            return json.loads(v)
        if v == "[":
            self.take()
            items = []
            while not self.peek("]"):
                items.append(self.value(const))
            self.take("]")
            return items
        if v == "{":
            self.take()
            obj = {}
            while not self.peek("}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value(const)
            self.take("}")
            return obj
        if k == "name":
            self.take()
            if v in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[v]
            return Enum(v)
        raise GraphQLSyntaxError(f"Parse error on {v!r} ({k}) at line {line}: expected a value")


def parse(text: str) -> Document:
    return _Parser(text).document()


# --------------------------------------------------------------------------------------------
# Schema: the subset of GitHub's that the fake serves

SCALAR = None
CONNECTION_ARGS = frozenset({"first", "last", "after", "before"})


@dataclass(frozen=True)
class F:
    """A field: its type (None for a scalar), accepted arguments, and whether it is a connection."""

    type: str | None = SCALAR
    args: frozenset = frozenset()
    connection: bool = False


def _conn(node_type: str, *extra: str) -> F:
    return F(f"{node_type}Connection", CONNECTION_ARGS | frozenset(extra), connection=True)


SCHEMA: dict[str, dict[str, F]] = {
    "Query": {
        "rateLimit": F("RateLimit", frozenset({"dryRun"})),
        "repository": F("Repository", frozenset({"owner", "name", "followRenames"})),
        "viewer": F("User"),
        "user": F("User", frozenset({"login"})),
        "resource": F("UniformResourceLocatable", frozenset({"url"})),
    },
    "RateLimit": {k: F() for k in ("cost", "remaining", "resetAt", "limit", "used", "nodeCount")},
    "Repository": {
        "id": F(),
        "name": F(),
        "nameWithOwner": F(),
        "url": F(),
        "description": F(),
        "stargazerCount": F(),
        "isArchived": F(),
        "isFork": F(),
        "createdAt": F(),
        "updatedAt": F(),
        "owner": F("User"),
        "primaryLanguage": F("Language"),
        "repositoryTopics": _conn("RepositoryTopic"),
        "issues": _conn("Issue", "filterBy", "orderBy", "states", "labels"),
        "issue": F("Issue", frozenset({"number"})),
        "pullRequests": _conn(
            "PullRequest", "states", "orderBy", "labels", "baseRefName", "headRefName"
        ),
    },
    "Language": {"name": F(), "color": F()},
    "RepositoryTopic": {"topic": F("Topic"), "url": F()},
    "Topic": {"name": F()},
    "User": {"login": F(), "name": F(), "url": F(), "avatarUrl": F()},
    "Issue": {
        "id": F(),
        "number": F(),
        "url": F(),
        "title": F(),
        "body": F(),
        "state": F(),
        "stateReason": F(),
        "createdAt": F(),
        "updatedAt": F(),
        "closedAt": F(),
        "locked": F(),
        "authorAssociation": F(),
        "author": F("User"),
        "labels": _conn("Label", "orderBy"),
        "assignees": _conn("User"),
        "comments": _conn("IssueComment", "orderBy"),
        "reactions": _conn("Reaction", "content", "orderBy"),
        "closedByPullRequestsReferences": _conn(
            "PullRequest", "includeClosedPrs", "orderByState", "userLinkedOnly"
        ),
        "timelineItems": _conn("IssueTimelineItems", "itemTypes", "since", "skip"),
    },
    "Label": {"name": F(), "color": F(), "description": F()},
    "IssueComment": {
        "body": F(),
        "createdAt": F(),
        "updatedAt": F(),
        "url": F(),
        "authorAssociation": F(),
        "author": F("Actor"),  # an interface: a User, or a Bot (a GitHub App)
    },
    "Actor": {"login": F(), "avatarUrl": F(), "url": F()},
    "Bot": {"login": F(), "avatarUrl": F(), "url": F()},
    "Reaction": {"content": F(), "createdAt": F()},
    "PullRequest": {
        "url": F(),
        "number": F(),
        "state": F(),
        "title": F(),
        "isDraft": F(),
        "createdAt": F(),
        "merged": F(),
        "mergedAt": F(),
        "updatedAt": F(),
        "authorAssociation": F(),
        "author": F("User"),
        "closingIssuesReferences": _conn("Issue", "orderBy", "userLinkedOnly"),
    },
    "ConnectedEvent": {"createdAt": F(), "subject": F("ReferencedSubject"), "id": F()},
    "DisconnectedEvent": {"createdAt": F(), "subject": F("ReferencedSubject"), "id": F()},
    "CrossReferencedEvent": {
        "createdAt": F(),
        "source": F("ReferencedSubject"),
        "willCloseTarget": F(),
        "isCrossRepository": F(),
        "id": F(),
    },
    "PageInfo": {k: F() for k in ("hasNextPage", "hasPreviousPage", "endCursor", "startCursor")},
}
ABSTRACT = {
    "Actor": {"User", "Bot"},
    "IssueTimelineItems": {"ConnectedEvent", "DisconnectedEvent", "CrossReferencedEvent"},
    "ReferencedSubject": {"PullRequest", "Issue"},
    "UniformResourceLocatable": {"PullRequest", "Issue", "Repository", "User"},
}
for _node in (
    "RepositoryTopic",
    "Issue",
    "Label",
    "User",
    "IssueComment",
    "Reaction",
    "PullRequest",
    "IssueTimelineItems",
):
    SCHEMA[f"{_node}Connection"] = {
        "totalCount": F(),
        "pageInfo": F("PageInfo"),
        "nodes": F(_node),
        "edges": F(f"{_node}Edge"),
    }
    SCHEMA[f"{_node}Edge"] = {"cursor": F(), "node": F(_node)}
MAX_PAGE = 100


# --------------------------------------------------------------------------------------------
# Validation and cost


@dataclass
class Problems:
    errors: list[dict] = field(default_factory=list)

    def add(
        self, message: str, line: int | None = None, path: list | None = None, code: str = ""
    ) -> None:
        err: dict[str, Any] = {"message": message}
        if line:
            err["locations"] = [{"line": line, "column": 1}]
        if path:
            err["path"] = path
        if code:
            err["extensions"] = {"code": code}
        self.errors.append(err)


def _possible(type_name: str) -> set[str]:
    return ABSTRACT.get(type_name, {type_name})


def validate(doc: Document, op: Operation) -> list[dict]:
    """GitHub-worded errors for unknown fields, arguments, fragments and variables."""
    problems = Problems()
    used_vars: set[str] = set()

    def walk_value(value: Any) -> None:
        if isinstance(value, Var):
            used_vars.add(value.name)
        elif isinstance(value, list):
            for v in value:
                walk_value(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk_value(v)

    def walk(selections: list, type_name: str, path: list, seen_frags: frozenset) -> None:
        for sel in selections:
            if isinstance(sel, FragmentSpread):
                if sel.name not in doc.fragments:
                    problems.add(f"Fragment {sel.name} was used, but not defined", sel.line)
                    continue
                if sel.name in seen_frags:
                    problems.add(f"Fragment {sel.name} contains an infinite loop", sel.line)
                    continue
                cond, sels = doc.fragments[sel.name]
                check_condition(cond, type_name, sel.line)
                walk(sels, cond if cond in SCHEMA else type_name, path, seen_frags | {sel.name})
            elif isinstance(sel, InlineFragment):
                cond = sel.type_condition or type_name
                check_condition(cond, type_name, None)
                walk(sel.selections, cond if cond in SCHEMA else type_name, path, seen_frags)
            else:
                field_path = path + [sel.key]
                if sel.name == "__typename":
                    continue
                fields = SCHEMA.get(type_name, {})
                spec = fields.get(sel.name)
                if spec is None:
                    problems.add(
                        f"Field '{sel.name}' doesn't exist on type '{type_name}'",
                        sel.line,
                        field_path,
                        "undefinedField",
                    )
                    continue
                for arg, value in sel.args.items():
                    if arg not in spec.args:
                        problems.add(
                            f"Field '{sel.name}' doesn't accept argument '{arg}'",
                            sel.line,
                            field_path,
                            "argumentNotAccepted",
                        )
                    walk_value(value)
                if spec.type is None and sel.selections:
                    problems.add(
                        f"Selections can't be made on scalars (field '{sel.name}')",
                        sel.line,
                        field_path,
                        "selectionMismatch",
                    )
                elif spec.type is not None and not sel.selections:
                    problems.add(
                        f"Field must have selections (field '{sel.name}' returns {spec.type} "
                        "but has no selections)",
                        sel.line,
                        field_path,
                        "selectionMismatch",
                    )
                elif spec.type is not None:
                    # GitHub's docs: every connection needs `first` or `last`, even one asked
                    # only for its totalCount
                    if spec.connection and not ("first" in sel.args or "last" in sel.args):
                        problems.add(
                            f"You must provide a `first` or `last` value to properly paginate "
                            f"the `{sel.name}` connection.",
                            sel.line,
                            field_path,
                            "missingRequiredArguments",
                        )
                    walk(sel.selections, spec.type, field_path, seen_frags)

    def check_condition(cond: str, type_name: str, line: int | None) -> None:
        if cond not in SCHEMA and cond not in ABSTRACT:
            problems.add(f"No such type {cond}, so it can't be a fragment condition", line)
        elif not (_possible(cond) & _possible(type_name)):
            problems.add(f"Fragment on {cond} can't be spread inside {type_name}", line)

    root = {"query": "Query"}.get(op.kind)
    if root is None:
        problems.add(f"Schema is not configured for {op.kind}s")
        return problems.errors
    walk(op.selections, root, [], frozenset())
    for name in sorted(used_vars - set(op.variables)):
        problems.add(
            f"Variable ${name} is used by {op.name or 'anonymous query'} but not declared",
            code="variableNotDefined",
        )
    for name in sorted(set(op.variables) - used_vars):
        problems.add(
            f"Variable ${name} is declared by {op.name or 'anonymous query'} but not used",
            code="variableNotUsed",
        )
    return problems.errors


def resolve_value(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list):
        return [resolve_value(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve_value(v, variables) for k, v in value.items()}
    return value


def cost(doc: Document, op: Operation, variables: dict[str, Any]) -> tuple[int, list[dict]]:
    """GitHub's rate-limit cost of a query, and errors for pages above 100."""
    points, _nodes, errors = measure(doc, op, variables)
    return points, errors


def measure(doc: Document, op: Operation, variables: dict[str, Any]) -> tuple[int, int, list[dict]]:
    """Points, GitHub's node count (every connection page times its parents), and errors."""
    total = 0
    nodes = 0
    errors: list[dict] = []

    def walk(selections: list, type_name: str, multiplier: int) -> None:
        nonlocal total, nodes
        for sel in selections:
            if isinstance(sel, FragmentSpread):
                cond, sels = doc.fragments[sel.name]
                walk(sels, cond, multiplier)
            elif isinstance(sel, InlineFragment):
                walk(sel.selections, sel.type_condition or type_name, multiplier)
            elif sel.name != "__typename":
                spec = SCHEMA.get(type_name, {}).get(sel.name)
                if spec is None or spec.type is None:
                    continue
                size = 1
                if spec.connection:
                    n = resolve_value(sel.args.get("first", sel.args.get("last")), variables)
                    if isinstance(n, int):
                        if n > MAX_PAGE or n < 0:
                            errors.append(
                                {
                                    "message": f"Requesting {n} records on the `{sel.name}` "
                                    f"connection exceeds the `first` limit of {MAX_PAGE} records.",
                                    "type": "EXCESSIVE_PAGINATION",
                                }
                            )
                        total += multiplier
                        size = max(n, 1)
                        nodes += multiplier * size
                walk(sel.selections, spec.type, multiplier * size)

    walk(op.selections, "Query", 1)
    return max(1, round(total / 100)), nodes, errors


# --------------------------------------------------------------------------------------------
# Execution


class Obj:
    """A runtime object: its concrete GraphQL type and a resolver for each field."""

    def __init__(self, typename: str, **fields: Any):
        self.typename = typename
        self.fields = fields

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        value = self.fields.get(name)
        return value(args) if callable(value) else value


class ExecutionError(Exception):
    def __init__(self, message: str, type_: str = "", path: list | None = None):
        super().__init__(message)
        self.type = type_
        self.path = path or []


def execute(
    doc: Document, op: Operation, root: Obj, variables: dict[str, Any]
) -> tuple[dict, list[dict]]:
    """Run a validated operation; field errors null their field and are listed with a path."""
    errors: list[dict] = []

    def collect(selections: list, obj: Obj, out: list) -> None:
        for sel in selections:
            if isinstance(sel, FragmentSpread):
                cond, sels = doc.fragments[sel.name]
                if obj.typename in _possible(cond):
                    collect(sels, obj, out)
            elif isinstance(sel, InlineFragment):
                if sel.type_condition is None or obj.typename in _possible(sel.type_condition):
                    collect(sel.selections, obj, out)
            else:
                out.append(sel)

    def run(selections: list, obj: Obj, path: list) -> dict:
        fields: list[FieldNode] = []
        collect(selections, obj, fields)
        result: dict[str, Any] = {}
        for sel in fields:
            key = sel.key
            if sel.name == "__typename":
                result[key] = obj.typename
                continue
            args = {k: resolve_value(v, variables) for k, v in sel.args.items()}
            try:
                value = obj.resolve(sel.name, args)
            except ExecutionError as exc:
                err = {
                    "type": exc.type or "UNPROCESSABLE",
                    "path": path + [key],
                    "message": str(exc),
                }
                errors.append(err)
                result[key] = None
                continue
            value = shape(value, sel, path + [key])
            if isinstance(result.get(key), dict) and isinstance(value, dict):
                result[key].update(value)
            else:
                result[key] = value
        return result

    def shape(value: Any, sel: FieldNode, path: list) -> Any:
        if isinstance(value, Obj):
            return run(sel.selections, value, path)
        if isinstance(value, list):
            return [shape(v, sel, path + [i]) for i, v in enumerate(value)]
        return value

    data = run(op.selections, root, [])
    return data, errors


def paginate(items: list, keys: list, args: dict, encode, decode, *, descending: bool = False):
    """A connection page by first/last/after/before over items already in order; keyset cursors."""
    first, last = args.get("first"), args.get("last")
    after, before = args.get("after"), args.get("before")
    pairs = list(zip(items, keys, strict=True))
    if after is not None:
        k = decode(after)
        pairs = [p for p in pairs if (p[1] < k if descending else p[1] > k)]
    if before is not None:
        k = decode(before)
        pairs = [p for p in pairs if (p[1] > k if descending else p[1] < k)]
    has_next = has_prev = False
    if isinstance(first, int):
        has_next = len(pairs) > first
        pairs = pairs[:first]
    if isinstance(last, int):
        has_prev = len(pairs) > last
        pairs = pairs[len(pairs) - last :] if last else []
    page_info = Obj(
        "PageInfo",
        hasNextPage=has_next,
        hasPreviousPage=has_prev,
        startCursor=encode(pairs[0][1]) if pairs else None,
        endCursor=encode(pairs[-1][1]) if pairs else None,
    )
    return [p[0] for p in pairs], [encode(p[1]) for p in pairs], page_info
