"""What the bot knows, indexed: a knowledge base with its matcher and the library access points, loaded and
checked as one piece (HelpDesk swaps it whole on /reload)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot import places
from bot.evaluation import consistency_problems
from bot.index_cache import load_indexed
from bot.knowledge import KnowledgeBase, KnowledgeError, Problem
from bot.matching import Matcher
from bot.places import AccessPoint


class Knowledge:
    """A knowledge base with its matcher and the library access points: swapped as one piece on reload."""

    def __init__(self, kb: KnowledgeBase, points: list[AccessPoint] | None = None, matcher: Matcher | None = None) -> None:
        self.kb = kb
        self.matcher = matcher if matcher is not None and matcher.kb is kb else Matcher(kb)
        self.points = list(points or [])

    @classmethod
    def load(cls, directory: Path | str) -> "Knowledge":
        """The knowledge base of `directory` and its access_points.yaml (when there is one); KnowledgeError
        lists the problems of both, each with file and line."""
        problems: list[Problem] = []
        kb = points = matcher = None
        try:
            matcher = load_indexed(directory)  # built, or from the on-disk cache of this very knowledge and code
            kb = matcher.kb
        except KnowledgeError as error:
            problems += error.problems
        path = Path(directory) / "access_points.yaml"
        try:
            points = places.load_access_points(path) if path.is_file() else []
        except KnowledgeError as error:
            problems += error.problems
        if kb is None or points is None:
            raise KnowledgeError(problems)
        return cls(kb, points, matcher)

    def problems(self) -> list[Problem]:
        """What `kb lint` reports on a loaded knowledge base: its warnings, and question variants the
        matcher would answer with another entry (errors) or not answer directly (warnings)."""
        return list(self.kb.warnings) + consistency_problems(self.kb, self.matcher)


@dataclass(frozen=True)
class Reloaded:
    """The outcome of /reload: the errors that kept the old knowledge base, or what changed."""

    errors: list[Problem]
    entries: int
    removed: list[str] = field(default_factory=list)  # ids of entries that disappeared
