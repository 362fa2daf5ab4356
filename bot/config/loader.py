"""Loading config.yaml: YAML nodes keep their lines, so every problem is reported as FILE:LINE: path: message."""

from __future__ import annotations

import difflib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.config.root import Config, cross_check
from bot.config.section import Finding, PathKey
from bot.config.values import current_base_dir
from bot.config.yaml_guard import Refused, guard

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


@dataclass(frozen=True)
class Problem:
    """One error or warning, located in the config file."""

    file: str
    line: int | None  # 1-based; None when the whole file is concerned (unreadable)
    path: str  # dotted YAML path such as "catalogue[1].prise"; "" for the file as a whole
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """The config did not load; `problems` says where and why, and str() lists them one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass(frozen=True)
class CheckResult:
    config: Config | None  # None when there are errors
    errors: list[Problem]
    warnings: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.errors


def format_path(path: PathKey) -> str:
    """("catalogue", 1, "prise") -> "catalogue[1].prise"."""
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


# ------------------------------------------------------------------------------------------------------ YAML -> data


@dataclass
class _Tree:
    """Plain data built from the YAML nodes, with the line of every key and of every value node."""

    key_lines: dict[PathKey, int] = field(default_factory=dict)  # line of the key (or of the sequence item)
    node_lines: dict[PathKey, int] = field(default_factory=dict)  # first line of the value itself
    issues: list[tuple[int, PathKey, str]] = field(default_factory=list)

    def line_of(self, path: PathKey) -> int | None:
        """The line of the longest prefix of `path` that exists in the file."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.key_lines:
                return self.key_lines[path[:n]]
        return self.node_lines.get(())

    def mapping_line_of(self, path: PathKey) -> int | None:
        """The first line of the mapping at `path` (or of its closest existing parent)."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.node_lines:
                return self.node_lines[path[:n]]
        return None


class _Builder:
    def __init__(self, tree: _Tree) -> None:
        self.tree = tree
        self.constructor = yaml.constructor.SafeConstructor()
        self.active: set[int] = set()  # nodes being built, to stop recursive aliases

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.tree.node_lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self.active:
            self.tree.issues.append((node.start_mark.line + 1, path, "recursive alias"))
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                result = []
                for i, item in enumerate(node.value):
                    self.tree.key_lines.setdefault((*path, i), item.start_mark.line + 1)
                    result.append(self.build(item, (*path, i)))
                return result
            return self._scalar(node, path)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: yaml.Node, path: PathKey) -> Any:
        # YAML 1.1 reads an unquoted 20:00 as the base-60 integer 1200; nobody writing a time means that.
        if node.tag in (_INT_TAG, _FLOAT_TAG) and ":" in node.value and isinstance(node, yaml.ScalarNode):
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            self.tree.issues.append((node.start_mark.line + 1, path, f"bad value: {exc.problem}"))
            return None

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.tree.issues.append((line, path, "a key must be a plain name"))
                continue
            key = str(self._scalar(key_node, path))
            if key in first_line:
                message = f"duplicate key {key} (first at line {first_line[key]})"
                self.tree.issues.append((line, (*path, key), message))
                continue
            first_line[key] = line
            self.tree.key_lines.setdefault((*path, key), line)
            result[key] = self.build(value_node, (*path, key))
        # `<<: *anchor` fills in the keys the mapping does not give itself.
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                merged = self.build(source, path)
                if not isinstance(merged, dict):
                    self.tree.issues.append((merge.start_mark.line + 1, path, "<< must name a mapping"))
                    continue
                for key, value in merged.items():
                    result.setdefault(key, value)
        return result


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[int | None, str]:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return None, f"invalid YAML: {exc}"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    lines = text.splitlines()
    if line is not None and 0 < line <= len(lines):
        indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
        if "\t" in indent or "'\\t'" in str(exc.problem):
            return line, "tab character in indentation: indent with spaces, not tabs"
    if exc.problem and "another document" in exc.problem:
        return line, "invalid YAML: only one document is allowed (remove the second ---)"
    message = f"invalid YAML: {exc.problem}"
    if exc.context:
        message += f" ({exc.context})"
    return line, message


# ------------------------------------------------------------------------------------------ pydantic errors -> lines


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            args = [a for a in get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else args[0]
        else:
            return tp


def _model_at(path: PathKey) -> type[BaseModel] | None:
    tp: Any = Config
    for seg in path:
        tp = _unwrap(tp)
        if isinstance(seg, int):
            args = get_args(tp)
            if get_origin(tp) is not list or not args:
                return None
            tp = args[0]
        else:
            if not (isinstance(tp, type) and issubclass(tp, BaseModel)) or seg not in tp.model_fields:
                return None
            tp = tp.model_fields[seg].annotation
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


_PLAIN_MESSAGES = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "string_type": "expected text",
    "list_type": "expected a list",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "dict_type": "expected a mapping (key: value lines)",
    "decimal_parsing": "expected a number",
    "decimal_type": "expected a number",
    "time_parsing": "expected a time of day like 09:00",
    "time_type": "expected a time of day like 09:00",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
}


def _message(err: ErrorDetails) -> str:
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        names = [n for n in model.model_fields if n != "source"] if model else []
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        return "unknown field" + (f" (did you mean {close[0]}?)" if close else "")
    if kind == "missing":
        return "required field is missing"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind == "at_field":
        return str(ctx["message"])
    if kind == "greater_than_equal":
        message = f"must be at least {ctx['ge']}"
    elif kind == "less_than_equal":
        message = f"must be at most {ctx['le']}"
    elif kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        message = "must not be empty"
    elif kind == "decimal_max_places":
        message = f"at most {ctx['decimal_places']} decimal places"
    else:
        message = _PLAIN_MESSAGES.get(kind, err["msg"])
    value = err.get("input")
    if value is None or isinstance(value, str | int | float | bool):
        message += f", got {value!r}"
    return message


def _validation_problems(exc: ValidationError, tree: _Tree, file: str) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        loc: PathKey = tuple(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == "config_conflicts":
            problems.extend(_finding_problems(ctx["findings"], tree, file))
            continue
        if err["type"] == "at_field":
            loc = (*loc, *ctx["field"])
        line = tree.mapping_line_of(loc[:-1]) if err["type"] == "missing" else tree.line_of(loc)
        problems.append(Problem(file, line, format_path(loc), _message(err)))
    return problems


def _finding_problems(findings: list[Finding], tree: _Tree, file: str) -> list[Problem]:
    return [Problem(file, tree.line_of(f.path), format_path(f.path), f.message) for f in findings]


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


# ---------------------------------------------------------------------------------------------------------- public


def _check_text(text: str, file: str, base_dir: Path | None, source: Path | None) -> CheckResult:
    tree = _Tree()
    try:
        guard(text)  # alias bombs and deep nesting are refused before anything is built
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except Refused as refused:
        return CheckResult(None, [Problem(file, refused.line, "", refused.message)], [])
    except yaml.YAMLError as exc:
        line, message = _yaml_problem(exc, text)
        return CheckResult(None, [Problem(file, line, "", message)], [])
    warnings: list[Problem] = []
    if root is None:
        data: Any = {}
        warnings.append(Problem(file, 1, "", "the file holds no settings"))
    else:
        data = _Builder(tree).build(root, ())
    if tree.issues:
        issues = [Problem(file, line, format_path(path), message) for line, path, message in tree.issues]
        return CheckResult(None, _by_line(issues), [])
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"{data!r}"
        message = f"the top level must be a mapping of sections (timezone:, catalogue:, groups:, …), not {kind}"
        return CheckResult(None, [Problem(file, tree.node_lines.get(()), "", message)], [])

    errors: list[Problem] = []
    if "source" in data:  # a Config field set by the loader, never a YAML key
        errors.append(Problem(file, tree.line_of(("source",)), "source", "unknown field"))
        data.pop("source")
    token = current_base_dir.set(base_dir if base_dir is not None else Path.cwd())
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        errors.extend(_validation_problems(exc, tree, file))
        return CheckResult(None, _by_line(errors), warnings)
    finally:
        current_base_dir.reset(token)
    if errors:
        return CheckResult(None, errors, warnings)
    _, findings = cross_check(config)
    warnings.extend(_finding_problems(findings, tree, file))
    if source is not None:
        config = config.model_copy(update={"source": source})
    return CheckResult(config, [], _by_line(warnings))


def check_config(path: str | Path) -> CheckResult:
    """Load and check a config file; bad input gives errors in the result, never an exception."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return CheckResult(None, [Problem(file, None, "", f"cannot read the file: {exc}")], [])
    return _check_text(text, file, Path(path).parent, Path(path).resolve())


def load_config(path: str | Path) -> Config:
    """Load a config file; raises ConfigError listing every problem. Warnings are not raised."""
    result = check_config(path)
    if result.config is None:
        raise ConfigError(result.errors)
    return result.config


def parse_config_text(text: str, *, file: str = "<string>", base_dir: Path | None = None) -> Config:
    """Validate config text (column `file:` paths are relative to base_dir, default the working directory)."""
    result = _check_text(text, file, base_dir, None)
    if result.config is None:
        raise ConfigError(result.errors)
    return result.config
