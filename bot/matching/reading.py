"""Reading a question the way the index reads its own variants: words, stems, synonyms and language."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from bot import text as textnorm
from bot.matching.vocabulary import FUZZY_BEST, HashedKeys, Vocabulary

LOOKUP_CACHE = 50_000  # stems remembered per process, with the known stem each stands for
NEGATION_SIMILARITY = 0.85  # "не" + a word is read as one word when that maps onto a known word this well

Phrases = dict[tuple[str, ...], tuple[str, ...]]  # a synonym's stems -> its group's first term's stems
Item = tuple[str, str, float]                     # (what was typed, stem or key, similarity)


class Reader:
    """Turns text into stems over one vocabulary; `lookup` is cached per process (not pickled)."""

    def __init__(self, vocabulary: Vocabulary, phrases: Phrases, lang_words: dict[str, HashedKeys]) -> None:
        self.vocabulary = vocabulary
        self.fillers = vocabulary.fillers
        self.phrases = phrases
        self._phrase_starts = frozenset(phrase[0] for phrase in phrases)
        self.lang_words = lang_words
        self.lookup = lru_cache(maxsize=LOOKUP_CACHE)(vocabulary.lookup)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("lookup")
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.lookup = lru_cache(maxsize=LOOKUP_CACHE)(self.vocabulary.lookup)

    def read(self, question: str, lang: str | None = None,
             stem: Callable[[str, str], str] = textnorm.stem) -> tuple[list[tuple[str, str]], str]:
        """The question as (typed word, stem) pairs, Latin words resolved; and its language."""
        pairs, lang, _ = self.read_stating(question, lang, stem)
        return pairs, lang

    def read_stating(self, question: str, lang: str | None = None, stem: Callable[[str, str], str] = textnorm.stem
                     ) -> tuple[list[tuple[str, str]], str, bool]:
        """read(), and whether the question itself says its language (see language())."""
        readings = _readings(question)
        stated = True
        if lang is None:
            lang, stated = self._votes(question, readings)
        pairs: list[tuple[str, str]] = []
        for options in readings:
            if len(options) == 1:
                pairs.extend((w, stem(w, lang)) for w in options[0])
            else:
                pairs.extend(self._best_reading(options, lang, stem))
        return pairs, lang, stated

    def language(self, question: str) -> tuple[str, bool]:
        """The question's language, and whether the question itself says so (Kazakh letters, or more words of
        one language than of the other); when not, a front end answers in the citizen's interface language."""
        return self._votes(question, _readings(question))

    def join_negations(self, pairs: list[tuple[str, str]], lang: str, is_word: Callable[[str], bool],
                       stem: Callable[[str, str], str] = textnorm.stem) -> list[tuple[str, str]]:
        """Russian writes "не" apart or together with a word ("не судим", "несудимость"): a "не" and the word
        after it become one word when together they are a dictionary word the knowledge base uses a form of
        ("не судим" -> "несудим", so it meets "справка о несудимости"). "не работает" stays two words."""
        if lang != "ru" or len(pairs) < 2:
            return pairs
        out: list[tuple[str, str]] = []
        i = 0
        while i < len(pairs):
            word = pairs[i][0]
            if word.lower() == "не" and i + 1 < len(pairs):
                joined = "не" + pairs[i + 1][0].lower()
                joined_stem = stem(joined, lang)
                key, similarity = self.lookup(joined_stem)
                if similarity >= NEGATION_SIMILARITY and key.startswith("не") and is_word(joined):
                    out.append((f"{word} {pairs[i + 1][0]}", joined_stem))
                    i += 2
                    continue
            out.append(pairs[i])
            i += 1
        return out

    def fold(self, items: list[Item]) -> list[Item]:
        """Replace every synonym (longest first) in (word, key, similarity) items with its group's first term.

        "жеке куәлік" becomes "удостоверение личности" (two words), so a variant that says only
        "удостоверение" still shares a word with it.
        """
        out: list[Item] = []
        for start, size, canonical in self._synonyms([key for _, key, _ in items]):
            if canonical is None:
                out.append(items[start])
            else:
                chunk = items[start:start + size]
                typed = " ".join(w for w, _, _ in chunk)
                similarity = min(s for _, _, s in chunk)
                out.extend((typed, key, similarity) for key in canonical)
        return out

    def fold_stems(self, stems: list[str]) -> list[str]:
        """fold() of bare stems (the index's variants): the same replacements, without the items."""
        if not self._phrase_starts.intersection(stems):
            return stems
        out: list[str] = []
        for start, _, canonical in self._synonyms(stems):
            if canonical is None:
                out.append(stems[start])
            else:
                out.extend(canonical)
        return out

    def _synonyms(self, keys: list[str]) -> Iterator[tuple[int, int, tuple[str, ...] | None]]:
        """The keys in spans, left to right: (start, size, the group's first term's stems) where a synonym
        begins (the longest one, up to four words), (start, 1, None) for a key left as it is."""
        i = 0
        while i < len(keys):
            if keys[i] in self._phrase_starts:
                for size in range(min(4, len(keys) - i), 0, -1):
                    canonical = self.phrases.get(tuple(keys[i:i + size]))
                    if canonical is not None:
                        yield i, size, canonical
                        i += size
                        break
                else:
                    yield i, 1, None
                    i += 1
            else:
                yield i, 1, None
                i += 1

    def _best_reading(self, options: list[list[str]], lang: str,
                      stem: Callable[[str, str], str]) -> list[tuple[str, str]]:
        """The reading of a Latin word the vocabulary knows best (the first of equals)."""
        stemmed = [[stem(w, lang) for w in words] for words in options]
        for words, stems in zip(options, stemmed):
            # A reading whose every meaningful word is known exactly cannot be beaten (nothing else scores
            # 1.0), and no reading before it scored 1.0: the same choice as scoring them all, without typos.
            meaningful = [s for s in stems if s not in self.fillers]
            if meaningful and all(s in self.vocabulary.words for s in meaningful):
                return list(zip(words, stems))
        # Typo searches are the costly part: a reading that could not win even if every word it has not
        # placed were a perfect typo is not searched ("kakie" typed on the Russian layout is "лфлшу").
        bounds = [self._familiarity_bounds(stems) for stems in stemmed]
        floor = max(low for low, _ in bounds)
        best: list[tuple[str, str]] = []
        best_score = -1.0
        for words, stems, (_, high) in zip(options, stemmed, bounds):
            if high < floor - 1e-9:
                continue
            score = self._familiarity(stems)
            if score > best_score + 1e-9:
                best, best_score = list(zip(words, stems)), score
        return best

    def _familiarity_bounds(self, stems: list[str]) -> tuple[float, float]:
        """What _familiarity can be, without searching for typos: (at least, at most)."""
        if not stems:
            return -1.0, -1.0
        meaningful = [s for s in stems if s not in self.fillers]
        if not meaningful:
            return 0.5, 0.5
        low = high = 0.0
        for stem in meaningful:
            _, score, final = self.vocabulary.lookup_cheaply(stem)
            low += score
            high += score if final else max(score, FUZZY_BEST)
        return low / len(meaningful), high / len(meaningful)

    def _familiarity(self, stems: list[str]) -> float:
        if not stems:
            return -1.0
        meaningful = [s for s in stems if s not in self.fillers]
        if not meaningful:
            return 0.5  # only filler words: a plausible reading, nothing more
        return sum(self.lookup(s)[1] for s in meaningful) / len(meaningful)

    def _votes(self, question: str, readings: list[list[list[str]]]) -> tuple[str, bool]:
        if textnorm.has_kazakh_letters(question):
            return "kk", True
        votes = {"ru": 0, "kk": 0}
        for options in readings:
            for words in options:
                for word in words:
                    folded = textnorm.fold(word)
                    for lang in votes:
                        votes[lang] += folded in self.lang_words[lang]
        return ("kk" if votes["kk"] > votes["ru"] else "ru"), votes["kk"] != votes["ru"]


def _readings(question: str) -> list[list[list[str]]]:
    """Per raw word of the question: its possible readings, as token lists (one unless it is Latin)."""
    return [[textnorm.tokens(r) for r in textnorm.latin_readings(word)] if textnorm.is_latin(word)
            else [textnorm.tokens(word)] for word in textnorm.raw_words(question)]
