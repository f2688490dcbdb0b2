"""One error hierarchy for the whole project.

The CLI turns each of these into a plain-English message and a non-zero exit; the app shows
them as a visible alert.  Nothing else should be caught and swallowed.
"""

from __future__ import annotations

from dataclasses import dataclass


class PathwaysError(Exception):
    """Base of every error this project raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one cell of the input.

    ``row`` is the spreadsheet row number as a person sees it in Excel: the header is row 1,
    the first data row is row 2.  ``row`` is 0 and ``column`` empty for problems with a
    whole file.
    """

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.reason}"


class InputError(PathwaysError):
    """The input files are wrong; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem], *, written: bool = False):
        self.problems = sorted(problems)
        self.written = written
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n  ... and {more} more"
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the input"
        tail = "" if written else "; nothing was written"
        super().__init__(f"{head}{tail}:\n{shown}")


class UnknownIdError(PathwaysError):
    """An id asked for does not exist (in the given kind, when there is one)."""

    def __init__(self, node_id: str, kind: str | None = None):
        self.node_id = node_id
        self.kind = kind
        what = f"{kind} " if kind else ""
        super().__init__(f"no {what}with id {node_id!r} in the store")


class StoreUnavailableError(PathwaysError):
    """The chosen store cannot be reached, opened or written (disk full, read-only...)."""


class StoreBusyError(PathwaysError):
    """Another load holds the store's write lock; nothing was written by this one."""


class Neo4jRuntimeError(PathwaysError):
    """The local throwaway Neo4j server could not be resolved, started or stopped."""


@dataclass(frozen=True)
class Candidate:
    """One node (or access tag) a typed name might mean: its id and display name."""

    id: str
    name: str

    def __str__(self) -> str:
        return self.name if self.name == self.id else f"{self.name} ({self.id})"


def _listed(items: tuple[Candidate, ...] | list[Candidate], most: int = 10,
            total: int | None = None) -> str:
    shown = ", ".join(str(c) for c in items[:most])
    more = (len(items) if total is None else total) - len(items[:most])
    return shown + (f" and {more} more" if more > 0 else "")


class UnknownNameError(UnknownIdError):
    """Nothing of a kind is called ``text`` (no id, name or close enough match).

    ``suggestions`` are the closest names ("did you mean"); ``choices`` every valid one when
    there are few enough to list (else empty).  A subclass of :class:`UnknownIdError`, so
    code that handles unknown ids handles unknown names too.
    """

    def __init__(self, text: str, kind: str, suggestions: tuple[Candidate, ...] = (),
                 choices: tuple[Candidate, ...] = ()):
        self.node_id = text
        self.kind = kind
        self.suggestions = tuple(suggestions)
        self.choices = tuple(choices)
        message = f"no {kind} called {text!r}"
        if self.suggestions:
            message += f"; did you mean {_listed(self.suggestions, 5)}?"
        else:
            message += "."
        if self.choices:
            message += f" Choose one of: {_listed(self.choices, 50)}."
        PathwaysError.__init__(self, message)


class AmbiguousNameError(PathwaysError):
    """A typed name matches several nodes of a kind; ``candidates`` lists them (the first
    few when very many: ``count`` says how many matched in all, or at least, when
    ``at_least``)."""

    def __init__(self, text: str, kind_plural: str, candidates: tuple[Candidate, ...],
                 count: int | None = None, at_least: bool = False):
        self.text = text
        self.kind = kind_plural
        self.candidates = tuple(candidates)
        self.count = len(self.candidates) if count is None else count
        how_many = f"at least {self.count}" if at_least else str(self.count)
        super().__init__(
            f"{text!r} matches {how_many} {kind_plural}:"
            f" {_listed(self.candidates, 10, self.count)}."
            " Give the id, or more of the name."
        )
