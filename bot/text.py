"""Text normalisation shared by the knowledge base index and the questions citizens type.

Everything here is a pure function of its input, and the same pipeline runs on both sides
(knowledge-base variants and questions), so whatever a step loses, it loses symmetrically.

The pipeline for one text:
1. NFKC, lower case, invisible characters removed;
2. Latin words are read three ways (as they are, as Russian typed in the English keyboard layout,
   as Latin transliteration); the caller picks the reading that the vocabulary knows;
3. Kazakh letters are folded onto the Russian ones people type instead (қ->к, ү->у, і->и ...);
4. each word is reduced to a stem (a Russian Snowball stemmer, then common Kazakh endings);
5. letters that people drop or swap at will (ё/е, э/е, й/и, ь, ъ) are folded.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

KAZAKH_LETTERS = frozenset("әғқңөұүһі")

# What people type when their keyboard has no Kazakh letters.
_KAZAKH_FOLD = str.maketrans({"ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и"})
# Letters that are dropped or swapped freely in everyday typing; folded after stemming.
_LOOSE_FOLD = str.maketrans({"ё": "е", "э": "е", "й": "и", "ь": None, "ъ": None})

# Russian ЙЦУКЕН letters on the keys of the English QWERTY layout (lower case).
_QWERTY = "`qwertyuiop[]asdfghjkl;'zxcvbnm,."
_JCUKEN = "ёйцукенгшщзхъфывапролджэячсмитьбю"
_LAYOUT = dict(zip(_QWERTY, _JCUKEN))
_LAYOUT_CHARS = frozenset(_QWERTY)

# Latin transliteration as people improvise it (Russian and Kazakh), longest spellings first.
_TRANSLIT_MULTI = (
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"), ("ts", "ц"),
    ("yu", "ю"), ("ya", "я"), ("yo", "е"), ("ye", "е"), ("ju", "ю"), ("ja", "я"), ("jo", "е"),
    ("iu", "ю"), ("ia", "я"), ("ck", "к"), ("ph", "ф"),
)
_TRANSLIT_SINGLE = {
    "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "ж",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р", "s": "с", "t": "т",
    "u": "у", "v": "в", "w": "в", "x": "х", "y": "ы", "z": "з", "'": "",
    # Kazakh Latin alphabet letters
    "ä": "а", "ö": "о", "ü": "у", "ū": "у", "ı": "ы", "ğ": "г", "ş": "ш", "ç": "ч", "ñ": "н", "ń": "н",
}
_VOWELS = set("аеиоуыэюяё")

# Kazakh endings (after folding to Russian letters): case, plural, possessive and common verb endings
# (the conditional too: "кірсем", "алсаңыз" - "if I enter", "if you take"),
# longest first. Stripped repeatedly while a stem of at least three letters remains.
_KAZAKH_ENDINGS = tuple(sorted(set("""
лар лер дар дер тар тер
нын нин дын дин тын тин
га ге ка ке на не
ны ни ды ди ты ти
да де та те нда нде дагы деги тагы теги ндагы ндеги
дан ден тан тен нан нен
мен бен пен ша ше
ым им ын ин сы си мыз миз ымыз имиз ныз низ ыныз иниз сын син
уга уге уды уди ган ген кан кен атын етин ады еди мын мин сыз сиз
сам сем сак сек саныз сениз
ы и а е у
""".split()), key=len, reverse=True))
_KAZAKH_MIN_STEM = 3
# The endings by length, longest first (as _KAZAKH_ENDINGS are tried): one set lookup per length.
_KAZAKH_ENDINGS_BY_SIZE = tuple((size, frozenset(e for e in _KAZAKH_ENDINGS if len(e) == size))
                                for size in sorted({len(e) for e in _KAZAKH_ENDINGS}, reverse=True))

_TOKEN = re.compile(r"[0-9a-zа-яёәғқңөұүһіäöüūığşçñń]+(?:'[a-z]+)?", re.IGNORECASE)


_KEEP_ACCENTED = frozenset("йёЙЁäöüūğşçñńÄÖÜŪĞŞÇÑŃ")  # letters of their own (Russian; Kazakh Latin)


_CHAR_FOLD_SIZE = 20_000


class _CharFold(dict):
    """clean()'s per-character rule as a str.translate table, filled in as characters are first seen."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Co", "Cs", "Mn", "Me") and char not in "\n\t":
            result = None
        elif category[0] == "L" and char not in _KEEP_ACCENTED and unicodedata.decomposition(char)[:1] not in ("", "<"):
            result = unicodedata.normalize("NFD", char)[0]
        else:
            result = char
        if len(self) < _CHAR_FOLD_SIZE:  # a bounded table: a flood of odd characters cannot grow it forever
            self[code] = result
        return result


_CHAR_FOLD = _CharFold()


def clean(text: str) -> str:
    """Lower-case, NFKC-normalised text without invisible characters, control characters or stray accents.

    A combining mark that NFKC fuses into an unusual letter ("у" + diaeresis -> "ӱ") is dropped again,
    so the word reads as typed; й and ё stay (the stemmer needs them; they are folded later).
    """
    return unicodedata.normalize("NFKC", text).translate(_CHAR_FOLD).lower()


