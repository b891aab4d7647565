"""The callback data of every button the bot sends: one dataclass per kind of button, built and read here.

Data is "<kind>:<fields>" (at most 64 bytes, Telegram's limit). FORMAT is the version of that layout: a
button of another version is stale, and is answered as one. Version 1, the layout of every button sent so
far, carries no mark; a later one will write its number after the kind ("f2:..."), so the buttons already
in citizens' chats stop matching their kind and get the stale-button answer instead of a wrong action.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import ClassVar, TypeVar, Union

FORMAT = 1
DIGITS = re.compile(r"\d+")
ENTRY_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # as the knowledge base's ids are written


def _number(text: str, digits: int = 9) -> int | None:
    """A ticket number, a rating, a step: digits only, and not too many of them."""
    return int(text) if DIGITS.fullmatch(text) and len(text) <= digits else None


class _Plain:
    """A button whose data fields are its own fields, as text, in order; one text field by default."""

    def fields(self) -> tuple[str, ...]:
        return tuple(str(getattr(self, field.name)) for field in dataclasses.fields(self))

    @classmethod
    def parse(cls, rest: str):
        return cls(rest)


@dataclass(frozen=True)
class Menu:
    """The menu: its root, a category's entries, or an entry."""

    KIND: ClassVar[str] = "m"
    target: str = "root"  # "root", "c" (a category) or "e" (an entry)
    id: str = ""

    def fields(self) -> tuple[str, ...]:
        return ("root",) if self.target == "root" else (self.target, self.id)

    @classmethod
    def parse(cls, rest: str) -> Menu | None:
        if rest == "root":
            return cls()
        target, _, value = rest.partition(":")
        return cls(target, value) if target in ("c", "e") else None


@dataclass(frozen=True)
class Choice:
    """One of the entries a clarify question offered; None: none of them."""

    KIND: ClassVar[str] = "c"
    entry_id: str | None

    def fields(self) -> tuple[str, ...]:
        return (self.entry_id or "-",)

    @classmethod
    def parse(cls, rest: str) -> Choice:
        return cls(None if rest == "-" else rest)


@dataclass(frozen=True)
class Feedback:
    """"Helpful" or "not helpful" under an answer."""

    KIND: ClassVar[str] = "f"
    helpful: bool
    entry_id: str

    def fields(self) -> tuple[str, ...]:
        return ("y" if self.helpful else "n", self.entry_id)

    @classmethod
    def parse(cls, rest: str) -> Feedback:
        helpful, _, entry_id = rest.partition(":")
        return cls(helpful == "y", entry_id)


@dataclass(frozen=True)
class AskLibrarian(_Plain):
    """"Ask a librarian" after an answer that did not help."""

    KIND: ClassVar[str] = "a"
    entry_id: str


@dataclass(frozen=True)
class Step(_Plain):
    """A step of an entry's walkthrough."""

    KIND: ClassVar[str] = "s"
    entry_id: str
    number: int

    @classmethod
    def parse(cls, rest: str) -> Step | None:
        entry_id, _, number = rest.rpartition(":")
        step = _number(number, digits=4)
        return None if step is None else cls(entry_id, step)


@dataclass(frozen=True)
class Stuck(Step):
    """"I am stuck" at a step of a walkthrough."""

    KIND: ClassVar[str] = "x"


@dataclass(frozen=True)
class Forget:
    """The answer to "delete my data?"."""

    KIND: ClassVar[str] = "g"
    confirmed: bool

    def fields(self) -> tuple[str, ...]:
        return ("yes" if self.confirmed else "no",)

    @classmethod
    def parse(cls, rest: str) -> Forget:
        return cls(rest == "yes")


@dataclass(frozen=True)
class Language(_Plain):
    """An interface language."""

    KIND: ClassVar[str] = "l"
    lang: str


