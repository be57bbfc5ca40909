"""Problems grouped for the operator: one row per rule and subject, with a count and its fixes.

Validation reports every cabinet on its own ("cabinet wall/c03r01 has no pixel-map entry", 23
times for a section nobody mapped). For the Problems panel, findings of the same rule about the
same section, canvas or processor become one :class:`ProblemGroup` ("23 cabinets of section wall
have no pixel-map entry") that keeps the indices of its members and names the fixes that apply
(auto-layout, add a canvas, the canvas or processor settings). Problems no rule knows stay groups
of one, in their own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from vpstage.config import Problem
from vpstage.stage.canvas_edits import LayoutAdvice
from vpstage.stage.model import Project

FixKind = Literal["auto_layout", "add_canvas", "canvas_settings", "processor_settings"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Fix:
    """Something the console can do about a group (the panel shows it as a button)."""

    kind: FixKind
    label: str
    subject: str = ""
    """The canvas or processor the fix opens (settings fixes), else ''."""


@dataclass(frozen=True, kw_only=True)
class ProblemGroup:
    rule: str
    """Which rule found the members ('' for a problem of its own)."""
    subject: str
    """The section, canvas or processor they are about ('' for a problem of its own)."""
    members: tuple[int, ...]
    """Indices into the problem list, in its order."""
    summary: str
    severity: Severity
    fixes: tuple[Fix, ...] = ()
    hint: str = ""
    """Advice beside the fixes (what auto-layout needs), or ''."""

    @property
    def count(self) -> int:
        return len(self.members)


AUTO_LAYOUT = Fix("auto_layout", "Auto-layout")
ADD_CANVAS = Fix("add_canvas", "Add canvas")


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    summary: Callable[[int, str], str]
    fixes: Callable[[str], tuple[Fix, ...]]


RULES = (
    _Rule("unmapped", re.compile(r"^cabinet \S+ has no pixel-map entry$"),
          lambda n, s: f"{n} cabinets of section {s} have no pixel-map entry",
          lambda s: (AUTO_LAYOUT, ADD_CANVAS)),
    _Rule("overlap", re.compile(r"^cabinet \S+ overlaps cabinet \S+ on canvas (?P<subject>\S+)$"),
          lambda n, s: f"{n} overlapping pairs of cabinets on canvas {s}",
          lambda s: (AUTO_LAYOUT,)),
    _Rule("outside_canvas", re.compile(r"^cabinet \S+ at .* lies outside canvas (?P<subject>\S+) \("),
          lambda n, s: f"{n} cabinets lie outside canvas {s}",
          lambda s: (AUTO_LAYOUT, Fix("canvas_settings", "Resize canvas", s))),
    _Rule("no_processor", re.compile(r"^canvas (?P<subject>\S+) feeds no processor, so it has no ports$"),
          lambda n, s: f"{n} pixel-map entries on canvas {s} name a data port, but {s} feeds no processor",
          lambda s: (AUTO_LAYOUT, Fix("canvas_settings", "Canvas settings", s))),
    _Rule("missing_port", re.compile(r"^processor (?P<subject>\S+) has \d+ ports; port \d+ does not exist$"),
          lambda n, s: f"{n} pixel-map entries use ports that processor {s} does not have",
          lambda s: (AUTO_LAYOUT, Fix("processor_settings", "Processor settings", s))),
    _Rule("port_overload", re.compile(r"^port \d+ of (?P<subject>\S+) carries \d+ px, over its capacity"),
          lambda n, s: f"{n} ports of {s} carry more pixels than they can",
          lambda s: (AUTO_LAYOUT, Fix("processor_settings", "Processor settings", s))),
)


def _section_name(problem: Problem, project: Project) -> str | None:
    path = problem.path
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int) and path[1] < len(project.sections):
        return project.sections[path[1]].name
    return None


def classify(problem: Problem, project: Project) -> tuple[str, str] | None:
    """(rule, subject) of a problem a rule knows; None for any other problem."""
    for rule in RULES:
        match = rule.pattern.match(problem.message)
        if match is None:
            continue
        subject = match.groupdict().get("subject") or _section_name(problem, project)
        return (rule.name, subject) if subject else None
    return None


def _with_advice(rule: _Rule, subject: str, advice: LayoutAdvice | None) -> tuple[tuple[Fix, ...], str]:
    """The rule's fixes and the hint beside them, given what auto-layout needs: where auto-layout
    alone would be refused and more canvases help, "Add canvas" comes first."""
    fixes = rule.fixes(subject)
    if advice is None or advice.fits or rule.name not in ("unmapped", "outside_canvas", "overlap"):
        return fixes, ""
    if advice.canvases_needed:
        return (ADD_CANVAS, *(f for f in fixes if f != ADD_CANVAS)), advice.describe()
    return fixes, f"auto-layout refuses: {advice.reason}"


def group_problems(problems: Sequence[Problem], project: Project,
                   advice: LayoutAdvice | None = None) -> list[ProblemGroup]:
    """Near-identical problems (same rule, same subject, same severity) as one group each, in the
    order their first member appears; ``advice`` (what auto-layout needs) adds a hint and puts
    "Add canvas" first where auto-layout alone would be refused."""
    keyed: dict[tuple[str, str, str] | int, list[int]] = {}
    for k, problem in enumerate(problems):
        found = classify(problem, project)
        keyed.setdefault(k if found is None else (*found, problem.severity), []).append(k)
    rules = {rule.name: rule for rule in RULES}
    groups = []
    for key, members in keyed.items():
        first = problems[members[0]]
        if isinstance(key, int):
            groups.append(ProblemGroup(rule="", subject="", members=tuple(members), summary=first.message,
                                       severity=first.severity))
            continue
        rule = rules[key[0]]
        summary = first.message if len(members) == 1 else rule.summary(len(members), key[1])
        fixes, hint = _with_advice(rule, key[1], advice)
        groups.append(ProblemGroup(rule=rule.name, subject=key[1], members=tuple(members), summary=summary,
                                   severity=first.severity, fixes=fixes, hint=hint))
    return groups


def has_map_problems(groups: Sequence[ProblemGroup]) -> bool:
    """Whether any group is one auto-layout could fix (worth asking :func:`layout_advice`)."""
    return any(g.rule in ("unmapped", "outside_canvas", "overlap") for g in groups)
