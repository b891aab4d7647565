"""The Matcher: one knowledge base's index, and a citizen's question in, a Decision out."""

from __future__ import annotations

import weakref
from dataclasses import replace
from functools import lru_cache

from bot import wordinfo
from bot.knowledge import KnowledgeBase
from bot.matching import ranking
from bot.matching.index import build_index
from bot.matching.policy import DEFAULT_THRESHOLDS, Action, Candidate, Decision, Term, Thresholds, decide

MAX_QUESTION = 4096  # characters of a question that are read
DECISION_CACHE = 4096  # questions remembered with their decision: the popular ones come again and again
UNKNOWN_WEIGHT = 1.0  # a word the knowledge base never uses weighs as much as the rarest one (before wordinfo)


class Matcher:
    """An index over one knowledge base. Build once per knowledge base; `match` is safe to call concurrently."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> None:
        self.kb = kb
        self.thresholds = thresholds
        self.index = build_index(kb)
        self._decide = _decisions(self)

    # A built matcher pickles (bot.index_cache keeps one on disk); its cache of decisions is made anew.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_decide")
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._decide = _decisions(self)

    @property
    def _reader(self):
        return self.index.reader

    def read(self, question: str, lang: str | None = None) -> tuple[list[tuple[str, str]], str]:
        """The question as (typed word, stem) pairs, Latin words resolved; and its language."""
        return self._reader.read(question, lang)

    def language(self, question: str) -> tuple[str, bool]:
        """The question's language, and whether the question itself says so (see Reader.language)."""
        return self._reader.language(question)

    def meaningful_stems(self, question: str) -> set[str]:
        """The question's stems as the matcher reads them, without filler words (for grouping questions)."""
        pairs, _ = self._reader.read(question)
        return {stem for _, stem in pairs if stem not in self._reader.fillers}

    def terms(self, question: str) -> tuple[list[Term], str]:
        """The question's meaningful words, each mapped onto the vocabulary and weighed; and its language."""
        terms, lang, _ = self._terms(question)
        return terms, lang

    def _terms(self, question: str) -> tuple[list[Term], str, bool]:
        reader, weight_of = self._reader, self.index.weight_of
        pairs, lang, stated = reader.read_stating(question)
        pairs = reader.join_negations(pairs, lang, wordinfo.is_russian_word)
        mapped = []
        for word, stem in pairs:
            key, similarity = reader.lookup(stem)
            mapped.append((word, key if similarity > 0 else stem, similarity))
        result: list[Term] = []
        seen: dict[str, int] = {}
        for word, key, similarity in reader.fold(mapped):
            if key in reader.fillers or (key.isdigit() and similarity == 0):
                continue  # function words; numbers the knowledge base never uses (years, amounts) say nothing
            weight = weight_of(key) if similarity > 0 else None
            known = weight is not None
            # A word the knowledge base never uses: evidence that the question is about something else,
            # as much as the rarest word unless the language at large says it is a common grammar word.
            if weight is None:
                weight = UNKNOWN_WEIGHT * (wordinfo.unknown_weight(word) if lang == "ru" else 1.0)
            if key in seen:  # a word said twice counts once, at its best reading
                if similarity > result[seen[key]].similarity:
                    result[seen[key]] = Term(word, key, similarity, weight, known)
                continue
            seen[key] = len(result)
            result.append(Term(word, key, similarity, weight, known))
        return result, lang, stated

    def rank(self, terms: list[Term], *, leave_out: int | None = None, limit: int = 10) -> list[Candidate]:
        """The `limit` best entries, best first (see bot.matching.ranking)."""
        return ranking.rank(self.index, terms, leave_out=leave_out, limit=limit)

    def match(self, question: str) -> Decision:
        """Decide what to do with a question. Never raises on text; no words means no match. A Decision is
        immutable: the same question asked again gets the same one, from a cache."""
        if not isinstance(question, str):
            question = "" if question is None else str(question)
        return self._decide(question[:MAX_QUESTION])

    def match_afresh(self, question: str) -> Decision:
        """match() without the cache of decisions (what benchmarks time)."""
        terms, lang, stated = self._terms(question[:MAX_QUESTION])
        if not terms:
            return Decision(Action.ESCALATE, lang, (), None, "no-words", (), stated)
        return replace(decide(self.rank(terms), lang, tuple(terms), self.thresholds), lang_stated=stated)

    def documents(self) -> list[tuple[int, str, str]]:
        """(document number, entry id, text) of every indexed variant and title: for calibration."""
        index = self.index
        return [(doc_id, index.entry_ids[entry], index.doc_text[doc_id]) for doc_id, entry in enumerate(index.doc_entry.tolist())]


def _decisions(matcher: Matcher):
    """The matcher's cache of decisions. It holds the matcher weakly: a cache holding its own matcher would be a
    reference cycle, and a dropped matcher (a reload, a benchmark's scale) would wait for the garbage
    collector with its whole index (170 MiB at x100) instead of going at once."""
    ref = weakref.ref(matcher)

    def decide(question: str) -> Decision:
        return ref().match_afresh(question)

    return lru_cache(maxsize=DECISION_CACHE)(decide)
