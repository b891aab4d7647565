"""Masking of personal data that citizens type into the bot.

Before a citizen's text is written to logs, the question log or the statistics, or shown to librarians,
it goes through :func:`mask`, which replaces personal data with a readable placeholder that says what was
there:

* ИИН / БИН (12 digits)                          -> ``[ИИН]``
* phone numbers                                  -> ``[телефон]``
* bank card numbers (Luhn-valid, 13-19 digits)   -> ``[карта •••• 1234]`` (last four digits kept)
* e-mail addresses                               -> ``[e-mail]``
* ID card / passport numbers next to a hint word -> ``[документ]``

:func:`contains_sensitive` tells which kinds were found, so that the citizen can be warned once.

Text without personal data comes back unchanged, character for character: only the matched spans are
replaced, nothing is normalised. Only ASCII digits count as digits.

How numbers are read
--------------------
Digits are split into *atoms*: maximal runs of ASCII digits, or an area code in brackets like ``(701)``.
Atoms joined by what people put between digit groups (one or two spaces, a dash) form a *run*:
``+7 (701) 123-45-67``, ``900101 300123``, ``4400 4301 2345 6789``. A dot, comma, colon or slash between
digits ends a run (dates, times, decimals, lists like ``87011234567,87021234567``); so does a word.

A run is cut into whole atoms so that as many digits as possible are masked; each piece is classified by
its digit count alone, which keeps the kinds apart:

* with a leading ``+``: a phone number when it has 10-15 digits;
* 10 or 11 digits (``7xx…``, ``87…``, ``77…``, ``89…``, ``79…``): a phone number;
* exactly 12 digits: ИИН / БИН (checksum or not - a mistyped ИИН is still personal data);
* 13-19 digits grouped like a card and Luhn-valid: a card number.

So a 12-digit ИИН is never a phone and a 16-digit card is never a phone, while
``900101300123 87011234567`` is an ИИН followed by a phone. Short numbers (1414, 112), years, amounts
(``3 450 ₸``, ``1 000 000``), dates, times and ticket numbers (``#12``) fall outside every class.

Document numbers (``045123456``, ``N12345678``) look like any other number, so they are masked only when a
hint word (удостоверение, паспорт, куәлік, төлқұжат, ID …) stands a few words before them (or right after).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "contains_sensitive",
    "is_valid_iin",
    "luhn_valid",
    "mask",
]

KINDS = ("iin", "phone", "card", "email", "document")

PLACEHOLDERS = {
    "iin": "[ИИН]",
    "phone": "[телефон]",
    "card": "[карта •••• {last4}]",
    "email": "[e-mail]",
    "document": "[документ]",
}

# --- check digits -----------------------------------------------------------------------------

_IIN_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_IIN_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_GROUPING = re.compile(r"[\s\-‐‑–]+")


def _digits_only(value: str) -> str | None:
    """The ASCII digits of a value typed with spaces or dashes between groups; None if anything else is there."""
    digits = _GROUPING.sub("", value)
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def is_valid_iin(s: str) -> bool:
    """True when ``s`` is a 12-digit ИИН / БИН whose check digit is right.

    Spaces and dashes between digit groups are allowed. The check digit is the sum of the first 11 digits
    weighted 1..11, modulo 11; if that is 10, the weights 3..11,1,2 are used instead, and if the result is
    10 again the number is invalid.
    """
    digits = _digits_only(s)
    if digits is None or len(digits) != 12:
        return False
    values = [int(char) for char in digits]
    check = sum(w * d for w, d in zip(_IIN_WEIGHTS_1, values)) % 11
    if check == 10:
        check = sum(w * d for w, d in zip(_IIN_WEIGHTS_2, values)) % 11
        if check == 10:
            return False
    return check == values[11]


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (spaces or dashes between groups allowed) pass the Luhn check used by bank cards."""
    clean = _digits_only(digits)
    if clean is None:
        return False
    total = 0
    for position, char in enumerate(reversed(clean)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


# --- e-mail -----------------------------------------------------------------------------------

# Not right after a word, a dot or a placeholder ("]"), so that masking twice finds nothing new.
_EMAIL = re.compile(
    r"(?<![\w.%+\-\]])"
    r"[\w%+\-]+(?:\.[\w%+\-]+)*"  # local part: no leading, trailing or double dots
    r"@[^\W_](?:[\w\-]*[^\W_])?(?:\.[^\W_](?:[\w\-]*[^\W_])?)*\.[^\W\d_]{2,}"
    r"(?![^\W\d]|-)"  # digits may follow, glued: "a@mail.kz87011234567"
)

# --- document numbers -------------------------------------------------------------------------

# Hint words; not inside a placeholder ("[документ]") and not glued to other letters or digits.
_DOC_HINT = re.compile(
    r"(?<![\w\[\]])"
    r"(?:удостоверени\w*|удост\w*|удв|уд|паспорт\w*|документ\w*|док"
    r"|куәлі\w*|куали\w*|төлқұжат\w*|толкужат\w*|тулкужат\w*"
    r"|id|ид|айди|passport\w*)"
    r"(?![^\W\d_])",
    re.IGNORECASE,
)
# An ID card number (9 digits) or a passport number (N + 8 digits; Cyrillic Н typed for N too).
_DOC_NUMBER = re.compile(r"(?<![\w\]])[NnНн] ?[0-9]{8}(?![0-9])|(?<![0-9])[0-9]{9}(?![0-9])")
_DOC_GAP = re.compile(r"[^0-9\[\]\n]*")  # what may stand between a hint and a number
_DOC_MAX_GAP_BEFORE = (40, 4)  # characters, words
_DOC_MAX_GAP_AFTER = (25, 3)
# Between two document numbers after one hint: "паспорта N…, N…", "удостоверение 04… и 05…".
_DOC_CHAIN = re.compile(r"[^\S\n]*(?:[,;/]|и|или|және|немесе)?[^\S\n]*", re.IGNORECASE)


def _short_gap(text: str, start: int, end: int, limits: tuple[int, int]) -> bool:
    """True when text[start:end] is at most a few words with no digits, brackets or line breaks."""
    max_chars, max_words = limits
    if not 0 <= end - start <= max_chars:
        return False
    gap = text[start:end]
    return _DOC_GAP.fullmatch(gap) is not None and len(gap.split()) <= max_words


def _mask_documents(text: str, found: set[str]) -> str:
    numbers = list(_DOC_NUMBER.finditer(text))
    if not numbers:
        return text
    hints = [(hint.start(), hint.end()) for hint in _DOC_HINT.finditer(text)]
    if not hints:
        return text
    hint_starts = [hint_start for hint_start, _ in hints]
    hint_ends = [hint_end for _, hint_end in hints]  # hints do not overlap, so both lists are sorted
    out: list[str] = []
    last = 0
    previous_end: int | None = None  # end of the previous number that was masked as a document
    for number in numbers:
        start, end = number.span()
        before = hint_ends[bisect_left(hint_ends, start - _DOC_MAX_GAP_BEFORE[0]):bisect_right(hint_ends, start)]
        after = hint_starts[bisect_left(hint_starts, end):bisect_right(hint_starts, end + _DOC_MAX_GAP_AFTER[0])]
        hinted = any(_short_gap(text, hint_end, start, _DOC_MAX_GAP_BEFORE) for hint_end in before) or any(
            _short_gap(text, end, hint_start, _DOC_MAX_GAP_AFTER) for hint_start in after
        )
        chained = previous_end is not None and _DOC_CHAIN.fullmatch(text[previous_end:start]) is not None
        if hinted or chained:
            out.append(text[last:start])
            out.append(PLACEHOLDERS["document"])
            last = previous_end = end
            found.add("document")
        else:
            previous_end = None
    out.append(text[last:])
    return "".join(out)


# --- numbers: ИИН, phones, cards --------------------------------------------------------------

# An atom: a run of digits, or an area code in brackets; a "+" may open a run.
_ATOM = re.compile(r"(?P<plus>\+)?(?:\((?P<area>[0-9]{3,5})\)|(?P<digits>[0-9]+))")
_SPACE = " \u00a0\u2009\u202f"
# What people type between digit groups of one number.
_JOIN = re.compile(rf"[{_SPACE}]{{1,2}}|[{_SPACE}]?[\-‐‑–][{_SPACE}]?")
_MAX_CHUNK_DIGITS = 19


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int
    end: int
    digits: str
    bracketed: bool


@dataclass(frozen=True, slots=True)
class _Run:
    atoms: tuple[_Atom, ...]
    plus: bool  # the first atom has a "+" (its start includes it)
    inert: bool = False  # a ticket number (#12): never masked


def _runs(text: str) -> list[_Run]:
    """Digit runs of the text, as described in the module docstring."""
    runs: list[_Run] = []
    atoms: list[_Atom] = []
    plus = False

    def close() -> None:
        nonlocal atoms, plus
        if atoms:
            runs.append(_Run(tuple(atoms), plus))
        atoms, plus = [], False

    for match in _ATOM.finditer(text):
        bracketed = match.group("area") is not None
        atom = _Atom(match.start(), match.end(), match.group("area") or match.group("digits"), bracketed)
        if match.start() > 0 and text[match.start() - 1] == "#":
            close()
            runs.append(_Run((atom,), False, inert=True))
            continue
        if atoms:
            gap = text[atoms[-1].end:match.start()]
            joined = (
                match.group("plus") is None
                and (_JOIN.fullmatch(gap) is not None or (gap == "" and (bracketed or atoms[-1].bracketed)))
            )
            if not joined:
                close()
        if not atoms:
            plus = match.group("plus") is not None
        atoms.append(atom)
    close()
    return runs


def _amount_like(atoms: tuple[_Atom, ...]) -> bool:
    """Grouped like a sum of money: 1-3 digits, then groups of exactly three (1 000 000, 87 011 234 567)."""
    return (
        len(atoms) >= 2
        and not any(atom.bracketed for atom in atoms)
        and 1 <= len(atoms[0].digits) <= 3
        and all(len(atom.digits) == 3 for atom in atoms[1:])
    )


def _card_grouped(atoms: tuple[_Atom, ...]) -> bool:
    """One block of digits, or groups of 4-6 (4444 4444 4444 4444, 3782 822463 10005) with a short tail."""
    if len(atoms) == 1:
        return True
    return all(4 <= len(atom.digits) <= 6 for atom in atoms[:-1]) and 1 <= len(atoms[-1].digits) <= 6


def _classify(atoms: tuple[_Atom, ...], plus: bool) -> str | None:
    """The kind of personal data that these atoms make up, taken together, or None."""
    digits = "".join(atom.digits for atom in atoms)
    count = len(digits)
    bracketed = any(atom.bracketed for atom in atoms)
    if plus:
        return "phone" if 10 <= count <= 15 else None
    if count == 12 and not bracketed:
        return "iin"
    if 13 <= count <= _MAX_CHUNK_DIGITS and not bracketed:
        return "card" if _card_grouped(atoms) and luhn_valid(digits) else None
    if count == 11 and digits[0] in "78" and digits[1] in "79" and not _amount_like(atoms):
        return "phone"  # 8 701 …, 7 701 …, 8 916 …
    if count == 10 and (digits[0] == "7" or bracketed) and (len(atoms) == 1 or len(atoms[0].digits) == 3):
        return "phone"  # (701) 123-45-67, 701 123 45 67, 7011234567
    return None


def _plan(run: _Run) -> list[tuple[int, int, str]]:
    """Pieces of a run to mask, as (first atom, last atom, kind), masking as many digits as possible."""
    atoms = run.atoms
    if run.inert:
        return []
    total = sum(len(atom.digits) for atom in atoms)
    if (
        len(atoms) > 1
        and not run.plus
        and 13 <= total <= _MAX_CHUNK_DIGITS
        and not any(atom.bracketed for atom in atoms)
        and _card_grouped(atoms)
        and not luhn_valid("".join(atom.digits for atom in atoms))
    ):
        return []  # a card number with a typo: not a card, and not to be read as an ИИН plus change either
    n = len(atoms)
    # best[i]: (digits masked, -pieces) for atoms i.., and the piece that starts at i (or None to skip atom i)
    best: list[tuple[int, int]] = [(0, 0)] * (n + 1)
    choice: list[tuple[int, str] | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i], choice[i] = best[i + 1], None
        count = 0
        for j in range(i, n):
            count += len(atoms[j].digits)
            if count > _MAX_CHUNK_DIGITS:
                break
            kind = _classify(atoms[i:j + 1], run.plus and i == 0)
            if kind is None:
                continue
            score = (best[j + 1][0] + count, best[j + 1][1] - 1)
            if score > best[i]:
                best[i], choice[i] = score, (j, kind)
    pieces: list[tuple[int, int, str]] = []
    i = 0
    while i < n:
        step = choice[i]
        if step is None:
            i += 1
        else:
            pieces.append((i, step[0], step[1]))
            i = step[0] + 1
    return pieces


def _mask_numbers(text: str, found: set[str]) -> str:
    out: list[str] = []
    last = 0
    for run in _runs(text):
        for first, final, kind in _plan(run):
            start, end = run.atoms[first].start, run.atoms[final].end
            digits = "".join(atom.digits for atom in run.atoms[first:final + 1])
            out.append(text[last:start])
            out.append(PLACEHOLDERS[kind].format(last4=digits[-4:]))
            last = end
            found.add(kind)
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


# --- the pipeline -----------------------------------------------------------------------------


def _mask_emails(text: str, found: set[str]) -> str:
    def replace(_: re.Match[str]) -> str:
        found.add("email")
        return PLACEHOLDERS["email"]

    return _EMAIL.sub(replace, text)


# E-mails first (they may hold digits), then documents (which need the hint words before the numbers
# around them are masked), then the remaining numbers.
_STEPS: tuple[Callable[[str, set[str]], str], ...] = (_mask_emails, _mask_documents, _mask_numbers)


def _scan(text: str) -> tuple[str, set[str]]:
    found: set[str] = set()
    if not any(char in text for char in "0123456789@"):
        return text, found  # nothing here can be personal data
    for step in _STEPS:
        text = step(text, found)
    return text, found


def mask(text: str) -> str:
    """The text with ИИН/БИН, phone, bank card, e-mail and document numbers replaced by placeholders.

    Text without personal data is returned unchanged. Masking twice changes nothing more:
    ``mask(mask(text)) == mask(text)``.
    """
    return _scan(text)[0]


def contains_sensitive(text: str) -> set[str]:
    """The kinds of personal data in the text: a subset of ``{"iin", "phone", "card", "email", "document"}``."""
    return _scan(text)[1]
