"""Griffe extension (mkdocs.yml, mkdocstrings `extensions:`): grouped Args,
generated signatures.

The project's docstrings document arguments that share a text together,
`host, port: Where the chief listens.` (the convenience tuners' generated
docstrings do too, and `autokeras_nas.tuner.convenience.arg_docs` reads them
so). Google style as griffe parses it has one name per entry, so such an
entry would be an unknown parameter. This extension gives each name of a
group its own entry, with the group's text, before griffe parses the
docstring; a misspelt argument name is still reported.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import griffe

_SECTION = re.compile(
    r"^(\s*)(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters):\s*$"
)
_NAME = r"\*{0,2}[A-Za-z_]\w*"
#: "a, b: text" (the text may start on the next line).
_GROUP = re.compile(rf"^({_NAME}(?:,\s*{_NAME})+):(\s.*)?$")
#: "a, b," whose names go on in the next entry.
_NAMES_GO_ON = re.compile(rf"^{_NAME}(?:,\s*{_NAME})*,$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _split_entries(body: list[str]) -> list[str]:
    """The lines of one Args section, grouped entries split."""
    depth = min((_indent(line) for line in body if line.strip()), default=0)
    entries: list[list[str]] = []
    for line in body:
        if line.strip() and _indent(line) == depth or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    out: list[str] = []
    pending = ""
    for entry in entries:
        first = entry[0].strip()
        if pending:
            first = f"{pending} {first}"
            pending = ""
        rest = entry[1:]
        while rest and _NAMES_GO_ON.match(first):  # the names go on, indented
            first = f"{first} {rest.pop(0).strip()}"
        if not rest and _NAMES_GO_ON.match(first):  # or in the next entry
            pending = first
            continue
        match = _GROUP.match(first)
        if not match:
            out += [" " * depth + first, *rest] if entry[0].strip() else entry
            continue
        names = [n.strip() for n in match.group(1).split(",")]
        text = match.group(2) or ""
        for name in names:
            out += [f"{' ' * depth}{name}:{text}", *rest]
    if pending:
        out.append(" " * depth + pending)
    return out


def split_grouped_args(text: str) -> str:
    """`text` (a docstring) with each "a, b: ..." entry of its Args sections
    made one entry per name, each with the whole text."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        match = _SECTION.match(line)
        if not match:
            continue
        body: list[str] = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(match.group(1))):
            body.append(lines[i])
            i += 1
        trailing = []
        while body and not body[-1].strip():
            trailing.append(body.pop())
        out += _split_entries(body) + trailing
    return "\n".join(out)


def _parameter(param: inspect.Parameter) -> griffe.Parameter:
    annotation = param.annotation
    if annotation is not param.empty and not isinstance(annotation, str):
        annotation = getattr(annotation, "__name__", repr(annotation))
    return griffe.Parameter(
        param.name,
        annotation=None if annotation is param.empty else annotation,
        kind=griffe.ParameterKind(param.kind.description),
        default=None if param.default is param.empty else repr(param.default),
    )


class GroupedArgs(griffe.Extension):
    """Splits grouped Args entries of every loaded object's docstring, and
    gives a class inspected at run time whose `__signature__` is its own
    (the convenience tuners' is generated from their strategy) that
    signature as its constructor's."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = split_grouped_args(obj.docstring.value)

    def on_class_members(self, *, node: Any, cls: griffe.Class, **kwargs: Any) -> None:
        runtime = getattr(node, "obj", None)
        if not isinstance(runtime, type) or "__signature__" not in vars(runtime):
            return
        params = [_parameter(p) for p in inspect.signature(runtime).parameters.values()]
        init = griffe.Function("__init__", parameters=griffe.Parameters(
            griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword), *params))
        cls.set_member("__init__", init)