def raw_words(text: str) -> list[str]:
    """Split cleaned text on whitespace, keeping punctuation that the layout fix needs (',.;'[]`)."""
    return clean(text).split()


def from_layout(word: str) -> str:
    """Read a word typed in the English layout as the Russian letters on the same keys."""
    return "".join(_LAYOUT.get(char, char) for char in word)


def transliterate(word: str) -> str:
    """Read a Latin-letter word as Russian or Kazakh transliteration."""
    out = []
    i = 0
    while i < len(word):
        for latin, cyrillic in _TRANSLIT_MULTI:
            if word.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            char = word[i]
            if char == "y" and out and out[-1] in _VOWELS:
                out.append("й")  # "novyi", "kakoy": y after a vowel is й
            else:
                out.append(_TRANSLIT_SINGLE.get(char, char))
            i += 1
    return "".join(out)


def is_latin(word: str) -> bool:
    """True when a word has Latin letters and no Cyrillic ones."""
    has_latin = False
    for char in word:
        if "а" <= char <= "я" or char in "ёәғқңөұүһі":
            return False
        if "a" <= char <= "z":
            has_latin = True
    return has_latin


def latin_readings(word: str) -> list[str]:
    """Possible Cyrillic readings of a Latin word: itself, the keyboard-layout one, the transliterated one."""
    readings = [word]
    if all(char in _LAYOUT_CHARS or char.isdigit() for char in word):
        readings.append(from_layout(word))
    readings.append(transliterate(word))
    return readings


def tokens(text: str) -> list[str]:
    """Word tokens of already cleaned text: letters and digits, punctuation and emoji dropped."""
    found = _TOKEN.findall(text)  # the whole matches: the pattern has no capturing group
    return [word.replace("'", "") for word in found] if "'" in text else found


def has_kazakh_letters(text: str) -> bool:
    return any(char in KAZAKH_LETTERS for char in text)


_russian = snowballstemmer.stemmer("russian")


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str = "ru") -> str:
    """The matching key of one lower-case word: Kazakh letters folded, stemmed, loose letters folded.

    Russian words go through the Snowball stemmer; Kazakh ones lose their endings (the language is the
    question's: a Russian loanword in a Kazakh question is stemmed the Kazakh way on both sides).
    """
    folded = word.translate(_KAZAKH_FOLD)
    if not folded.isascii():
        if lang == "kk":
            for _ in range(3):
                for size, endings in _KAZAKH_ENDINGS_BY_SIZE:
                    if len(folded) - size >= _KAZAKH_MIN_STEM and folded[-size:] in endings:
                        folded = folded[:-size]
                        break
                else:
                    break
        elif len(folded) <= 3:
            pass  # "тоо", "вуз", "зал": too short for Snowball's endings ("тоо" is not "то")
        else:
            if folded.endswith("пись"):
                # Snowball reads the nouns подпись / запись / роспись as reflexive verbs ("подп").
                folded = folded[:-1]
            else:
                folded = _russian.stemWord(folded)
                # Verbal nouns share the verb's stem: "продление" / "продлить", "получение" / "получить".
                if len(folded) >= 6 and folded.endswith(("ен", "ан")) and folded[-3] not in "аеиоуыэюяё":
                    folded = folded[:-2]
    folded = folded.translate(_LOOSE_FOLD)
    # Kazakh voices a final к/п before an ending (қ->ғ, п->б: "соттылық" / "соттылығы"): fold them back.
    if len(folded) > 3 and folded[-1] in "гб":
        folded = folded[:-1] + ("к" if folded[-1] == "г" else "п")
    return folded


_RUNS = re.compile(r"(.)\1+", re.DOTALL)  # a letter repeated: one of it
_PHONETIC = str.maketrans({"о": "а", "я": "а", "е": "и", "ы": "и", "ю": "у", "щ": "ш", "д": "т", "б": "п", "з": "с", "в": "ф", "ж": "ш", "г": "к"})


def uncached(function):
    """The function behind an lru_cache, for one pass over many distinct words (building an index): the
    process-wide caches are sized for citizens' questions, and filling them would only keep memory."""
    return getattr(function, "__wrapped__", function)


@lru_cache(maxsize=200_000)
def sound(stem_: str) -> str:
    """A key that typos of the same spoken word share: unstressed vowels merged, voiced consonants
    devoiced, doubled letters single ("тилифон", "телефон" -> "тилифан"; "вастанов", "восстанов")."""
    return _RUNS.sub(r"\1", stem_.translate(_PHONETIC))


def fold(word: str) -> str:
    """A word with Kazakh and loose letters folded, not stemmed: for telling languages apart."""
    return word.translate(_KAZAKH_FOLD).translate(_LOOSE_FOLD)


def stems(text: str, lang: str = "ru") -> list[str]:
    """Stems of every word of a text (no layout or transliteration guessing)."""
    return [stem(word, lang) for word in tokens(clean(text))]
