"""A contract type of our own for import-linter: no request globals below the web layer.

import-linter sees an external package only as a whole (``flask``), and code below the web layer may
use some of Flask (``current_app`` for configuration and the logger) but not the objects that belong
to one request. This contract reads each module of ``source_modules`` that imports a forbidden
name's package, and refuses ``from flask import request`` (also inside a parenthesised import list
or a function), ``from flask.globals import g``, and ``import flask`` followed by ``flask.request``.
Configured in setup.cfg (``[importlinter:contract:request-globals]``); ``tests/test_layers.py``
proves that it fails when a service imports ``flask.request``.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True, order=True)
class Violation:
    module: str
    line: int
    name: str


class ForbiddenNamesContract(Contract):
    """Modules under ``source_modules`` may not import any of ``forbidden_names``
    (``package.name``: ``flask.request``, ``flask_login.current_user``)."""

    type_name = "forbidden_names"

    source_modules = fields.ListField(subfield=fields.StringField())
    forbidden_names = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        forbidden: dict[str, set[str]] = {}
        for dotted in self.forbidden_names:
            package, _, name = dotted.rpartition(".")
            forbidden.setdefault(package, set()).add(name)
        roots = {package.partition(".")[0] for package in forbidden}
        importers = set()
        for root in roots:
            if root in graph.modules:
                importers |= graph.find_modules_that_directly_import(root)
        sources = [module for module in sorted(importers) if self._is_source(module)]
        violations = sorted(v for module in sources for v in _violations(module, forbidden))
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def _is_source(self, module: str) -> bool:
        return any(
            module == source or module.startswith(source + ".") for source in self.source_modules
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(
                f"{violation.module} imports {violation.name} (l.{violation.line})", bold=False
            )
            output.new_line()


def _violations(module: str, forbidden: dict[str, set[str]]) -> list[Violation]:
    spec = importlib.util.find_spec(module)
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            package = _package_of(node.module or "", forbidden)
            if package is not None:
                found += [
                    Violation(module, node.lineno, f"{package}.{alias.name}")
                    for alias in node.names
                    if alias.name in forbidden[package]
                ]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in forbidden:
                    aliases[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr in forbidden[aliases[node.value.id]]
        ):
            found.append(Violation(module, node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return found


def _package_of(module: str, forbidden: dict[str, set[str]]) -> str | None:
    """The forbidden names' package that ``module`` is, or is part of (``flask.globals`` holds
    ``flask.request``); None for any other module."""
    return next(
        (package for package in forbidden if module == package or module.startswith(package + ".")),
        None,
    )