@dataclass(frozen=True)
class Rating(_Plain):
    """1-5 for a closed ticket."""

    KIND: ClassVar[str] = "r"
    ticket_id: int
    rating: int

    @classmethod
    def parse(cls, rest: str) -> Rating | None:
        ticket, _, rating = rest.partition(":")
        ticket_id, value = _number(ticket, digits=20), _number(rating, digits=20)
        return None if ticket_id is None or value is None else cls(ticket_id, value)


@dataclass(frozen=True)
class Withdraw(_Plain):
    """Withdraw an open ticket. `number` as written: a forged one is named back as it came."""

    KIND: ClassVar[str] = "w"
    number: str

    @property
    def ticket_id(self) -> int | None:
        return _number(self.number)


@dataclass(frozen=True)
class CardButton(_Plain):
    """A button on a ticket's card in the librarians' group."""

    ticket_id: int | None  # None: not a ticket number (a forged button)

    @classmethod
    def parse(cls, rest: str):
        return cls(_number(rest, digits=18))


@dataclass(frozen=True)
class Take(CardButton):
    KIND: ClassVar[str] = "t"


@dataclass(frozen=True)
class Close(CardButton):
    KIND: ClassVar[str] = "z"


@dataclass(frozen=True)
class Draft(CardButton):
    """"Add to the knowledge base": the answer becomes a draft entry."""

    KIND: ClassVar[str] = "d"


@dataclass(frozen=True)
class Release(CardButton):
    """"Back to the queue" on a taken card (for the librarian who took it)."""

    KIND: ClassVar[str] = "u"


@dataclass(frozen=True)
class Suggestion(CardButton):
    """A suggested entry on a card: answer the ticket with it. Data "ae:<ticket>:<entry id>"."""

    KIND: ClassVar[str] = "ae"
    entry_id: str = ""

    @classmethod
    def parse(cls, rest: str) -> Suggestion:
        ticket, _, entry_id = rest.partition(":")
        number = _number(ticket, digits=18) if ENTRY_ID.fullmatch(entry_id) else None
        return cls(number, entry_id if number is not None else "")


Button = Union[Menu, Choice, Feedback, AskLibrarian, Step, Stuck, Forget, Language, Rating, Withdraw, Take, Close, Draft,
               Release, Suggestion]
KINDS: tuple[type, ...] = (Menu, Choice, Feedback, AskLibrarian, Step, Stuck, Forget, Language, Rating, Withdraw,
                           Take, Close, Draft, Release, Suggestion)
CARD_KINDS: tuple[type, ...] = (Take, Close, Draft, Release, Suggestion)
MAX_DATA = 64  # bytes of callback data Telegram accepts
B = TypeVar("B")


def _tag(kind: type) -> str:
    return kind.KIND if FORMAT == 1 else f"{kind.KIND}{FORMAT}"


def data(button: Button) -> str:
    """The callback data of a button."""
    return ":".join((_tag(type(button)), *button.fields()))


def pattern(*kinds: type) -> re.Pattern[str]:
    """What a CallbackQueryHandler for these kinds of button matches (of this FORMAT)."""
    return re.compile("^(?:" + "|".join(re.escape(_tag(kind)) for kind in kinds) + "):")


def _kind(data_: object) -> type | None:
    tag, colon, _ = data_.partition(":") if isinstance(data_, str) else ("", "", "")
    return next((kind for kind in KINDS if _tag(kind) == tag), None) if colon else None


def unknown(data_: object) -> bool:
    """Data of no kind of button of this FORMAT: an old or a forged button."""
    return _kind(data_) is None


def read(data_: str | None) -> Button | None:
    """The button behind callback data; None when it is of no kind of this FORMAT, or its kind's fields do
    not read (a forged or an old button)."""
    kind = _kind(data_)
    return None if kind is None else kind.parse(data_.partition(":")[2])


def read_as(data_: str | None, kind: type[B]) -> B | None:
    """The button of this kind behind the data; None when the data is of another kind or does not read."""
    button = read(data_)
    return button if type(button) is kind else None
